"""Signal sets: the shipped recipe, its variants, and that edited copies match under it.

Every image here is synthetic (smooth random colour fields), made in code.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from stopspread.errors import UnsupportedMediaError
from stopspread.hashing import PDQ_MATCH_DISTANCE, Dihedral, dct_from_pixels, hash_image
from stopspread.hashing import _regions as regions
from stopspread.hashing.dihedral import dihedral_hashes
from stopspread.hashing.image import pixels_for_pdq
from stopspread.hashing.signals import (
    _TRANSPOSE,
    DEFAULT_SIGNAL_SET,
    SS_IMG_1,
    Anchor,
    Dihedrals,
    Rotation,
    SignalHash,
    Variant,
    VariantKind,
    compute_variants,
    enrolment_hashes,
    is_match,
    query_hashes,
)


def photo(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A smooth random colour field with a few shapes: high PDQ quality, no flat bands."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    img = Image.fromarray(noise).resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x, y = rng.uniform(0, size[0]), rng.uniform(0, size[1])
        r = rng.uniform(20, 80)
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
    grain = rng.normal(0, 6, (size[1], size[0], 3))
    return Image.fromarray(np.clip(np.asarray(img) + grain, 0, 255).astype(np.uint8))


def best(query: list[SignalHash], enrolled: list[SignalHash]) -> int:
    return min(q.hash.distance(e.hash) for q in query for e in enrolled)


@pytest.fixture(scope="module")
def original() -> Image.Image:
    return photo(1)


@pytest.fixture(scope="module")
def enrolled(original: Image.Image) -> list[SignalHash]:
    return enrolment_hashes(original)


def test_recipe_is_versioned_and_bounded() -> None:
    assert DEFAULT_SIGNAL_SET is SS_IMG_1
    assert SS_IMG_1.version == "ss-img-1"
    assert SS_IMG_1.max_enrolment_pdqs <= 40  # one decode, browser budget
    assert SS_IMG_1.max_query_pdqs <= 8
    assert SS_IMG_1.match_distance <= PDQ_MATCH_DISTANCE
    assert SS_IMG_1.min_enrolled_quality >= SS_IMG_1.min_query_quality >= 50


def test_first_enrolled_hash_is_plain_pdq(
    original: Image.Image, enrolled: list[SignalHash]
) -> None:
    buf = io.BytesIO()
    original.save(buf, "PNG")
    assert enrolled[0].tag == "full"
    assert enrolled[0].hash == hash_image(buf.getvalue()).pdq
    assert query_hashes(original)[0].hash == enrolled[0].hash


def test_tags_are_unique_and_hashes_deduplicated(enrolled: list[SignalHash]) -> None:
    tags = [h.tag for h in enrolled]
    assert len(set(tags)) == len(tags)
    assert len({h.hash.value for h in enrolled}) == len(enrolled)
    assert {"full:flipy", "trim", "crop80-t", "rot+3.5", "rotc-2.5", "rote+4.5"} - {
        t.split(":")[0] if t.startswith(("trim", "crop", "rot")) else t for t in tags
    } <= {"trim"}  # no border on this image, so no trimmed variant


def test_path_bytes_and_pillow_give_the_same_hashes(tmp_path, original: Image.Image) -> None:
    path = tmp_path / "p.png"
    original.save(path)
    from_path = [h.hash for h in query_hashes(path)]
    assert from_path == [h.hash for h in query_hashes(path.read_bytes())]
    assert from_path == [h.hash for h in query_hashes(original)]


@pytest.mark.parametrize("dihedral", list(_TRANSPOSE))
def test_turned_copies_match_exactly(
    original: Image.Image, enrolled: list[SignalHash], dihedral: Dihedral
) -> None:
    turned = original.transpose(_TRANSPOSE[dihedral])
    assert best([SignalHash(hash_image(turned).pdq, 100, Variant(VariantKind.FULL))], enrolled) == 0


@pytest.mark.parametrize("size", [(640, 480), (300, 200), (700, 90)])
def test_array_turns_equal_pillow_transposes(size: tuple[int, int]) -> None:
    img = photo(5, size)
    pixels = np.asarray(img)
    for dihedral, op in _TRANSPOSE.items():
        turned = np.asarray(img.transpose(op))
        assert np.array_equal(regions.turn(pixels, dihedral), turned)
        expected = np.asarray(pixels_for_pdq(img.transpose(op)))
        assert np.array_equal(regions.pdq_pixels(pixels, dihedral), expected)


def test_transpose_table_agrees_with_the_dct_variants(original: Image.Image) -> None:
    small = original.resize((320, 240))
    from_dct = dihedral_hashes(dct_from_pixels(np.asarray(small))[0])
    real = {op: hash_image(small.transpose(op)).pdq for op in _TRANSPOSE.values()}
    for dihedral, op in _TRANSPOSE.items():
        closest = min(real, key=lambda o: from_dct[dihedral].distance(real[o]))
        assert closest is op
        assert from_dct[dihedral].distance(real[op]) <= PDQ_MATCH_DISTANCE


def test_letterboxed_copy_matches_through_trimming(
    original: Image.Image, enrolled: list[SignalHash]
) -> None:
    padded = ImageOps.expand(original, border=(0, 120), fill=(0, 0, 0))
    assert hash_image(padded).pdq.distance(enrolled[0].hash) > PDQ_MATCH_DISTANCE
    assert best(query_hashes(padded), enrolled) <= 16


def test_photo_inside_a_screenshot_matches(
    original: Image.Image, enrolled: list[SignalHash]
) -> None:
    shot = Image.new("RGB", (700, 1000), (250, 250, 250))
    draw = ImageDraw.Draw(shot)
    draw.rectangle((0, 0, 700, 60), fill=(30, 60, 200))
    draw.text((20, 20), "Feed", fill="white")
    shot.paste(original.resize((660, 495)), (20, 120))
    draw.text((20, 660), "a caption under the photo", fill="black")
    shot.paste(photo(9, (660, 200)), (20, 780))  # the next post
    assert best(query_hashes(shot), enrolled) <= PDQ_MATCH_DISTANCE


def test_caption_band_is_avoided_by_a_shared_window(
    original: Image.Image, enrolled: list[SignalHash]
) -> None:
    captioned = original.copy()
    ImageDraw.Draw(captioned).rectangle((0, 0, 640, 60), fill=(255, 255, 255))
    assert hash_image(captioned).pdq.distance(enrolled[0].hash) > 0
    assert best(query_hashes(captioned), enrolled) == 0  # the bottom window is untouched


@pytest.mark.parametrize("degrees", [-3.5, 4.0])
def test_straightened_copy_matches_a_rotated_variant(
    original: Image.Image, enrolled: list[SignalHash], degrees: float
) -> None:
    tilted = regions.rotate_fill(original, degrees)
    assert hash_image(tilted).pdq.distance(enrolled[0].hash) > PDQ_MATCH_DISTANCE
    assert best(query_hashes(tilted), enrolled) <= PDQ_MATCH_DISTANCE


def test_distinct_images_do_not_match(enrolled: list[SignalHash]) -> None:
    for seed in (2, 3, 4):
        assert best(query_hashes(photo(seed)), enrolled) > PDQ_MATCH_DISTANCE


def test_tiny_image_gives_plain_pdq_zeros() -> None:
    hashes = enrolment_hashes(Image.new("RGB", (4, 4), (9, 9, 9)))
    assert [h.tag for h in hashes] == ["full"]
    assert hashes[0].hash.value == bytes(32)
    assert hashes[0].quality == 0


def test_flat_variants_are_dropped_but_the_full_hash_stays() -> None:
    hashes = enrolment_hashes(Image.new("RGB", (300, 200), (120, 130, 140)))
    assert {h.variant.kind for h in hashes} <= {VariantKind.FULL}
    assert hashes[0].tag == "full"


def test_not_an_image_is_a_typed_error() -> None:
    with pytest.raises(UnsupportedMediaError):
        enrolment_hashes(b"definitely not an image")


@pytest.mark.parametrize(
    ("variant", "tag"),
    [
        (Variant(VariantKind.FULL), "full"),
        (Variant(VariantKind.CROP, keep=0.8, anchor=Anchor.TOP_LEFT), "crop80-tl"),
        (Variant(VariantKind.ROTATED, degrees=-3.5), "rot-3.5"),
        (Variant(VariantKind.ROTATED, degrees=2.5, rotation=Rotation.EXPAND), "rote+2.5"),
        (Variant(VariantKind.TRIMMED, dihedral=Dihedrals.FROM_DCT), "trim"),
    ],
)
def test_variant_tags(variant: Variant, tag: str) -> None:
    assert variant.tag == tag


@pytest.mark.parametrize(("keep", "degrees"), [(0.0, 0.0), (1.5, 0.0), (1.0, 45.0)])
def test_variant_rejects_bad_geometry(keep: float, degrees: float) -> None:
    with pytest.raises(ValueError, match=r"keep|degrees"):
        Variant(VariantKind.CROP, keep=keep, degrees=degrees)


def test_anchor_positions() -> None:
    assert Anchor.TOP_LEFT.xy == (0.0, 0.0)
    assert Anchor.BOTTOM.xy == (0.5, 1.0)
    assert Anchor.RIGHT.xy == (1.0, 0.5)
    assert regions.crop_window((100, 50), 0.8, Anchor.BOTTOM_RIGHT.xy) == (20, 10, 100, 50)


def test_trim_and_content_boxes(original: Image.Image) -> None:
    assert regions.trim_box(original) is None
    framed = ImageOps.expand(original, border=100, fill=(255, 255, 255))
    box = regions.trim_box(framed)
    assert box is not None
    assert all(abs(a - b) <= 4 for a, b in zip(box, (100, 100, 740, 580), strict=True))
    assert regions.content_box(Image.new("RGB", (64, 64))) is None


def test_compute_variants_skips_what_does_not_apply(original: Image.Image) -> None:
    out = compute_variants(original, (Variant(VariantKind.TRIMMED),))
    assert out == []


def test_decision_rule(original: Image.Image, enrolled: list[SignalHash]) -> None:
    assert is_match(query_hashes(ImageOps.mirror(original)), enrolled)
    assert is_match(query_hashes(original.resize((320, 240))), enrolled)
    assert not is_match(query_hashes(photo(2)), enrolled)


def test_low_quality_enrolled_hashes_never_match() -> None:
    flat = Image.new("RGB", (300, 200), (120, 130, 140))
    enrolled = enrolment_hashes(flat)
    assert enrolled[0].quality < SS_IMG_1.min_enrolled_quality
    assert not is_match(query_hashes(flat), enrolled)
