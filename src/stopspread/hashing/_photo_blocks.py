"""Rectangles of a screenshot that may be a photo: candidate blocks for a query (issue 14).

``_regions.content_box`` finds a photo between flat bands. In a phone screenshot the photo
often has no flat band next to it: a chat bubble on a patterned wallpaper, a story over a
blurred copy of itself, a gallery viewer with a strip of thumbnails. What such a photo
still has is its own straight edges: a top and a bottom edge (a luma step along a
horizontal run) with the same left and right ends. This module finds those runs, pairs
them into rectangles, and ranks the rectangles by area times the square of the share of
textured pixels inside (a flat bar, a text bubble or a blurred backdrop is not a photo),
keeping only those that stand out from a less textured ring around them.

Query side only (``keypoints.query_keypoint_sets``): nothing enrolled depends on it.
"""

from __future__ import annotations

from typing import Final

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from stopspread.hashing._regions import Box, small_array

__all__ = ["photo_blocks"]

# A horizontal edge: luma changes by more than this many levels between the rows one
# above and one below (on the DETECT_SIDE_PX copy) ...
EDGE_LEVELS: Final = 6
# ... along a run of at least this share of the frame's width, gaps of up to
# _GAP_PX pixels closed (a dark patch of the photo next to a dark background).
MIN_RUN_SHARE: Final = 0.25
_GAP_PX: Final = 15
# Two runs pair into a rectangle when their ends agree to this share of the width.
END_TOLERANCE: Final = 0.03
# A rectangle is a candidate when it covers this share of the frame (a bigger block is
# mostly what the whole image's set already sees) and is not a strip (text bubble, bar).
MIN_SHARE: Final = 0.06
MAX_SHARE: Final = 0.75
MIN_ASPECT: Final = 0.2  # height / width
# A pixel is textured when the luma's standard deviation in its 5 x 5 neighbourhood is
# above this many levels.
TEXTURE_LEVELS: Final = 2.0
# A photo placed in a frame stands out from what is around it: of the pixels in a ring
# _RING_GAP_PX to _RING_PX outside its edges (inside the frame), at most this share is
# textured (a bubble, a bar, a blurred backdrop); a rectangle cut out of a photo by two of
# its own edges is surrounded by more of the photo. Design screenshots: the photo's ring
# has median 0.27 (95th percentile 0.63); rectangles found in plain photos 0.84 (5th 0.64).
MAX_RING_TEXTURE: Final = 0.6
_RING_GAP_PX: Final = 3  # the edge's own step makes the first pixels out textured
_RING_PX: Final = 10
_MAX_RUNS: Final = 160  # longest runs kept for pairing (the pairing is quadratic)
_SAME_RUN_PX: Final = 3  # runs of adjacent rows whose ends agree this closely are one edge


def _edge_runs(luma: npt.NDArray[np.int16]) -> list[tuple[int, int, int]]:
    """``(row, start, stop)`` of the horizontal edges: the row is the first one below it."""
    width = luma.shape[1]
    step = (np.abs(luma[2:] - luma[:-2]) > EDGE_LEVELS).astype(np.uint8)
    closed = cv2.morphologyEx(step, cv2.MORPH_CLOSE, np.ones((1, _GAP_PX), np.uint8)) > 0
    min_run = MIN_RUN_SHARE * width
    padded = np.pad(closed, ((0, 0), (1, 1))).astype(np.int8)
    rows, cols = np.nonzero(np.diff(padded, axis=1))  # row-major: a start, then its stop
    starts, stops, ys = cols[::2], cols[1::2], rows[::2]
    long = stops - starts >= min_run
    found: list[tuple[int, int, int]] = []
    for y, start, stop in zip(
        ys[long].tolist(), starts[long].tolist(), stops[long].tolist(), strict=True
    ):
        last = found[-1] if found else None
        if (
            last is not None
            and y - last[0] <= 2
            and abs(start - last[1]) <= _SAME_RUN_PX
            and abs(stop - last[2]) <= _SAME_RUN_PX
        ):
            continue  # the same edge, one row further (a step spans two rows)
        found.append((y + 1, start, stop))
    if len(found) > _MAX_RUNS:
        found = sorted(found, key=lambda r: r[1] - r[2])[:_MAX_RUNS]
        found.sort()
    return found


def _textured(luma: npt.NDArray[np.int16]) -> npt.NDArray[np.float64]:
    """Integral image of the textured-pixel mask ((h + 1) x (w + 1))."""
    f = luma.astype(np.float32)
    mean = cv2.blur(f, (5, 5))
    var = cv2.blur(f * f, (5, 5)) - mean * mean
    mask = (var > TEXTURE_LEVELS**2).astype(np.uint8)
    return np.asarray(cv2.integral(mask, sdepth=cv2.CV_32S), dtype=np.float64)


