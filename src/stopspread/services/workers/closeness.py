"""How close a sighting is to her enrolled picture, in words a worker can act on.

"PDQ 거리 2" means nothing without a scale. A PDQ (or vPDQ frame) distance is the number of
bits, out of 256, in which two hashes differ; a scan counts a match up to the signal type's
radius (``radius``). Within it the distance is put into words by fixed bit ranges:

=========================  ============  =================
bits                       Korean        English
=========================  ============  =================
0 - 8                      거의 같음       Nearly the same
9 - 16                     매우 비슷함     Very similar
17 - radius                비슷함          Similar
over the radius            일치 범위 밖    Outside the match range
MD5 (the same file bytes)  같은 파일       The same file
ss-kp-1 (shape points)     특징점 일치     Shape points match
=========================  ============  =================

A ``ss-kp-1`` sighting (issue 14) has no bits: its number is how many shape points
(keypoints) line up with her photo, and the page says it is less certain than a hash match.

The number stays on the card as the detail ("6 of 256 bits; a match is 29 or fewer").
This module is the one home of those ranges; pages only translate :class:`Closeness`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from stopspread.hashing.keypoints import KEYPOINT_VERSION
from stopspread.matching.policy import DEFAULT_POLICY, MatchPolicy

__all__ = [
    "HASH_BITS",
    "NEARLY_SAME_BITS",
    "VERY_SIMILAR_BITS",
    "Closeness",
    "Distance",
    "describe",
    "radius",
]

HASH_BITS: Final = 256  # a PDQ hash (and a vPDQ frame hash) has 256 bits
NEARLY_SAME_BITS: Final = 8  # re-encoded, resized or lightly cropped copies land here
VERY_SIMILAR_BITS: Final = 16  # filtered, recoloured or reframed copies


class Closeness(enum.StrEnum):
    SAME_FILE = "same_file"
    NEARLY_SAME = "nearly_same"
    VERY_SIMILAR = "very_similar"
    SIMILAR = "similar"
    OUTSIDE = "outside"
    SHAPE_POINTS = "shape_points"  # ss-kp-1: keypoints verified; less certain, look closely


@dataclass(frozen=True, slots=True)
class Distance:
    """A sighting's distance: the word, and the numbers behind it."""

    closeness: Closeness
    bits: int
    radius: int  # a match is at most this many bits (0 for an exact file match)
    exact: bool  # an MD5 match: there are no bits to count


def radius(signal_type: str, policy: MatchPolicy = DEFAULT_POLICY) -> int:
    """Bits up to which ``policy`` counts a match for this signal type (0: exact only)."""
    if signal_type == "vpdq":  # a video hit's nearest frame: within the ordered rule's radius
        return policy.video.sequence_distance
    if signal_type == "pdq":
        return policy.pdq.radius
    return 0


def describe(signal_type: str, bits: int, limit: int | None = None) -> Distance:
    """The closeness of a sighting matched by ``signal_type`` at ``bits``.

    ``limit`` is the match radius in force (``radius(signal_type, svc.policy)``); without
    it, the default policy's.
    """
    if signal_type == KEYPOINT_VERSION:  # ``bits`` holds the agreeing shape points
        return Distance(Closeness.SHAPE_POINTS, bits, 0, exact=False)
    limit = radius(signal_type) if limit is None else limit
    if limit == 0:
        word = Closeness.SAME_FILE if bits == 0 else Closeness.OUTSIDE
        return Distance(word, bits, 0, exact=True)
    if bits <= NEARLY_SAME_BITS:
        word = Closeness.NEARLY_SAME
    elif bits <= VERY_SIMILAR_BITS:
        word = Closeness.VERY_SIMILAR
    elif bits <= limit:
        word = Closeness.SIMILAR
    else:
        word = Closeness.OUTSIDE
    return Distance(word, bits, limit, exact=False)
