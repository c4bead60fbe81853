"""Geometry for signal-set variants: uniform-border trimming, crop windows, rotations.

Everything here works on a decoded RGB Pillow image and returns a new Pillow
image (or a box); PDQ itself is computed by the caller through the reference
pipeline, so every variant is a plain PDQ hash that any PDQ system can match.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image

from stopspread.hashing.dihedral import Dihedral
from stopspread.hashing.image import PREDOWNSAMPLE_SIDE
from stopspread.hashing.pdq import Pixels

__all__ = [
    "content_box",
    "crop_window",
    "pdq_pixels",
    "rotate",
    "rotate_fill",
    "sample_box",
    "small_array",
    "small_from_copy",
    "trim_box",
    "turn",
    "working_copy",
]

Box = tuple[int, int, int, int]  # left, upper, right, lower (Pillow's crop box)

# A pixel belongs to a flat band when every channel is within this many luma levels of
# the band's median: wide enough for JPEG ringing at quality 20, narrow enough that
# real photo texture (skin, foliage, sky noise) is not mistaken for a border.
FLAT_TOLERANCE_LEVELS: Final = 14
# Screen UI (bars, margins, separators) is drawn flat; a photo's soft background (bokeh,
# sky) is not flat to within this many levels across a whole row, so it is not cut.
UI_TOLERANCE_LEVELS: Final = 4
# A row/column is a border when at least this share of its pixels is flat. Below 1.0 so
# that a watermark, a status-bar clock or a few icon pixels do not stop the trimming.
BORDER_SHARE: Final = 0.92
# Trimming that leaves less than this share of either side is refused: the image is
# then mostly flat (a logo, a cut-out on a plain ground) and the whole image is used.
MIN_KEPT_SIDE: Final = 0.30
# Border detection runs on a copy whose long side is at most this many pixels: a few ms,
# and precise to 1/512 of the side. A box found at 256 px was off by enough (PDQ moves
# ~16 bits per 1 % cut) to lose 2-3 points of screenshot and border recall.
DETECT_SIDE_PX: Final = 512
# Keeps floor() on the right side of exact integers in Pillow's nearest-neighbour affine
# sampling (as in ``image.nearest_512``): sample positions are multiples of 1/512.
_SAMPLE_EPSILON: Final = 1e-3
# Rotated variants are made on a copy with this long side: PDQ sees at most 512x512 and
# then blurs with a 4-pixel tent, so nothing it uses is lost, and a rotation costs ~2 ms.
WORK_SIDE_PX: Final = 512


# Each turn as (swap axes, flip rows, flip columns): turned = swap(flip(pixels)), the same
# pixels as Pillow's transposes (tests/hashing/test_signals.py checks it).
_TURN_SPEC: Final = {
    Dihedral.ORIGINAL: (False, False, False),
    Dihedral.ROTATE_90: (True, False, True),
    Dihedral.ROTATE_180: (False, True, True),
    Dihedral.ROTATE_270: (True, True, False),
    Dihedral.FLIP_X: (False, True, False),
    Dihedral.FLIP_Y: (False, False, True),
    Dihedral.FLIP_PLUS_1: (True, False, False),
    Dihedral.FLIP_MINUS_1: (True, True, True),
}


def turn(pixels: Pixels, dihedral: Dihedral) -> Pixels:
    """``pixels`` turned as ``dihedral`` says, as a view (no copy)."""
    swap, flip_rows, flip_cols = _TURN_SPEC[dihedral]
    out = pixels[::-1] if flip_rows else pixels
    out = out[:, ::-1] if flip_cols else out
    return out.swapaxes(0, 1) if swap else out


def pdq_pixels(pixels: Pixels, dihedral: Dihedral = Dihedral.ORIGINAL) -> Pixels:
    """What the reference pipeline hashes for ``pixels`` turned as ``dihedral`` says: above
    512 on a side, exactly 512x512 taking source index ``floor(i * n / 512)`` of the turned
    image. Gathered from the unturned rows, so a 12-megapixel image is never copied whole."""
    swap, flip_rows, flip_cols = _TURN_SPEC[dihedral]
    rows, cols = pixels.shape[:2]
    if rows <= PREDOWNSAMPLE_SIDE and cols <= PREDOWNSAMPLE_SIDE:
        return np.ascontiguousarray(turn(pixels, dihedral))
    steps = np.arange(PREDOWNSAMPLE_SIDE)
    turned_rows, turned_cols = (cols, rows) if swap else (rows, cols)
    pick_r = (steps * turned_rows) // PREDOWNSAMPLE_SIDE
    pick_c = (steps * turned_cols) // PREDOWNSAMPLE_SIDE
    src_r, src_c = (pick_c, pick_r) if swap else (pick_r, pick_c)
    src_r = rows - 1 - src_r if flip_rows else src_r
    src_c = cols - 1 - src_c if flip_cols else src_c
    sampled = pixels.take(src_r, axis=0).take(src_c, axis=1)
    return np.ascontiguousarray(sampled.swapaxes(0, 1) if swap else sampled)


def sample_box(image: Image.Image, box: Box) -> Pixels:
    """``pdq_pixels`` of ``box`` of ``image``, read by Pillow from the box's sampled rows and
    columns only: the same pixels, without copying the whole image into an array first
    (for a 12 MP photo that copy alone took longer than every PDQ of the signal set).

    Pillow's nearest-neighbour affine sampling (scale only) takes source index
    ``floor((x + 0.5) * s + c)``; with ``c = left - s / 2 + epsilon`` that is exactly
    ``left + floor(x * width / 512)``, the reference's index, because ``x * width / 512`` is
    a multiple of 1/512 (tests/hashing/test_regions.py checks it pixel for pixel).
    """
    left, upper, right, lower = box
    width, height = right - left, lower - upper
    if width <= PREDOWNSAMPLE_SIDE and height <= PREDOWNSAMPLE_SIDE:
        region = image if box == (0, 0, *image.size) else image.crop(box)
    else:
        sx, sy = width / PREDOWNSAMPLE_SIDE, height / PREDOWNSAMPLE_SIDE
        coefficients = (
            sx, 0.0, left - 0.5 * sx + _SAMPLE_EPSILON,
            0.0, sy, upper - 0.5 * sy + _SAMPLE_EPSILON,
        )  # fmt: skip
        size = (PREDOWNSAMPLE_SIDE, PREDOWNSAMPLE_SIDE)
        region = image.transform(
            size, Image.Transform.AFFINE, coefficients, Image.Resampling.NEAREST
        )
    return np.asarray(region, dtype=np.uint8)


def working_copy(image: Image.Image, side: int = WORK_SIDE_PX) -> Image.Image:
    """``image`` shrunk (box filter) so its long side is at most ``side`` pixels."""
    width, height = image.size
    scale = side / max(width, height)
    if scale >= 1.0:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, Image.Resampling.BOX)


def _flat_share(
    lines: npt.NDArray[np.int16], tolerance: int = FLAT_TOLERANCE_LEVELS
) -> npt.NDArray[np.float64]:
    """For ``(n, length)`` lines of luma: the share of each line's pixels near its median."""
    if lines.shape[0] == 0 or lines.shape[1] == 0:
        return np.ones(lines.shape[0])
    mid = lines.shape[1] // 2
    median = np.partition(lines, mid, axis=1)[:, mid : mid + 1]  # the upper median
    near = np.abs(lines - median) <= tolerance
    share: npt.NDArray[np.float64] = near.mean(axis=1)
    return share


