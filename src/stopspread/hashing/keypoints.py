"""Content-anchored signals (``ss-kp-1``): ORB keypoints of one image (issue 14).

PDQ of the whole picture or of fixed windows cannot follow a crop, a border or a frame of
unknown size. Keypoints are anchored to the picture's own corners and edges, so both sides
find the same anchors after a crop, a border, a tilt or a screenshot; a geometric check
(``matching.keypoint_verify``) then decides whether two sets show the same picture.

What is kept of one image, and nothing else (see *Invertibility* in ``docs/robustness.md``):

- the size of the grey working copy (long side :data:`LONG_SIDE` px), two 16-bit numbers;
- up to :data:`N_FEATURES` keypoints, spread over the picture (at most 1/8 of them in one
  cell of a 4 x 4 grid), each a position quantised to 1/:data:`GRID` of the
  width and of the height (one byte each) and ORB's 256-bit descriptor (32 bytes: 256
  comparisons of smoothed grey levels around the point). No colour, no scale, no angle.
  Strongest first, so that an index may hold only the first few of each photo.

So at most ``7 + 34 * 400`` = 13,607 bytes a photo. ORB is not mirror-invariant: a query
also computes the set of its mirrored copy (:func:`query_keypoint_sets`), nothing more is
stored for it.
"""

from __future__ import annotations

import contextlib
import math
import struct
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from stopspread.hashing._photo_blocks import photo_blocks
from stopspread.hashing._shared_image import SharedImage, decode_query
from stopspread.hashing.decode import load, to_rgb

__all__ = [
    "GRID",
    "KEYPOINT_VERSION",
    "LONG_SIDE",
    "MAX_QUERY_SETS",
    "N_FEATURES",
    "KeypointFormatError",
    "KeypointSet",
    "extract_keypoints",
    "query_keypoint_sets",
]

KEYPOINT_VERSION: Final = "ss-kp-1"
LONG_SIDE: Final = 640  # px, the grey working copy's long side (up- or downscaled)
N_FEATURES: Final = 400  # ORB keypoints kept, strongest first
GRID: Final = 64  # positions are kept to 1/GRID of the width and of the height
DESCRIPTOR_BYTES: Final = 32  # ORB: 256 bits
_FORMAT_VERSION: Final = 1
_HEADER: Final = struct.Struct(">BHHH")  # format version, width, height, count
_RECORD: Final = 2 + DESCRIPTOR_BYTES
_OVERDETECT: Final = 4  # ORB finds 4 x N_FEATURES candidates, then they are spread out
_CELLS: Final = 4  # ... over a 4 x 4 grid
# A query's content block (a photo inside a screenshot) gets its own set when it is at most
# this share of the image's area: a bigger block is mostly what the whole set already sees.
# Design screenshots (bench/robust_transforms.py) put the photo at 11-72 % of the frame.
CONTENT_BLOCK_MAX_SHARE: Final = 0.75
# Besides that block, a query also gets the sets of up to this many rectangles edged like
# a photo placed in the frame (``_photo_blocks``): a chat bubble on a wallpaper, a story
# over a blurred copy of itself, a gallery viewer's photo between toolbars and thumbnails.
# Chosen on the design screenshots (bench/screens_diagnose.py, docs/robustness.md).
PHOTO_BLOCKS: Final = 2
# The most sets :func:`query_keypoint_sets` gives: the image, its mirror, its content block
# and its photo blocks (what the platform API must accept for one upload).
MAX_QUERY_SETS: Final = 3 + PHOTO_BLOCKS
_LEVELS: Final = 8  # ORB's pyramid: 8 levels, each 1/1.2 of the one before; 1.2 ** level
_SCALES: Final = (1.0, 1.2, 1.44, 1.728, 2.0736, 2.48832, 2.985984, 3.5831808)  # (as float32)
_PATCH: Final = 31  # ORB's patch size, also its edge threshold


class KeypointFormatError(ValueError):
    """Stored keypoint bytes that are not a ``ss-kp-1`` record."""


