"""Queries decode a colour JPEG straight to grey, once, and share it (issue 14 budget).

The grey decode moves PDQ bits by rounding only (JFIF's Y is PDQ's luma); everything that
is not a colour JPEG about to be decoded is hashed exactly as before."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from stopspread.hashing._shared_image import SharedImage, decode_query
from stopspread.hashing.image import Pipeline
from stopspread.hashing.signals import SS_IMG_1, compute_variants
from tests.hashing.test_signals_identical import _digest, synthetic

# Most PDQ bits the grey decode may move in one variant (measured: 0-2 on the shared
# images and DEV photos, docs/hashing.md; PDQ's own noise floor on a re-encode is larger).
MAX_BITS_MOVED = 6


def _jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize("name", ["field-1920x1080", "field-4032x3024", "screenshot-1170x2532"])
def test_a_colour_jpeg_is_decoded_to_grey_and_moves_bits_by_rounding_only(name: str) -> None:
    data = _jpeg(synthetic()[name]())
    shared = decode_query(_opened(data), draft_side=None)  # full size: rounding alone
    assert shared.image.mode == "L"
    assert shared.image.size == _opened(data).size
    grey = {h.tag: h for h in compute_variants(shared, SS_IMG_1.query)}
    rgb = compute_variants(_opened(data).convert("RGB"), SS_IMG_1.query)
    assert [h.tag for h in rgb] == list(grey)
    for h in rgb:
        assert h.hash.distance(grey[h.tag].hash) <= MAX_BITS_MOVED
        assert abs(h.quality - grey[h.tag].quality) <= 2


def test_an_image_already_decoded_is_hashed_as_before() -> None:
    image = synthetic()["letterbox-1920x1080"]()
    shared = decode_query(image.copy())
    assert shared.image.mode == "RGB"
    assert _digest(compute_variants(shared, SS_IMG_1.query)) == _digest(
        compute_variants(image, SS_IMG_1.query)
    )


def test_a_png_is_decoded_as_rgb() -> None:
    buffer = io.BytesIO()
    synthetic()["field-640x480"]().save(buffer, "PNG")
    assert decode_query(_opened(buffer.getvalue())).image.mode == "RGB"


def test_the_fast_pipeline_decodes_a_large_jpeg_reduced_and_grey() -> None:
    shared = decode_query(_opened(_jpeg(synthetic()["field-4032x3024"]())), Pipeline.FAST)
    assert shared.image.mode == "L"
    assert shared.image.size == (1008, 756)  # libjpeg's 1/4 scale: short side >= 512


def test_copies_are_made_once_and_shared() -> None:
    shared = decode_query(_opened(_jpeg(synthetic()["field-1537x923"]())))
    assert shared.grey is shared.grey
    assert shared.grey.shape == (923, 1537)
    assert shared.small is shared.small
    assert shared.smooth is shared.work
    assert decode_query(shared) is shared


def test_enrolment_keeps_rgb() -> None:
    image = _opened(_jpeg(synthetic()["field-640x480"]()))
    hashes = compute_variants(image, SS_IMG_1.enrolment[:1])
    assert image.mode == "RGB"
    assert hashes[0].hash == compute_variants(image.convert("RGB"), SS_IMG_1.enrolment[:1])[0].hash
    assert isinstance(decode_query(Image.new("RGB", (8, 8))), SharedImage)
