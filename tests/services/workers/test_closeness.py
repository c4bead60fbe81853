"""Distance in words: one home for the bit ranges, by signal type."""

from __future__ import annotations

import pytest

from stopspread.hashing import DEFAULT_SIGNAL_SET
from stopspread.services.workers.closeness import (
    NEARLY_SAME_BITS,
    VERY_SIMILAR_BITS,
    Closeness,
    describe,
    radius,
)


@pytest.mark.parametrize(
    ("signal", "bits", "word"),
    [
        ("pdq", 0, Closeness.NEARLY_SAME),
        ("pdq", 8, Closeness.NEARLY_SAME),
        ("pdq", 9, Closeness.VERY_SIMILAR),
        ("pdq", 16, Closeness.VERY_SIMILAR),
        ("pdq", 17, Closeness.SIMILAR),
        ("pdq", 29, Closeness.SIMILAR),
        ("pdq", 30, Closeness.OUTSIDE),
        ("vpdq", 48, Closeness.SIMILAR),  # the ordered rule's radius (docs/video.md)
        ("vpdq", 49, Closeness.OUTSIDE),
        ("md5", 0, Closeness.SAME_FILE),
    ],
)
def test_bit_ranges_within_the_match_radius(signal: str, bits: int, word: Closeness) -> None:
    assert describe(signal, bits).closeness is word


def test_the_numbers_stay_with_the_word() -> None:
    near = describe("pdq", 2)
    assert (near.bits, near.radius, near.exact) == (2, DEFAULT_SIGNAL_SET.match_distance, False)
    exact = describe("md5", 0)
    assert exact.exact and exact.radius == 0
    assert describe("md5", 3).closeness is Closeness.OUTSIDE  # an MD5 hit is never "near"


def test_ranges_nest_inside_every_radius() -> None:
    assert 0 < NEARLY_SAME_BITS < VERY_SIMILAR_BITS < min(radius("pdq"), radius("vpdq"))
    assert radius("md5") == 0


def test_a_shape_point_sighting_is_its_own_word_never_bits() -> None:
    found = describe("ss-kp-1", 42, radius("ss-kp-1"))
    assert found.closeness is Closeness.SHAPE_POINTS  # "less certain" on the card
    assert (found.bits, found.exact) == (42, False)  # 42 agreeing points, not bits
