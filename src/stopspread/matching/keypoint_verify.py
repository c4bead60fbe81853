"""Geometric verification of content-anchored signals (``ss-kp-1``, issue 14).

Two keypoint sets show the same picture when enough of their descriptors agree *and* the
agreeing points sit where one similarity transform (shift, one scale, a rotation) puts
them. A bare inlier count is not a verification: a textured photo collects dozens of
chance inliers against unrelated photos. So :class:`VerifyRule` asks for all of:

- at least ``min_inliers`` distinct enrolled keypoints agree with the fitted transform;
- they are at least ``min_inlier_ratio`` of the descriptor matches that passed the ratio
  test (chance matches scatter, a true copy's line up);
- a sane transform: scale within ``[min_scale, max_scale]``, rotation within
  ``max_tilt_degrees`` of a quarter turn (the edits people make: tilts, 90 degree turns);
- the inliers spread over the picture: at least ``min_spread_cells`` of a 4 x 4 grid over
  the enrolled picture hold one;
- the overlap agrees, not just a part of it: of each side's keypoints that the fit puts
  inside the other picture, at least ``min_cover`` are inliers. Two drawings sharing a
  motif (the same drawn head on two figures, on a flat ground) fit on the motif alone,
  with all the rest of both pictures disagreeing: 5 % of the overlap on the closest DEV
  pair, 8 % or more on 99.6 % of the verified design edits;
- and it agrees *wherever* both pictures have anchors: of the cells of a 4 x 4 grid over
  the enrolled picture that hold keypoints the query also shows, at least ``min_layout``
  hold an inlier. With 400 keypoints a picture, ``min_cover`` alone is about 32 inliers
  when the overlap is everything; a motif shared over a whole band (a banner, a drawn
  head) can collect that many while every other busy cell disagrees (layout 0.25-0.42);
  a copy under stickers or a caption keeps >= 0.5 (DEV design edits).

The thresholds were chosen on the design generators of ``bench/keypoints.py`` with a margin
(``docs/robustness.md``). A pure module: numbers in, a decision out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from stopspread.hashing.keypoints import GRID, KeypointSet

__all__ = ["DEFAULT_VERIFY_RULE", "Verification", "VerifyRule", "measure", "verify", "verify_any"]

_SPREAD_GRID: Final = 4
_BUSY_CELL: Final = 4  # enrolled keypoints that make a cell count for the layout


@dataclass(frozen=True, slots=True)
class VerifyRule:
    """The thresholds of one keypoint verification."""

    ratio: float = 0.8  # Lowe's ratio test: best / second-best Hamming distance
    max_descriptor_bits: int = 64  # a match farther than this is not a match
    reprojection_cells: float = 1.5  # RANSAC inlier distance, in cells of the enrolled grid
    min_inliers: int = 30
    min_inlier_ratio: float = 0.4
    min_scale: float = 0.25
    max_scale: float = 4.0
    max_tilt_degrees: float = 20.0
    min_spread_cells: int = 4
    min_cover: float = 0.08  # inliers / keypoints of each side that fall in the overlap
    min_layout: float = 0.4  # share of the overlap's busy cells that hold an inlier

    def __post_init__(self) -> None:
        if not (0 < self.ratio <= 1 and 0 < self.min_inlier_ratio <= 1):
            raise ValueError("ratios are in (0, 1]")
        if not 0 < self.min_scale < self.max_scale:
            raise ValueError("min_scale < max_scale, both positive")
        if self.min_inliers < 3 or not 1 <= self.min_spread_cells <= _SPREAD_GRID**2:
            raise ValueError("at least 3 inliers; spread is 1-16 cells")
        if not (0 <= self.min_cover <= 1 and 0 <= self.min_layout <= 1):
            raise ValueError("min_cover and min_layout are ratios in [0, 1]")


DEFAULT_VERIFY_RULE: Final = VerifyRule()


@dataclass(frozen=True, slots=True)
class Verification:
    """What one check measured, and whether the rule calls it the same picture."""

    matches: int  # ratio-test matches, one per enrolled keypoint
    inliers: int  # of those, consistent with the fitted transform
    scale: float
    rotation: float  # degrees
    spread: int  # cells of a 4 x 4 grid over the enrolled picture holding an inlier
    verified: bool
    # inliers / query keypoints that the fit puts inside the enrolled picture
    query_cover: float = 0.0
    # inliers / enrolled keypoints that the inverse fit puts inside the query picture
    enrolled_cover: float = 0.0
    inlier_bits: float = 0.0  # mean descriptor distance of the inliers
    # of the cells of a 4 x 4 grid over the enrolled picture that hold at least
    # _BUSY_CELL enrolled keypoints the query also shows (inside its frame), the share
    # holding an inlier: a copy agrees wherever both pictures have anchors, a shared
    # motif (the same drawn head on two figures) only in its own corner
    layout: float = 0.0

    @property
    def cover(self) -> float:
        """The smaller of the two covers: how much of the overlap agrees, seen from both sides."""
        return min(self.query_cover, self.enrolled_cover)

    @property
    def inlier_ratio(self) -> float:
        return self.inliers / self.matches if self.matches else 0.0


_NONE: Final = Verification(0, 0, 0.0, 0.0, 0, False)


def _matches(
    query: KeypointSet, enrolled: KeypointSet, rule: VerifyRule
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """Ratio-test matches (query index, enrolled index, bits), one per enrolled keypoint."""
    if len(query) < 2 or len(enrolled) < 2:
        empty = np.zeros(0, np.intp)
        return empty, empty, np.zeros(0)
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    best: dict[int, tuple[float, int]] = {}
    for pair in matcher.knnMatch(query.descriptors, enrolled.descriptors, k=2):
        if len(pair) < 2:
            continue
        first, second = pair
        if first.distance > rule.max_descriptor_bits or first.distance > rule.ratio * (
            second.distance
        ):
            continue
        kept = best.get(first.trainIdx)
        if kept is None or first.distance < kept[0]:
            best[first.trainIdx] = (first.distance, first.queryIdx)
    e_idx = np.fromiter(best.keys(), np.intp, len(best))
    q_idx = np.fromiter((v[1] for v in best.values()), np.intp, len(best))
    bits = np.fromiter((v[0] for v in best.values()), np.float64, len(best))
    return q_idx, e_idx, bits


def _tilt(degrees: float) -> float:
    """Distance in degrees from the nearest quarter turn."""
    return abs((degrees + 45.0) % 90.0 - 45.0)


def _cell_ids(points: npt.NDArray[np.float32], enrolled: KeypointSet) -> npt.NDArray[np.intp]:
    """The cell of a 4 x 4 grid over the enrolled picture of each point (0-15)."""
    cols = np.floor(points[:, 0] / enrolled.width * _SPREAD_GRID).clip(0, _SPREAD_GRID - 1)
    rows = np.floor(points[:, 1] / enrolled.height * _SPREAD_GRID).clip(0, _SPREAD_GRID - 1)
    return np.asarray(rows * _SPREAD_GRID + cols, dtype=np.intp)


def _spread(points: npt.NDArray[np.float32], enrolled: KeypointSet) -> int:
    return len(set(_cell_ids(points, enrolled).tolist()))


def _inside_mask(
    points: npt.NDArray[np.float32], fit: npt.NDArray[np.float64], w: int, h: int
) -> npt.NDArray[np.bool_]:
    moved = points @ fit[:, :2].T + fit[:, 2]
    inside: npt.NDArray[np.bool_] = (
        (moved[:, 0] >= 0) & (moved[:, 0] < w) & (moved[:, 1] >= 0) & (moved[:, 1] < h)
    )
    return inside


def _layout(
    query: KeypointSet,
    enrolled: KeypointSet,
    back: npt.NDArray[np.float64],
    inlier_points: npt.NDArray[np.float32],
) -> float:
    """Share of the busy enrolled cells inside the query's frame that hold an inlier."""
    points = enrolled.points()
    seen = points[_inside_mask(points, back, query.width, query.height)]
    counts = np.bincount(_cell_ids(seen, enrolled), minlength=_SPREAD_GRID**2)
    busy = counts >= _BUSY_CELL
    if not busy.any():
        return 0.0
    held = np.zeros(_SPREAD_GRID**2, dtype=bool)
    held[_cell_ids(inlier_points, enrolled)] = True
    return float((busy & held).sum() / busy.sum())


