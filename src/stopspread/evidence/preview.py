"""Blurred, greyscale previews made from evidence, so a worker need not see the material.

The picture (an image, or a video's first decodable frame) is turned grey, shrunk so its
longer side is :data:`SMALL_SIDE` pixels, blurred there, scaled up and blurred again: shapes
and tones remain, nothing recognisable does. Previews are made in memory for each request
and never written to disk.
"""

from __future__ import annotations

import io
from typing import Final

import av
from PIL import Image, ImageFilter

from stopspread.errors import EvidenceError, MediaError
from stopspread.hashing.decode import DecodeLimits, load, open_image

__all__ = [
    "OUT_WIDTH",
    "SMALL_SIDE",
    "blur_up",
    "blurred_preview",
    "first_frame",
    "picture",
    "small_grey",
]

SMALL_SIDE: Final = 24  # pixels on the longer side before blurring (≤ 64)
OUT_WIDTH: Final = 240  # the preview's width
MAX_PACKETS: Final = 300  # packets read while looking for a video's first frame
LIMITS: Final = DecodeLimits(max_bytes=200 * 1024 * 1024, max_pixels=40_000_000)


def first_frame(data: bytes) -> Image.Image:
    """The first frame FFmpeg can decode, as an RGB image."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise EvidenceError("no video stream")
            stream = container.streams.video[0]
            for count, packet in enumerate(container.demux(stream)):
                if count >= MAX_PACKETS:
                    break
                for frame in packet.decode():
                    if frame.width * frame.height > LIMITS.max_pixels:
                        raise EvidenceError("the video frame is too large")
                    return Image.fromarray(frame.to_ndarray(format="rgb24"))
    except av.FFmpegError as exc:
        raise EvidenceError(f"the video does not decode: {type(exc).__name__}") from exc
    raise EvidenceError("no decodable video frame")


def picture(data: bytes, content_type: str) -> Image.Image:
    """The image itself, or a video's first frame."""
    if content_type.lower().startswith("video/"):
        return first_frame(data)
    try:
        return load(open_image(data, LIMITS))
    except MediaError as exc:
        raise EvidenceError(f"the image does not decode: {exc}") from exc


def small_grey(data: bytes, content_type: str) -> Image.Image:
    """The picture in greyscale, shrunk so its longer side is :data:`SMALL_SIDE` pixels."""
    image = picture(data, content_type).convert("L")
    width, height = image.size
    scale = SMALL_SIDE / max(width, height, 1)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, Image.Resampling.BOX)


def blur_up(small: Image.Image) -> bytes:
    """Blur a small greyscale picture, scale it to :data:`OUT_WIDTH`, blur again; a PNG."""
    if small.mode != "L" or max(small.size) > SMALL_SIDE:
        raise EvidenceError("a preview starts from a small greyscale picture")
    small = small.filter(ImageFilter.GaussianBlur(2))
    out_height = max(1, round(OUT_WIDTH * small.height / small.width))
    big = small.resize((OUT_WIDTH, out_height), Image.Resampling.BILINEAR)
    big = big.filter(ImageFilter.GaussianBlur(OUT_WIDTH / 40))
    buf = io.BytesIO()
    big.save(buf, "PNG")
    return buf.getvalue()


def blurred_preview(data: bytes, content_type: str, *, sandboxed: bool = True) -> bytes:
    """A PNG: greyscale, shrunk, heavily blurred, scaled back up.

    Images are decoded here, under the hashing package's byte and pixel caps (as the
    service's own image endpoints do). Videos, with ``sandboxed`` (the default), are decoded
    in a limited child process (:mod:`stopspread.evidence._preview_child`): hostile media
    may crash or stall FFmpeg there, not here. The child only hands back the small grey
    picture; the blurring is done here, so even a child taken over cannot send back a
    sharp image.
    """
    if not sandboxed or not content_type.lower().startswith("video/"):
        return blur_up(small_grey(data, content_type))
    from stopspread.evidence._preview_child import small_grey_in_child

    return blur_up(small_grey_in_child(data, content_type))
