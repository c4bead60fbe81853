"""Hostile and broken input: every case is a typed error, fast, with bounded memory."""

from __future__ import annotations

import contextlib
import struct
import time
import tracemalloc
import zlib

import numpy as np
import pytest
from PIL import Image

from stopspread.errors import (
    CorruptMediaError,
    MediaError,
    MediaTooLargeError,
    UnsupportedMediaError,
)
from stopspread.hashing import DecodeLimits, hash_image
from stopspread.hashing.decode import to_rgb

from ..conftest import encode, synthetic_rgb


def png_header_only(width: int, height: int, depth: int = 8, colour: int = 2) -> bytes:
    """A PNG whose IHDR claims a size, followed by a tiny (too short) IDAT."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def gif_header_only(width: int, height: int) -> bytes:
    screen = b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0)
    frame = b"," + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x4c\x01\x00"
    return screen + frame + b";"


def bmp_header_only(width: int, height: int) -> bytes:
    header = struct.pack("<2sIHHI", b"BM", 54, 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return header + info


BOMBS = [
    png_header_only(w, h, d, c)
    for (w, h) in [(100_000, 100_000), (50_000, 2_000), (2_000_000, 100), (65_535, 65_535)]
    for (d, c) in [(8, 2), (8, 0), (16, 2), (1, 0), (8, 6)]
] + [gif_header_only(w, h) for w in (65_535, 20_000) for h in (65_535, 9_000)]
BOMBS += [bmp_header_only(w, h) for w, h in [(100_000, 100_000), (40_000, 40_000), (10**6, 200)]]


def test_at_least_twenty_bombs() -> None:
    assert len(BOMBS) >= 20


@pytest.mark.parametrize("data", BOMBS, ids=range(len(BOMBS)))
def test_decompression_bombs_are_refused_fast_with_little_memory(data: bytes) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(MediaTooLargeError):
            hash_image(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 5  # generous: the real figure is milliseconds
    assert peak < 100 * 1024 * 1024


def test_pixel_cap_is_configurable() -> None:
    data = encode(synthetic_rgb(200, 100))
    with pytest.raises(MediaTooLargeError, match="20,000 pixels"):
        hash_image(data, limits=DecodeLimits(max_pixels=10_000))


def test_byte_cap_on_files_and_bytes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = encode(synthetic_rgb(200, 100))
    path = tmp_path / "a.jpg"
    path.write_bytes(data)
    small = DecodeLimits(max_bytes=100)
    for source in (data, path):
        with pytest.raises(MediaTooLargeError):
            hash_image(source, limits=small)


@pytest.mark.parametrize(
    "data",
    [b"", b"hello, world", b"%PDF-1.4 not an image", bytes(range(256)) * 10],
    ids=["empty", "text", "pdf", "noise"],
)
def test_non_images_are_unsupported(data: bytes) -> None:
    with pytest.raises(UnsupportedMediaError):
        hash_image(data)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF"])
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9])
def test_truncated_files_are_corrupt_not_crashes(fmt: str, keep: float) -> None:
    data = encode(synthetic_rgb(300, 200), fmt)
    cut = data[: max(16, int(len(data) * keep))]
    with pytest.raises(MediaError):
        hash_image(cut)


def test_random_byte_flips_never_escape_as_untyped_errors() -> None:
    rng = np.random.default_rng(7)
    originals = [
        encode(synthetic_rgb(120, 90, seed=s), f) for s, f in enumerate(["JPEG", "PNG", "GIF"])
    ]
    for i in range(300):
        data = bytearray(originals[i % 3])
        for pos in rng.integers(0, len(data), size=rng.integers(1, 8)):
            data[pos] = rng.integers(0, 256)
        with contextlib.suppress(MediaError):
            hash_image(bytes(data))


def test_missing_file_and_folder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MediaError):
        hash_image(tmp_path / "nope.jpg")
    with pytest.raises(UnsupportedMediaError):
        hash_image(tmp_path)


@pytest.mark.parametrize(
    "mode", ["1", "L", "LA", "P", "PA", "RGBA", "CMYK", "YCbCr", "I", "F", "I;16"]
)
def test_every_mode_converts_to_rgb(mode: str) -> None:
    img = Image.fromarray(synthetic_rgb(64, 48)).convert(mode if mode != "I;16" else "I")
    if mode == "I;16":
        wide = np.asarray(img).astype("<u2") * 256
        img = Image.frombytes("I;16", img.size, wide.tobytes())
    rgb = to_rgb(img)
    assert rgb.mode == "RGB"
    assert rgb.size == (64, 48)


def test_corrupt_error_is_raised_for_broken_pixel_data() -> None:
    data = bytearray(encode(synthetic_rgb(300, 200), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 8 : idat + 40] = b"\xff" * 32  # garbage in the compressed stream
    with pytest.raises(CorruptMediaError):
        hash_image(bytes(data))