def _sums(
    integral: npt.NDArray[np.float64],
    left: npt.NDArray[np.int64],
    top: npt.NDArray[np.int64],
    right: npt.NDArray[np.int64],
    bottom: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Textured pixels and pixels in each box (arrays of edges), clipped to the image."""
    height, width = integral.shape[0] - 1, integral.shape[1] - 1
    left, top = np.maximum(left, 0), np.maximum(top, 0)
    right, bottom = np.minimum(right, width), np.minimum(bottom, height)
    inside = (right > left) & (bottom > top)
    left, top = np.where(inside, left, 0), np.where(inside, top, 0)
    right, bottom = np.where(inside, right, 0), np.where(inside, bottom, 0)
    total = (
        integral[bottom, right]
        - integral[top, right]
        - integral[bottom, left]
        + integral[top, left]
    )
    return total, (right - left) * (bottom - top)


def _ring_shares(
    integral: npt.NDArray[np.float64],
    boxes: tuple[npt.NDArray[np.int64], ...],
) -> npt.NDArray[np.float64]:
    """Share of textured pixels in the ring just outside each box (0 when none of the ring
    is inside the image)."""
    left, top, right, bottom = boxes
    near, far = _RING_GAP_PX, _RING_PX
    parts = [
        _sums(integral, left, top - far, right, top - near),
        _sums(integral, left, bottom + near, right, bottom + far),
        _sums(integral, left - far, top, left - near, bottom),
        _sums(integral, right + near, top, right + far, bottom),
    ]
    textured = sum(t for t, _ in parts)  # whole numbers of pixels: exact in any order
    pixels = sum(n for _, n in parts)
    out: npt.NDArray[np.float64] = np.divide(
        textured, pixels, out=np.zeros(left.size), where=pixels > 0
    )
    return out


def _ranked(luma: npt.NDArray[np.int16]) -> list[tuple[float, Box]]:
    """Every pair of edge runs that bounds a candidate, with its score, best first (ties
    in the order the pairs are enumerated: top run, then bottom run)."""
    height, width = luma.shape
    runs = np.array(_edge_runs(luma), dtype=np.int64).reshape(-1, 3)
    integral = _textured(luma)
    i, j = np.triu_indices(len(runs), 1)  # every pair, top run first, in loop order
    (top, a0, a1), (bottom, b0, b1) = runs[i].T, runs[j].T
    tolerance = END_TOLERANCE * width
    left, right = np.maximum(a0, b0), np.minimum(a1, b1)
    w, h = right - left, bottom - top
    share = w * h / float(width * height)
    ok = (np.abs(a0 - b0) <= tolerance) & (np.abs(a1 - b1) <= tolerance)
    ok &= (h >= MIN_ASPECT * w) & (share >= MIN_SHARE) & (share <= MAX_SHARE)
    boxes = (left[ok], top[ok], right[ok], bottom[ok])
    ring_ok = _ring_shares(integral, boxes) <= MAX_RING_TEXTURE
    boxes = tuple(edge[ring_ok] for edge in boxes)
    textured, _ = _sums(integral, *boxes)
    out: list[tuple[float, Box]] = []
    for box, inside_px in zip(
        zip(*(edge.tolist() for edge in boxes), strict=True), textured.tolist(), strict=True
    ):
        area = (box[2] - box[0]) * (box[3] - box[1])
        inside = inside_px / area
        out.append((area * inside**2, box))
    out.sort(key=lambda c: -c[0])
    return out


def _overlap(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def photo_blocks(
    image: Image.Image,
    limit: int,
    *,
    besides: Box | None = None,
    same_iou: float = 0.8,
    small: npt.NDArray[np.int16] | None = None,
) -> list[Box]:
    """Up to ``limit`` rectangles of ``image`` (full-size pixel boxes), best first, that
    look like a photo placed in the frame; none overlapping ``besides`` (a block the
    caller already has) or each other by ``same_iou`` or more. ``small`` is
    ``_regions.small_array(image)`` when the caller already has it."""
    if limit <= 0:
        return []
    luma = small_array(image) if small is None else small
    height, width = luma.shape
    sx, sy = image.width / width, image.height / height
    kept: list[Box] = []
    for _, (left, top, right, bottom) in _ranked(luma):
        box = (round(left * sx), round(top * sy), round(right * sx), round(bottom * sy))
        others = kept if besides is None else [besides, *kept]
        if any(_overlap(box, other) >= same_iou for other in others):
            continue
        kept.append(box)
        if len(kept) == limit:
            break
    return kept
