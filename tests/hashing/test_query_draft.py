"""A large query JPEG is decoded at a reduced size (libjpeg's DCT scaling; issue 14 budget).

Every query signal is made from at most 640 px, so a 12 MP JPEG is decoded at 1/2 scale
(short side kept at least ``QUERY_DRAFT_SIDE``); the signals move within the bounds
measured on 200 DEV photos as 12 MP JPEGs (``bench/query_draft_decode.py``,
``docs/hashing.md``). Other formats and smaller JPEGs are decoded at full size."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from stopspread.hashing._shared_image import QUERY_DRAFT_SIDE, decode_query
from stopspread.hashing.image import draft_size
from stopspread.hashing.query import query_signals
from stopspread.matching.keypoint_verify import DEFAULT_VERIFY_RULE, measure
from tests.hashing.test_signals_identical import _bordered, synthetic

# PDQ bits the reduced decode may move in one query variant of the synthetic 12 MP fields
# (measured: 0-2 here; on 200 DEV photos at 12 MP the whole image moved at most 8, mean
# 1.4, and the windows at most 14: docs/hashing.md, "Reduced decode of large query JPEGs").
MAX_BITS_MOVED = 8


def _file(image: Image.Image, fmt: str, **params: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def _opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


@pytest.fixture(scope="module")
def twelve_mp() -> bytes:
    return _file(synthetic()["field-4032x3024"](), "JPEG", quality=90)


def test_the_draft_size_keeps_the_short_side() -> None:
    assert draft_size((4032, 3024), QUERY_DRAFT_SIDE) == (1706, 1280)
    assert draft_size((3024, 4032), QUERY_DRAFT_SIDE) == (1280, 1706)
    assert draft_size((5000, 2559), QUERY_DRAFT_SIDE) is None  # libjpeg cannot halve it
    assert draft_size((4032, 3024)) == (682, 512)  # the fast pipeline's, as before


def test_a_12_mp_jpeg_is_decoded_at_half_size(twelve_mp: bytes) -> None:
    shared = decode_query(_opened(twelve_mp))
    assert shared.image.mode == "L"
    assert shared.image.size == (2016, 1512)
    assert min(shared.image.size) >= QUERY_DRAFT_SIDE


def test_its_signals_stay_within_the_measured_bounds(twelve_mp: bytes) -> None:
    reduced = query_signals(twelve_mp)
    full = query_signals(decode_query(_opened(twelve_mp), draft_side=None))
    assert [h.tag for h in reduced.hashes] == [h.tag for h in full.hashes]
    for now, before in zip(reduced.hashes, full.hashes, strict=True):
        assert now.hash.distance(before.hash) <= MAX_BITS_MOVED
        assert abs(now.quality - before.quality) <= 3
    assert len(reduced.keypoints) == len(full.keypoints)
    # the same picture: the reduced decode's sets verify against the full decode's
    for now, before in zip(reduced.keypoints, full.keypoints, strict=True):
        assert (now.width, now.height) == (before.width, before.height)
        assert measure(now, before, DEFAULT_VERIFY_RULE).verified


def test_a_grey_12_mp_jpeg_is_reduced_too() -> None:
    data = _file(synthetic()["field-3024x4032"]().convert("L"), "JPEG", quality=90)
    shared = decode_query(_opened(data))
    assert (shared.image.mode, shared.image.size) == ("L", (1512, 2016))


def test_a_jpeg_under_twice_the_draft_side_is_decoded_full() -> None:
    data = _file(synthetic()["field-1920x1080"](), "JPEG", quality=90)
    assert decode_query(_opened(data)).image.size == (1920, 1080)


def test_a_12_mp_png_is_decoded_full_and_hashed_as_before() -> None:
    image = synthetic()["field-4032x3024"]()
    data = _file(image, "PNG", compress_level=1)
    shared = decode_query(_opened(data))
    assert (shared.image.mode, shared.image.size) == ("RGB", (4032, 3024))
    hashes = query_signals(data, keypoints=False).hashes
    assert [h.hash for h in hashes] == [h.hash for h in query_signals(image).hashes]


def test_a_real_border_is_found_at_the_same_place() -> None:
    inner = (504, 300, 3528, 2724)  # a letterboxed photo in a 12 MP frame
    data = _file(_bordered(31, (4032, 3024), inner), "JPEG", quality=90)
    full = decode_query(_opened(data), draft_side=None)
    reduced = decode_query(_opened(data))
    assert full.trim is not None and reduced.trim is not None
    scale = full.image.size[0] / reduced.image.size[0]
    for a, b in zip(full.trim, reduced.trim, strict=True):
        assert abs(a - b * scale) <= full.image.size[0] / 512  # one line of the border luma
    assert full.trim == pytest.approx(inner, abs=full.image.size[0] / 512)
