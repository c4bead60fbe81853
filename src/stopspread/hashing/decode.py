"""Opening untrusted images safely: byte and pixel caps, typed errors, RGB.

Nothing here trusts the input: the byte cap is checked before reading, the
pixel cap from the header before decoding, and any decoder failure becomes a
:class:`~stopspread.errors.MediaError`, never an uncaught exception.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

import numpy as np
from PIL import Image, UnidentifiedImageError

from stopspread.errors import (
    CorruptMediaError,
    MediaError,
    MediaTooLargeError,
    UnsupportedMediaError,
)

__all__ = [
    "ALLOWED_FORMATS",
    "DEFAULT_LIMITS",
    "DecodeLimits",
    "ImageSource",
    "MiB",
    "check_pixels",
    "load",
    "open_image",
    "open_source",
    "read_capped",
    "read_file",
    "to_rgb",
]

ImageSource = str | Path | bytes | bytearray | memoryview | Image.Image

MiB: Final = 1024 * 1024
# Formats we decode. Fewer decoders means less attack surface for hostile files.
ALLOWED_FORMATS: Final = ("JPEG", "MPO", "PNG", "GIF", "WEBP", "BMP", "TIFF", "PPM", "AVIF")


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    """Caps applied before any decoding.

    ``max_pixels`` defaults to Pillow's own decompression-bomb threshold
    (~89.5 MP, e.g. 10,000 x 8,947): larger images are refused from the
    header alone, before a byte of pixel data is decoded.
    """

    max_bytes: int = 100 * MiB
    max_pixels: int = 89_478_485
    # refuse a JPEG without its end marker after the image data, a PNG without IEND
    # (decoders pad such files silently); on for uploads from outside (``/v1/hash``)
    require_complete: bool = False

    def __post_init__(self) -> None:
        if self.max_bytes <= 0 or self.max_pixels <= 0:
            raise ValueError("decode limits must be positive")


DEFAULT_LIMITS: Final = DecodeLimits()


def read_capped(stream: BinaryIO, limits: DecodeLimits) -> bytes:
    """Read a whole stream, refusing more than ``limits.max_bytes``."""
    data = stream.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise MediaTooLargeError(f"file is larger than the {limits.max_bytes:,}-byte limit")
    return data


def read_file(path: Path, limits: DecodeLimits) -> bytes:
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise MediaTooLargeError(
                f"file is {size:,} bytes, over the {limits.max_bytes:,}-byte limit"
            )
        with path.open("rb") as fh:
            return read_capped(fh, limits)
    except IsADirectoryError:
        raise UnsupportedMediaError("is a directory") from None
    except OSError as exc:
        raise MediaError(exc.strerror or str(exc)) from None


def open_image(data: bytes, limits: DecodeLimits = DEFAULT_LIMITS) -> Image.Image:
    """Identify ``data`` and check its size from the header. Pixels are not decoded yet."""
    if not data:
        raise UnsupportedMediaError("file is empty")
    if len(data) > limits.max_bytes:
        raise MediaTooLargeError(f"data is larger than the {limits.max_bytes:,}-byte limit")
    try:
        # Pillow warns above ~89 MP and refuses above twice that; where warnings
        # are errors the warning arrives here as an exception. Either way our own
        # cap (checked next) decides.
        image = Image.open(io.BytesIO(data), formats=_available_formats())
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaTooLargeError("image has too many pixels (decompression bomb?)") from None
    except UnidentifiedImageError:
        raise UnsupportedMediaError("not an image in a supported format") from None
    except Exception as exc:  # any parser failure on hostile input is a typed error
        raise CorruptMediaError(f"unreadable image header: {exc}") from None
    check_pixels(image.size, limits)
    if limits.require_complete:
        check_complete(data, image.format)
    return image


def check_complete(data: bytes, fmt: str | None) -> None:
    """Refuse a JPEG or PNG whose end is missing (a truncated file)."""
    if fmt in ("JPEG", "MPO"):
        scan = data.find(b"\xff\xda")
        if scan < 0 or data.rfind(b"\xff\xd9") < scan:
            raise CorruptMediaError("image data is truncated: no end of image after the scan")
    elif fmt == "PNG" and data.rfind(b"IEND") < 0:
        raise CorruptMediaError("image data is truncated: no IEND chunk")


def _available_formats() -> tuple[str, ...]:
    Image.init()  # registers every plugin once; cheap after the first call
    return tuple(f for f in ALLOWED_FORMATS if f in Image.OPEN)


def open_source(source: ImageSource, limits: DecodeLimits) -> tuple[Image.Image, bytes | None]:
    """A path, the file's bytes or a Pillow image, opened (not yet decoded) and size-checked.

    Returns the image and the file bytes (``None`` for a Pillow image), for digests.
    """
    if isinstance(source, Image.Image):
        check_pixels(source.size, limits)
        return source, None
    data = read_file(Path(source), limits) if isinstance(source, str | Path) else bytes(source)
    return open_image(data, limits), data


def check_pixels(size: tuple[int, int], limits: DecodeLimits) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise CorruptMediaError(f"image has an empty size {width}x{height}")
    if width * height > limits.max_pixels:
        raise MediaTooLargeError(
            f"image is {width}x{height} = {width * height:,} pixels, "
            f"over the {limits.max_pixels:,}-pixel limit"
        )


def load(image: Image.Image) -> Image.Image:
    """Decode the pixels, turning every decoder failure into a typed error."""
    try:
        image.load()
    except MediaError:
        raise
    except Exception as exc:  # truncated data, bad chunks, decoder errors
        raise CorruptMediaError(f"image data is truncated or damaged: {exc}") from None
    return image


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any mode to 8-bit RGB, the way the reference pipeline sees pixels.

    Palette images go through RGBA so that palette transparency does not make
    Pillow warn; 16-bit and 32-bit greys keep their top 8 bits of range
    (``I;16``) or are clipped to 0-255 (``I``, ``F``), as Pillow does for L.
    """
    mode = image.mode
    if mode == "RGB":
        return image
    try:
        if mode in ("P", "PA"):
            return image.convert("RGBA").convert("RGB")
        if mode.startswith("I;16"):
            grey = (np.asarray(image).astype(np.uint32) >> 8).astype(np.uint8)
            return Image.fromarray(grey, mode="L").convert("RGB")
        if mode in ("I", "F"):
            grey = np.clip(np.asarray(image), 0, 255).astype(np.uint8)
            return Image.fromarray(grey, mode="L").convert("RGB")
        return image.convert("RGB")
    except Exception as exc:
        raise UnsupportedMediaError(f"cannot convert image mode {mode} to RGB: {exc}") from None