def _edge_run(flags: npt.NDArray[np.bool_]) -> int:
    """How many leading entries of ``flags`` are true."""
    false_at = np.flatnonzero(~flags)
    return int(false_at[0]) if false_at.size else int(flags.size)


def _flat_edge(lines: npt.NDArray[np.int16]) -> int:
    """How many leading ``lines`` are flat borders: ``_edge_run`` of their flags, computed
    a few lines at a time from the edge (a photo without borders stops at its first line)."""
    count, start, step = int(lines.shape[0]), 0, 8
    while start < count:
        chunk = lines[start : start + step]
        run = _edge_run(_flat_share(chunk) >= BORDER_SHARE)
        if run < chunk.shape[0]:
            return int(start + run)
        start, step = start + chunk.shape[0], step * 2
    return count


def _longest_run(flags: npt.NDArray[np.bool_]) -> tuple[int, int]:
    """``(start, stop)`` of the longest run of true entries (``(0, 0)`` when none)."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    starts, stops = edges[::2], edges[1::2]
    if starts.size == 0:
        return 0, 0
    best = int(np.argmax(stops - starts))
    return int(starts[best]), int(stops[best])


def _scaled_box(box: Box, small: tuple[int, int], full: tuple[int, int]) -> Box | None:
    left, upper, right, lower = box
    sx, sy = full[0] / small[0], full[1] / small[1]
    out = (round(left * sx), round(upper * sy), round(right * sx), round(lower * sy))
    kept_w, kept_h = (out[2] - out[0]) / full[0], (out[3] - out[1]) / full[1]
    if kept_w < MIN_KEPT_SIDE or kept_h < MIN_KEPT_SIDE or out == (0, 0, *full):
        return None
    return out


def small_array(image: Image.Image) -> npt.NDArray[np.int16]:
    """The luma border detection looks at (long side at most ``DETECT_SIDE_PX``).

    Luma only: a border and the photo next to it practically never share brightness
    while differing in hue, and one channel is three times less work.
    """
    return small_from_copy(working_copy(image, DETECT_SIDE_PX))


def small_from_copy(copy: Image.Image) -> npt.NDArray[np.int16]:
    """:func:`small_array` from an RGB copy already shrunk to ``DETECT_SIDE_PX``."""
    return np.asarray(copy.convert("L"), dtype=np.int16)


def trim_box(image: Image.Image, small: npt.NDArray[np.int16] | None = None) -> Box | None:
    """The box left after removing flat borders from every edge ("unletterbox").

    ``None`` when there is nothing to trim or trimming would leave too little.
    ``small`` is :func:`small_array` of ``image`` when the caller already has it.
    """
    arr = small_array(image) if small is None else small
    height, width = arr.shape
    top = _flat_edge(arr)
    if top >= height:
        return None
    left = _flat_edge(arr.T)
    if left >= width:
        return None
    bottom, right = _flat_edge(arr[::-1]), _flat_edge(arr.T[::-1])
    box = (left, top, width - right, height - bottom)
    return _scaled_box(box, (width, height), image.size)


def content_box(image: Image.Image, small: npt.NDArray[np.int16] | None = None) -> Box | None:
    """The largest block of non-flat rows and columns: a photo inside a screenshot.

    Unlike :func:`trim_box` this also cuts at flat separators inside the image, so a
    photo between a caption, toolbars and the start of the next post comes out alone.
    """
    arr = small_array(image) if small is None else small
    height, width = arr.shape
    top, bottom = 0, height
    left, right = 0, width
    for _ in range(2):  # rows, then columns inside those rows, twice
        block = arr[top:bottom, left:right]
        r0, r1 = _longest_run(_flat_share(block, UI_TOLERANCE_LEVELS) < BORDER_SHARE)
        top, bottom = top + r0, top + r1
        block = arr[top:bottom, left:right]
        c0, c1 = _longest_run(_flat_share(block.T, UI_TOLERANCE_LEVELS) < BORDER_SHARE)
        left, right = left + c0, left + c1
        if bottom <= top or right <= left:
            return None
        if (c0, c1) == (0, block.shape[1]):
            break  # the columns did not move: a second pass would find the same block
    return _scaled_box((left, top, right, bottom), (width, height), image.size)


def crop_window(size: tuple[int, int], keep: float, anchor: tuple[float, float]) -> Box:
    """A window keeping ``keep`` of each side; ``anchor`` 0 = left/top, 1 = right/bottom."""
    width, height = size
    w, h = max(1, round(width * keep)), max(1, round(height * keep))
    left = round((width - w) * anchor[0])
    upper = round((height - h) * anchor[1])
    return (left, upper, left + w, upper + h)


def fill_scale(size: tuple[int, int], degrees: float) -> float:
    """Largest scale of a same-shaped window that fits inside the rotated image."""
    width, height = size
    c, s = math.cos(math.radians(abs(degrees))), math.sin(math.radians(abs(degrees)))
    return min(width / (width * c + height * s), height / (width * s + height * c))


def rotate(image: Image.Image, degrees: float, *, expand: bool = False) -> Image.Image:
    """Rotate counter-clockwise about the centre, new corners black (the canvas grows to
    hold the whole image when ``expand``)."""
    return image.rotate(degrees, Image.Resampling.BILINEAR, expand=expand)


def rotate_fill(image: Image.Image, degrees: float) -> Image.Image:
    """Rotate counter-clockwise and crop to the largest centred window with no corners
    (what phone editors call "straighten")."""
    box = crop_window(image.size, fill_scale(image.size, degrees), (0.5, 0.5))
    return rotate(image, degrees).crop(box)