@dataclass(frozen=True, slots=True, eq=False)
class KeypointSet:
    """The keypoints of one image: cells (n x 2, uint8: column, row of a GRID x GRID grid)
    and descriptors (n x 32, uint8), on a working copy of ``width`` x ``height`` px."""

    width: int
    height: int
    cells: npt.NDArray[np.uint8]
    descriptors: npt.NDArray[np.uint8]

    def __len__(self) -> int:
        return int(self.descriptors.shape[0])

    def points(self) -> npt.NDArray[np.float32]:
        """Cell centres in working-copy pixels (n x 2: x, y)."""
        scale = np.array([self.width / GRID, self.height / GRID], dtype=np.float32)
        return (self.cells.astype(np.float32) + 0.5) * scale

    def to_bytes(self) -> bytes:
        """The stored form: a header, then per keypoint 2 cell bytes and 32 descriptor bytes."""
        head = _HEADER.pack(_FORMAT_VERSION, self.width, self.height, len(self))
        body = np.hstack([self.cells, self.descriptors]).astype(np.uint8).tobytes()
        return head + body

    @classmethod
    def from_bytes(cls, data: bytes) -> KeypointSet:
        if len(data) < _HEADER.size:
            raise KeypointFormatError("too short for a keypoint record")
        version, width, height, count = _HEADER.unpack_from(data)
        if version != _FORMAT_VERSION or len(data) != _HEADER.size + count * _RECORD:
            raise KeypointFormatError("not a keypoint record of this version")
        rows = np.frombuffer(data, np.uint8, offset=_HEADER.size).reshape(count, _RECORD)
        return cls(width, height, rows[:, :2].copy(), rows[:, 2:].copy())


def _grey_working_copy(image: Image.Image) -> npt.NDArray[np.uint8]:
    return _scaled(np.asarray(to_rgb(load(image)).convert("L"), dtype=np.uint8))


