"""Synthetic media for the browser hashing tests: encodings, ICC profiles, videos, headers.

Everything is made in code from ``tests.conftest.synthetic_rgb`` (never a real photograph).
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Any, Final

import numpy as np
from PIL import Image

from tests.conftest import synthetic_rgb

__all__ = [
    "FORMATS",
    "audio_only_mp4",
    "format_sample",
    "icc_profile",
    "png_header_only",
    "scrolling_video",
]

FORMATS: Final[dict[str, tuple[str, str, dict[str, Any]]]] = {
    "progressive.jpg": ("RGB", "JPEG", {"quality": 85, "progressive": True}),
    "grey.jpg": ("L", "JPEG", {"quality": 90}),
    "q50-444.jpg": ("RGB", "JPEG", {"quality": 50, "subsampling": 0}),
    "q90-422.jpg": ("RGB", "JPEG", {"quality": 90, "subsampling": 1}),
    "palette.gif": ("P", "GIF", {}),
    "rgb.bmp": ("RGB", "BMP", {}),
    "grey16.png": ("I;16", "PNG", {}),
    "lossy.webp": ("RGB", "WEBP", {"quality": 80}),
    "lossless.webp": ("RGB", "WEBP", {"lossless": True}),
    "photo.avif": ("RGB", "AVIF", {"quality": 80}),
    "alpha-ramp.png": ("RGBA", "PNG", {}),
    "alpha-ramp.webp": ("RGBA", "WEBP", {"lossless": True}),
}


def format_sample(name: str) -> bytes:
    """The synthetic image ``name`` of FORMATS, encoded."""
    mode, fmt, options = FORMATS[name]
    image = Image.fromarray(synthetic_rgb(640, 520, seed=9))
    if mode == "I;16":  # 16-bit grey; Pillow (and so the reference pipeline) keeps the top byte
        wide = np.asarray(image.convert("L")).astype(np.uint16) * 257 + 100
        image = Image.fromarray(wide.astype(np.uint16))
    elif mode == "RGBA":  # transparent on the left to opaque on the right; Pillow drops alpha
        ramp = np.tile(np.linspace(0, 255, image.width).astype(np.uint8), (image.height, 1))
        image = Image.fromarray(np.dstack([np.asarray(image), ramp]), "RGBA")
    elif mode != "RGB":
        image = image.convert(mode)
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def icc_profile() -> bytes:
    """A valid RGB matrix/TRC ICC profile far from sRGB: linear tone curves, odd primaries."""

    def s15(v: float) -> bytes:
        return struct.pack(">i", round(v * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + bytes(4) + s15(x) + s15(y) + s15(z)

    linear = b"curv" + bytes(4) + struct.pack(">IH", 1, 256) + bytes(2)
    tags = [
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.3851, 0.7169, 0.0971)),
        (b"gXYZ", xyz(0.4361, 0.2225, 0.0139)),
        (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", linear),
        (b"gTRC", linear),
        (b"bTRC", linear),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = struct.pack(">I", len(tags)), b""
    for sig, body in tags:
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body + bytes(-len(body) % 4)
    header = (
        struct.pack(">I", offset + len(data))
        + bytes(4)
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(28)
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + bytes(48)
    )
    return header + table + data


def scrolling_video(path: Path, seconds: int = 6, fps: int = 10) -> None:
    """A synthetic SD clip whose picture moves every frame, so each second is a new frame."""
    import av

    base = synthetic_rgb(320, 240, seed=21)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for n in range(seconds * fps):
            frame = av.VideoFrame.from_ndarray(np.roll(base, 7 * n, axis=1), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def audio_only_mp4() -> bytes:
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=48000)
        for n in range(20):
            samples = np.zeros((1, 1024), dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 48000, n * 1024
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width x height`` pixels (no real pixel data)."""
    ihdr = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    iend = b"IEND"
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", 13)
        + ihdr
        + struct.pack(">I", zlib.crc32(ihdr))
        + struct.pack(">I", 0)
        + iend
        + struct.pack(">I", zlib.crc32(iend))
    )
