"""From an image file to PDQ: the reference pipeline and the fast one.

Reference (= Meta's C++ and the WASM build StopNCII's browser tool uses):
decode fully, convert to RGB, and if either side is over 512 pixels, resample
to exactly 512x512 by nearest neighbour taking source column
``floor(x * W / 512)`` (rows likewise); then PDQ of those pixels.

Fast (for scanning, where exact interoperability is not needed): JPEGs are
decoded at a reduced size by libjpeg's DCT scaling (``Image.draft``), which
skips most of the decoding work; then the same steps. ``bench/hashing.py``
measures how many bits this moves.
"""

from __future__ import annotations

from enum import Enum
from typing import Final

import numpy as np
from PIL import Image

from stopspread.hashing.decode import load, to_rgb
from stopspread.hashing.pdq import Dct16, Pixels, dct_from_pixels

__all__ = [
    "FAST_DRAFT_SIDE",
    "PREDOWNSAMPLE_SIDE",
    "Pipeline",
    "dct_for_image",
    "draft_size",
    "pixels_for_pdq",
]

PREDOWNSAMPLE_SIDE: Final = 512  # reference C++/WASM: nearest-neighbour to 512x512 above this
# Fast pipeline: let libjpeg scale down (by 2, 4 or 8) while the short side stays at least
# this large, so the 512x512 nearest-neighbour step still only ever drops pixels. Measured
# on real photos (bench/hashing.py): 256 drifts ~7 bits on average, 512 drifts ~2.
FAST_DRAFT_SIDE: Final = PREDOWNSAMPLE_SIDE
# Below this short side a full decode is already cheap, so the fast pipeline equals the
# reference (no drift at all for small images).
FAST_MIN_SHORT_SIDE: Final = 2 * PREDOWNSAMPLE_SIDE
# Keeps floor() on the right side of exact integers in Pillow's affine sampling;
# any value below 1/512 works because sample positions are multiples of 1/512.
_SAMPLE_EPSILON: Final = 1e-3


class Pipeline(Enum):
    """How an image is decoded before hashing."""

    REFERENCE = "reference"
    FAST = "fast"


def nearest_512(image: Image.Image) -> Image.Image:
    """Resample to 512x512 taking source pixel ``floor(x * W / 512)``, like the reference."""
    width, height = image.size
    sx, sy = width / PREDOWNSAMPLE_SIDE, height / PREDOWNSAMPLE_SIDE
    # Pillow samples at (x + 0.5) * scale + offset; shift by half a step to sample at x * scale.
    coefficients = (sx, 0.0, -0.5 * sx + _SAMPLE_EPSILON, 0.0, sy, -0.5 * sy + _SAMPLE_EPSILON)
    size = (PREDOWNSAMPLE_SIDE, PREDOWNSAMPLE_SIDE)
    return image.transform(size, Image.Transform.AFFINE, coefficients, Image.Resampling.NEAREST)


def draft_size(size: tuple[int, int], short_side: int = FAST_DRAFT_SIDE) -> tuple[int, int] | None:
    """The size to ask libjpeg for so that its short side stays at least ``short_side``
    (the fast pipeline's by default; ``None``: decode fully, as libjpeg can only halve
    a side that is at least twice ``short_side``)."""
    width, height = size
    short = min(width, height)
    if short < 2 * short_side:
        return None
    scale = short / short_side
    return (max(1, int(width / scale)), max(1, int(height / scale)))


def prepare(image: Image.Image, pipeline: Pipeline) -> None:
    """Before decoding: ask libjpeg for a reduced size when the fast pipeline allows it."""
    if pipeline is Pipeline.FAST and image.format in ("JPEG", "MPO"):
        size = draft_size(image.size)
        if size is not None:
            image.draft("RGB", size)


def pixels_for_pdq(image: Image.Image, pipeline: Pipeline = Pipeline.REFERENCE) -> Pixels:
    """Decode (if not yet decoded) and return the RGB pixels PDQ is computed on."""
    prepare(image, pipeline)
    rgb = to_rgb(load(image))
    if rgb.width > PREDOWNSAMPLE_SIDE or rgb.height > PREDOWNSAMPLE_SIDE:
        rgb = nearest_512(rgb)
    return np.asarray(rgb, dtype=np.uint8)


def dct_for_image(image: Image.Image, pipeline: Pipeline = Pipeline.REFERENCE) -> tuple[Dct16, int]:
    """The 16x16 DCT and quality of a (possibly not yet decoded) Pillow image.

    Pillow resamples to 512x512 before the pixels are copied out, so a large image
    is never copied whole (measured faster than resampling in the core from 1 MP up).
    """
    return dct_from_pixels(pixels_for_pdq(image, pipeline))