def _scaled(grey: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    h, w = grey.shape
    scale = LONG_SIDE / max(w, h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(grey, size, interpolation=interpolation), dtype=np.uint8)


def _orb(n_features: int) -> cv2.ORB:
    return cv2.ORB.create(
        nfeatures=n_features, scaleFactor=_SCALES[1], nlevels=_LEVELS, edgeThreshold=_PATCH
    )


_SCALAR_LOCK: Final = threading.Lock()


@contextmanager
def _without_simd() -> Iterator[None]:
    """cv2's scalar code paths, as OpenCV.js (built without SIMD) runs them.

    ORB blurs each pyramid level before it compares pixels; cv2's vectorised blur rounds a
    few pixels differently from the scalar one, which flips a descriptor bit now and then
    (1 of 45 reference photos). OpenCV has one switch for the whole process: it is turned off
    only while descriptors are computed, one thread at a time."""
    with _SCALAR_LOCK:
        was = cv2.useOptimized()
        cv2.setUseOptimized(False)
        try:
            yield
        finally:
            cv2.setUseOptimized(was)


def _patch_offsets() -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """ORB's circular patch (radius 15: ``umax`` of ``features2d/src/orb.cpp``): rows, columns."""
    half = _PATCH // 2
    umax = [0] * (half + 2)
    vmax, vmin = math.floor(half * math.sqrt(2) / 2 + 1), math.ceil(half * math.sqrt(2) / 2)
    for v in range(vmax + 1):
        umax[v] = round(math.sqrt(half * half - v * v))
    v0 = 0
    for v in range(half, vmin - 1, -1):
        while umax[v0] == umax[v0 + 1]:
            v0 += 1
        umax[v] = v0
        v0 += 1
    rows = [v for v in range(-half, half + 1) for _ in range(-umax[abs(v)], umax[abs(v)] + 1)]
    cols = [u for v in range(-half, half + 1) for u in range(-umax[abs(v)], umax[abs(v)] + 1)]
    return np.array(rows, dtype=np.intp), np.array(cols, dtype=np.intp)


_PATCH_ROWS, _PATCH_COLS = _patch_offsets()
_PATCH_AXES: Final = np.stack([_PATCH_COLS, _PATCH_ROWS], axis=1).astype(np.float32)


def _pyramid(grey: npt.NDArray[np.uint8]) -> list[npt.NDArray[np.uint8]]:
    """ORB's scale pyramid: each level resized from the one before (INTER_LINEAR_EXACT, the
    same integer arithmetic in cv2 and in OpenCV.js), sizes rounded as ORB rounds them."""
    h, w = grey.shape
    levels = [grey]
    for level in range(1, _LEVELS):
        scale = np.float32(_SCALES[level])
        size = (round(float(np.float32(w) / scale)), round(float(np.float32(h) / scale)))
        levels.append(
            np.asarray(cv2.resize(levels[-1], size, interpolation=cv2.INTER_LINEAR_EXACT), np.uint8)
        )
    return levels


def _angles(levels: Sequence[npt.NDArray[np.uint8]], kept: Sequence[cv2.KeyPoint]) -> list[float]:
    """ORB's orientation (intensity centroid of the circular patch) of each kept point, in
    whole degrees.

    OpenCV computes it with ``fastAtan2``, whose native (polynomial) and OpenCV.js results
    differ by up to 0.01 degrees, which flips descriptor bits; integer moments and a whole
    degree are the same in Python and in the browser (measured: 400 points x 360 degrees,
    identical descriptors with :func:`_without_simd`; ``bench/keypoints_js.py``,
    ``tests/web/test_js_keypoints.py``). The moments of all points of one level are one
    matrix product (whole numbers under 2**24: exact); ``atan2`` stays Python's."""
    octaves = np.array([kp.octave for kp in kept], dtype=np.intp)
    xy = np.array([kp.pt for kp in kept], dtype=np.float64).reshape(-1, 2)
    m10 = np.zeros(len(kept), dtype=np.int64)
    m01 = np.zeros(len(kept), dtype=np.int64)
    for octave in np.unique(octaves).tolist():
        at = np.flatnonzero(octaves == octave)
        scale = float(np.float32(_SCALES[octave]))
        x = np.round(xy[at, 0] / scale).astype(np.intp)  # half to even, as round()
        y = np.round(xy[at, 1] / scale).astype(np.intp)
        level = levels[octave]
        width = level.shape[1]  # the patch's pixels as offsets into the flat level
        flat = (y * width + x)[:, None] + (_PATCH_ROWS * width + _PATCH_COLS)[None, :]
        patches = np.take(level.reshape(-1), flat)
        moments = patches.astype(np.float32) @ _PATCH_AXES  # sums < 2**24: exact
        m10[at], m01[at] = moments[:, 0], moments[:, 1]
    return [
        float(round(math.degrees(math.atan2(b, a))) % 360)
        for a, b in zip(m10.tolist(), m01.tolist(), strict=True)
    ]


def _spread_out(found: Sequence[cv2.KeyPoint], w: int, h: int, n_features: int) -> list[int]:
    """Indices of the keypoints kept, strongest first, at most 2/16 of them in one cell of a
    4 x 4 grid (then the strongest of the rest): a sticker, a caption or a screenshot's
    frame cannot take every anchor, and a crop keeps some wherever it falls.

    Strongest first: by response, ties by level and position (a stable sort on those keys),
    never by the order ORB lists them in (OpenCV.js lists the same points in another
    order). A point is kept by the cap when fewer than ``cap`` points of its cell come
    before it in that order."""
    xy = np.array([kp.pt for kp in found], dtype=np.float64).reshape(-1, 2)
    response = np.array([kp.response for kp in found], dtype=np.float64)
    octave = np.array([kp.octave for kp in found], dtype=np.int64)
    order = np.lexsort((xy[:, 0], xy[:, 1], octave, -response))
    cap = max(1, 2 * n_features // _CELLS**2)
    cx = np.minimum((xy[:, 0] / w * _CELLS).astype(np.int64), _CELLS - 1)
    cy = np.minimum((xy[:, 1] / h * _CELLS).astype(np.int64), _CELLS - 1)
    cell = (cy * _CELLS + cx)[order]
    by_cell = np.argsort(cell, kind="stable")
    grouped = cell[by_cell]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, grouped.size]))
    rank = np.empty(cell.size, dtype=np.int64)
    rank[by_cell] = np.arange(cell.size) - first  # points of the same cell before this one
    capped = rank < cap
    kept = np.flatnonzero(capped)[:n_features]  # positions in ``order``
    if kept.size < n_features:
        rest = np.flatnonzero(~capped)[: n_features - kept.size]
        kept = np.sort(np.concatenate([kept, rest]))
    return [int(i) for i in order[kept]]


