"""Previews made from evidence, so a worker need not see the material.

Three levels, each further from the original than the reveal (:class:`PreviewLevel`):

- ``blur`` (the default): the picture (an image, or a video's first decodable frame) turned
  grey, shrunk so its longer side is 24 pixels, blurred there, scaled up and blurred again:
  shapes and tones remain, nothing recognisable does.
- ``colour``: the same in colour from 32 pixels: where colours sit, still no detail.
- ``outline``: the main edges of a 64-pixel grey copy, drawn as dark lines on white: the
  layout of the scene without tones, skin or colour.

Each starts from a small picture (``small_picture``, at most :data:`SMALL_LIMIT` pixels a
side, so no level can carry more than that much of the original); the finishing is done in
this process. Previews are made in memory for each request and never written to disk.
"""

from __future__ import annotations

import enum
import io
from dataclasses import dataclass
from typing import Final

import av
import numpy as np
from PIL import Image, ImageFilter

from stopspread.errors import EvidenceError, MediaError
from stopspread.hashing.decode import DecodeLimits, load, open_image

__all__ = [
    "OUT_WIDTH",
    "SMALL_LIMIT",
    "SMALL_SIDE",
    "PreviewLevel",
    "blur_up",
    "blurred_preview",
    "finish",
    "first_frame",
    "picture",
    "preview",
    "small_grey",
    "small_picture",
]

SMALL_SIDE: Final = 24  # pixels on the longer side before blurring (the ``blur`` level)
SMALL_LIMIT: Final = 64  # no level starts from more pixels a side than this
OUT_WIDTH: Final = 240  # the preview's width
MAX_PACKETS: Final = 300  # packets read while looking for a video's first frame
LIMITS: Final = DecodeLimits(max_bytes=200 * 1024 * 1024, max_pixels=40_000_000)
EDGE_SHARE: Final = 0.18  # the outline keeps the strongest 18 % of edge pixels as lines


class PreviewLevel(enum.StrEnum):
    """How much of the picture a preview keeps; every level is far from the original."""

    BLUR = "blur"  # grey, 24 px, blurred twice
    COLOUR = "colour"  # colour, 32 px, blurred twice
    OUTLINE = "outline"  # the strongest edges of a 64 px grey copy, as lines on white


@dataclass(frozen=True, slots=True)
class _Recipe:
    side: int  # pixels on the longer side of the small picture
    mode: str  # PIL mode of the small picture: "L" or "RGB"


RECIPES: Final = {
    PreviewLevel.BLUR: _Recipe(SMALL_SIDE, "L"),
    PreviewLevel.COLOUR: _Recipe(32, "RGB"),
    PreviewLevel.OUTLINE: _Recipe(SMALL_LIMIT, "L"),
}


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


def small_picture(
    data: bytes, content_type: str, level: PreviewLevel = PreviewLevel.BLUR
) -> Image.Image:
    """The picture in the level's mode, shrunk so its longer side is the level's size."""
    recipe = RECIPES[level]
    image = picture(data, content_type).convert(recipe.mode)
    width, height = image.size
    scale = recipe.side / max(width, height, 1)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, Image.Resampling.BOX)


def small_grey(data: bytes, content_type: str) -> Image.Image:
    """The picture in greyscale, shrunk so its longer side is :data:`SMALL_SIDE` pixels."""
    return small_picture(data, content_type, PreviewLevel.BLUR)


def _check_small(small: Image.Image, level: PreviewLevel) -> None:
    recipe = RECIPES[level]
    if small.mode != recipe.mode or max(small.size) > recipe.side:
        raise EvidenceError(f"a {level.value} preview starts from a small picture")


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def _blur_twice(small: Image.Image, first: float, second: float) -> bytes:
    small = small.filter(ImageFilter.GaussianBlur(first))
    out_height = max(1, round(OUT_WIDTH * small.height / small.width))
    big = small.resize((OUT_WIDTH, out_height), Image.Resampling.BILINEAR)
    return _png(big.filter(ImageFilter.GaussianBlur(second)))


def blur_up(small: Image.Image) -> bytes:
    """Blur a small greyscale picture, scale it to :data:`OUT_WIDTH`, blur again; a PNG."""
    _check_small(small, PreviewLevel.BLUR)
    return _blur_twice(small, 2, OUT_WIDTH / 40)


def _outline_up(small: Image.Image) -> bytes:
    """The strongest edges of a small grey picture as dark lines on white, scaled up."""
    smooth = small.filter(ImageFilter.GaussianBlur(1.5))  # also drops aliased fine patterns
    edges = np.asarray(smooth.filter(ImageFilter.FIND_EDGES), dtype=np.float64)
    edges[0, :] = edges[-1, :] = edges[:, 0] = edges[:, -1] = 0  # no frame around the picture
    cut = max(float(np.quantile(edges, 1 - EDGE_SHARE)), 4.0)
    lines = np.where(edges > cut, 40, 255).astype(np.uint8)
    out_height = max(1, round(OUT_WIDTH * small.height / small.width))
    big = Image.fromarray(lines, "L").resize((OUT_WIDTH, out_height), Image.Resampling.NEAREST)
    return _png(big.filter(ImageFilter.GaussianBlur(1)))


def finish(small: Image.Image, level: PreviewLevel) -> bytes:
    """Turn a level's small picture into its preview PNG (checked: mode and size)."""
    _check_small(small, level)
    if level is PreviewLevel.BLUR:
        return blur_up(small)
    if level is PreviewLevel.COLOUR:
        return _blur_twice(small, 1.5, OUT_WIDTH / 48)
    return _outline_up(small)


def preview(
    data: bytes,
    content_type: str,
    level: PreviewLevel = PreviewLevel.BLUR,
    *,
    sandboxed: bool = True,
) -> bytes:
    """A preview PNG at ``level``.

    Images are decoded here, under the hashing package's byte and pixel caps (as the
    service's own image endpoints do). Videos, with ``sandboxed`` (the default), are decoded
    in a limited child process (:mod:`stopspread.evidence._preview_child`): hostile media
    may crash or stall FFmpeg there, not here. The child only hands back the level's small
    picture; the finishing is done here, so even a child taken over cannot send back a
    sharp image.
    """
    if not sandboxed or not content_type.lower().startswith("video/"):
        return finish(small_picture(data, content_type, level), level)
    from stopspread.evidence._preview_child import small_in_child

    return finish(small_in_child(data, content_type, level), level)


def blurred_preview(data: bytes, content_type: str, *, sandboxed: bool = True) -> bytes:
    """A PNG: greyscale, shrunk, heavily blurred, scaled back up (the ``blur`` level)."""
    return preview(data, content_type, PreviewLevel.BLUR, sandboxed=sandboxed)