def _covers(
    query: KeypointSet, enrolled: KeypointSet, fit: npt.NDArray[np.float64], inliers: int
) -> tuple[float, float]:
    """Inliers as a share of each side's keypoints in the overlap of the two pictures."""
    in_enrolled = int(_inside_mask(query.points(), fit, enrolled.width, enrolled.height).sum())
    back = np.asarray(cv2.invertAffineTransform(fit), dtype=np.float64)
    in_query = int(_inside_mask(enrolled.points(), back, query.width, query.height).sum())
    return inliers / max(1, in_enrolled), inliers / max(1, in_query)


def measure(
    query: KeypointSet, enrolled: KeypointSet, rule: VerifyRule = DEFAULT_VERIFY_RULE
) -> Verification:
    """Match, fit a similarity transform query -> enrolled with RANSAC, and judge it."""
    q_idx, e_idx, bits = _matches(query, enrolled, rule)
    if len(e_idx) < 3:
        return Verification(len(e_idx), 0, 0.0, 0.0, 0, False)
    src = query.points()[q_idx]
    dst = enrolled.points()[e_idx]
    cell = max(enrolled.width, enrolled.height) / GRID
    fit, mask = cv2.estimateAffinePartial2D(
        src,
        dst,
        method=cv2.RANSAC,
        ransacReprojThreshold=rule.reprojection_cells * cell,
        maxIters=2000,
        confidence=0.995,
    )
    if fit is None or mask is None:
        return Verification(len(e_idx), 0, 0.0, 0.0, 0, False)
    inlier = mask.ravel().astype(bool)
    a, b = float(fit[0, 0]), float(fit[1, 0])
    scale = math.hypot(a, b)
    rotation = math.degrees(math.atan2(b, a))
    inliers = int(inlier.sum())
    spread = _spread(dst[inlier], enrolled) if inliers else 0
    transform: npt.NDArray[np.float64] = np.asarray(fit, dtype=np.float64)
    query_cover, enrolled_cover = _covers(query, enrolled, transform, inliers)
    inlier_bits = float(bits[inlier].mean()) if inliers else 0.0
    back = np.asarray(cv2.invertAffineTransform(transform), dtype=np.float64)
    layout = _layout(query, enrolled, back, dst[inlier])
    verified = (
        inliers >= rule.min_inliers
        and inliers >= rule.min_inlier_ratio * len(e_idx)
        and rule.min_scale <= scale <= rule.max_scale
        and _tilt(rotation) <= rule.max_tilt_degrees
        and spread >= rule.min_spread_cells
        and min(query_cover, enrolled_cover) >= rule.min_cover
        and layout >= rule.min_layout
    )
    return Verification(
        len(e_idx),
        inliers,
        scale,
        rotation,
        spread,
        verified,
        query_cover,
        enrolled_cover,
        inlier_bits,
        layout,
    )


def verify(
    query: KeypointSet, enrolled: KeypointSet, rule: VerifyRule = DEFAULT_VERIFY_RULE
) -> bool:
    """Does ``query`` show the picture ``enrolled`` was made from (under ``rule``)?"""
    return measure(query, enrolled, rule).verified


def verify_any(
    queries: list[KeypointSet], enrolled: KeypointSet, rule: VerifyRule = DEFAULT_VERIFY_RULE
) -> Verification:
    """The best check of several query sets (the upload, its mirror, its content block, its
    photo blocks: ``query_keypoint_sets``) against one photo: the first verified one, else the
    one with most inliers."""
    best = _NONE
    for query in queries:
        result = measure(query, enrolled, rule)
        if result.verified:
            return result
        if result.inliers > best.inliers:
            best = result
    return best