def _from_grey(
    grey: npt.NDArray[np.uint8], n_features: int, *, as_browser: bool = True
) -> KeypointSet:
    """``as_browser``: descriptors exactly as OpenCV.js computes them (cv2's scalar code,
    one thread at a time; what enrolment stores). A query's sets are never compared with a
    browser's query, so they use cv2's vectorised blur (a descriptor bit now and then, see
    :func:`_without_simd`; about half the time of the descriptors, and no lock)."""
    h, w = grey.shape
    orb = _orb(_OVERDETECT * n_features)
    found = orb.detect(grey, None)
    if not found:
        empty = np.zeros((0, 2), np.uint8)
        return KeypointSet(w, h, empty, np.zeros((0, DESCRIPTOR_BYTES), np.uint8))
    kept = [found[i] for i in _spread_out(found, w, h, n_features)]
    for kp, angle in zip(kept, _angles(_pyramid(grey), kept), strict=True):
        kp.angle = angle
    with _without_simd() if as_browser else contextlib.nullcontext():
        computed, descriptors = orb.compute(grey, kept)  # grouped by level: put back in order
    row = {(kp.octave, kp.pt): i for i, kp in enumerate(computed)}
    order = [row[(kp.octave, kp.pt)] for kp in kept]  # every kept point is inside ORB's border
    xy = np.array([kp.pt for kp in kept], dtype=np.float64)
    cells = np.floor(xy / np.array([w, h]) * GRID).clip(0, GRID - 1).astype(np.uint8)
    return KeypointSet(w, h, cells, np.asarray(descriptors, dtype=np.uint8)[order])


def extract_keypoints(image: Image.Image, n_features: int = N_FEATURES) -> KeypointSet:
    """The ``ss-kp-1`` keypoints of one decoded image (what enrolment stores)."""
    return _from_grey(_grey_working_copy(image), n_features)


def _query_set(grey: npt.NDArray[np.uint8], n_features: int) -> KeypointSet:
    return _from_grey(grey, n_features, as_browser=False)


def query_keypoint_sets(
    image: Image.Image | SharedImage,
    n_features: int = N_FEATURES,
    photo_block_limit: int = PHOTO_BLOCKS,
) -> list[KeypointSet]:
    """The keypoints a query looks up: the image's, then its mirrored copy's, then, when the
    image has flat bands around a block of content (a screenshot, a post with a caption),
    the set of that block alone at the full working size (``_regions.content_box``, when it
    is at most :data:`CONTENT_BLOCK_MAX_SHARE` of the area), then the sets of up to
    ``photo_block_limit`` rectangles edged like a photo in the frame
    (``_photo_blocks.photo_blocks``): a photo that is a small part of a busy frame gets its
    own 640 px copy and all its anchors. Nothing more is stored.

    ``image`` is decoded as ``_shared_image.decode_query`` says (a colour JPEG straight to
    grey); a :class:`SharedImage` shares its grey array and border luma with the PDQ
    variants computed from it."""
    shared = decode_query(image)
    size = shared.image.size
    full = shared.grey
    grey = _scaled(full)
    mirrored = np.ascontiguousarray(grey[:, ::-1])
    sets = [_query_set(grey, n_features), _query_set(mirrored, n_features)]
    box = shared.content  # the content variant's box, one border luma for both finders
    if box is not None:
        left, upper, right, lower = box
        if (right - left) * (lower - upper) > CONTENT_BLOCK_MAX_SHARE * size[0] * size[1]:
            box = None
        else:
            sets.append(_query_set(_scaled(full[upper:lower, left:right]), n_features))
    if photo_block_limit > 0:
        blocks = photo_blocks(shared.image, photo_block_limit, besides=box, small=shared.small)
        for left, upper, right, lower in blocks:
            sets.append(_query_set(_scaled(full[upper:lower, left:right]), n_features))
    return sets
