"""Geometric verification of ``ss-kp-1`` keypoints: a crop, a tilt, a border, a screenshot-like
frame or a mirror of the same picture verifies; a different picture does not.
Images are synthetic (made in code, see ``tests/hashing/test_keypoints.py``) or ``tests/data``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageOps
from tests.hashing.test_keypoints import phone_frame, scene
from tests.hashing.test_photo_blocks import chat_on_wallpaper, story_over_blur

from stopspread.hashing.keypoints import extract_keypoints, query_keypoint_sets
from stopspread.matching.keypoint_verify import (
    DEFAULT_VERIFY_RULE,
    VerifyRule,
    measure,
    verify,
    verify_any,
)

IMAGES = Path(__file__).parents[1] / "data" / "pdq" / "images"
BRIDGE = IMAGES / "bridge-mods" / "aaa-orig.jpg"
OTHERS = sorted((IMAGES / "labelme-subset").glob("*.jpg"))


def crop(img: Image.Image, keep: float, left: float, top: float) -> Image.Image:
    w, h = round(img.width * keep), round(img.height * keep)
    x, y = round((img.width - w) * left), round((img.height - h) * top)
    return img.crop((x, y, x + w, y + h))


def border(img: Image.Image, share: float, fill: tuple[int, int, int]) -> Image.Image:
    out = Image.new("RGB", (round(img.width * (1 + share)), round(img.height * (1 + share))), fill)
    out.paste(img, (round(img.width * share / 3), round(img.height * share / 2)))
    return out


def framed(img: Image.Image) -> Image.Image:
    """A tall screenshot-like frame: bars above and below, the photo at 60 % of its size."""
    small = img.resize((round(img.width * 0.6), round(img.height * 0.6)))
    out = Image.new("RGB", (small.width + 40, small.height * 2), (250, 250, 250))
    out.paste((30, 90, 200), (0, 0, out.width, 80))
    out.paste(small, (20, 120))
    return out


EDITS = {
    "crop 80 % off-centre": lambda im: crop(im, 0.8, 0.9, 0.1),
    "crop 90 %": lambda im: crop(im, 0.9, 0.5, 0.5),
    "tilt 6 degrees, canvas expanded": lambda im: im.rotate(6, expand=True),
    "tilt -4 degrees, black corners": lambda im: im.rotate(-4),
    "border 30 % white": lambda im: border(im, 0.3, (255, 255, 255)),
    "quarter turn": lambda im: im.transpose(Image.Transpose.ROTATE_90),
    "screenshot-like frame": framed,
    "9:16 story crop": lambda im: crop(im, 1.0, 0.5, 0.5).crop(
        (im.width // 2 - im.height * 9 // 32, 0, im.width // 2 + im.height * 9 // 32, im.height)
    ),
}


@pytest.mark.parametrize("name", list(EDITS))
def test_an_edited_copy_of_a_synthetic_scene_verifies(name: str) -> None:
    original = scene(11)
    result = measure(extract_keypoints(EDITS[name](original)), extract_keypoints(original))
    assert result.verified, result


@pytest.mark.parametrize("name", ["crop 80 % off-centre", "tilt 6 degrees, canvas expanded"])
def test_an_edited_copy_of_a_real_photo_verifies(name: str) -> None:
    original = Image.open(BRIDGE).convert("RGB")
    assert verify(extract_keypoints(EDITS[name](original)), extract_keypoints(original))


def test_a_mirrored_copy_verifies_through_the_querys_mirror_set() -> None:
    original = scene(12)
    queries = query_keypoint_sets(ImageOps.mirror(original))
    assert verify_any(queries, extract_keypoints(original)).verified


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_different_synthetic_scenes_do_not_verify(seed: int) -> None:
    enrolled = extract_keypoints(scene(20))
    for query in query_keypoint_sets(crop(scene(seed), 0.85, 0.2, 0.7)):
        assert not verify(query, enrolled)


def test_different_real_photos_do_not_verify() -> None:
    sets = [extract_keypoints(Image.open(p).convert("RGB")) for p in [BRIDGE, *OTHERS]]
    for i, query in enumerate(sets):
        for j, enrolled in enumerate(sets):
            if i != j:
                assert not measure(query, enrolled).verified, (i, j)


def test_an_inlier_count_alone_is_not_enough() -> None:
    original = scene(13)
    query, enrolled = extract_keypoints(crop(original, 0.8, 0.3, 0.3)), extract_keypoints(original)
    result = measure(query, enrolled)
    assert result.verified
    no_scale_room = VerifyRule(min_scale=2.0, max_scale=3.0)
    assert not measure(query, enrolled, no_scale_room).verified
    too_many = VerifyRule(min_inliers=result.inliers + 1)
    assert not measure(query, enrolled, too_many).verified


def shared_band(body_seed: int) -> Image.Image:
    """A drawing on flat grey: the same low-contrast banner across the top of every one,
    then a busy figure of its own below (two pictures sharing artwork, not copies)."""
    out = Image.new("RGB", (600, 900), (200, 200, 200))
    grey = Image.new("RGB", (600, 120), (200, 200, 200))
    out.paste(Image.blend(grey, scene(40, (600, 120)), 0.6), (0, 0))
    out.paste(scene(body_seed, (600, 760)), (0, 140))
    return out


def test_a_fit_on_shared_artwork_alone_is_not_a_copy() -> None:
    """The banner's 30-odd inliers pass the count, the ratio, the spread and the cover;
    every busy cell of the figures disagrees, so the layout check refuses them."""
    query, enrolled = extract_keypoints(shared_band(42)), extract_keypoints(shared_band(41))
    result = measure(query, enrolled)
    assert result.inliers >= DEFAULT_VERIFY_RULE.min_inliers
    assert result.cover >= DEFAULT_VERIFY_RULE.min_cover
    assert result.layout < DEFAULT_VERIFY_RULE.min_layout
    assert not result.verified
    assert measure(query, enrolled, VerifyRule(min_layout=0.0)).verified


def test_a_copy_agrees_over_the_whole_overlap() -> None:
    original = scene(15)
    query = extract_keypoints(crop(original, 0.8, 0.4, 0.6))
    result = measure(query, extract_keypoints(original))
    assert result.verified
    assert result.layout >= 0.75 and result.cover >= 0.3


def test_a_small_photo_in_a_phone_frame_verifies_through_its_content_block() -> None:
    original = scene(16)
    enrolled = extract_keypoints(original)
    sets = query_keypoint_sets(phone_frame(original.resize((450, 300))))
    whole, block = measure(sets[0], enrolled), measure(sets[2], enrolled)
    assert block.verified and block.inliers > whole.inliers
    assert verify_any(sets, enrolled).verified


@pytest.mark.parametrize("screen", [chat_on_wallpaper, story_over_blur])
def test_a_photo_with_no_flat_band_around_it_verifies_through_a_photo_block(
    screen: Callable[[Image.Image], tuple[Image.Image, tuple[int, int, int, int]]],
) -> None:
    original = Image.open(BRIDGE).convert("RGB")
    enrolled = extract_keypoints(original)
    shot, _ = screen(original)
    before = query_keypoint_sets(shot, photo_block_limit=0)
    assert not verify_any(before, enrolled).verified  # the frame's sets miss it
    now = query_keypoint_sets(shot)
    assert len(now) > len(before)
    assert verify_any(now, enrolled).verified


def test_a_flat_query_has_nothing_to_verify() -> None:
    flat = extract_keypoints(Image.new("RGB", (400, 300), (128, 128, 128)))
    result = measure(flat, extract_keypoints(scene(14)))
    assert not result.verified and result.inliers == 0 and result.inlier_ratio == 0.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ratio": 0.0},
        {"min_inlier_ratio": 1.5},
        {"min_scale": 2.0, "max_scale": 1.0},
        {"min_inliers": 2},
        {"min_spread_cells": 17},
        {"min_cover": 1.5},
        {"min_layout": -0.1},
    ],
)
def test_a_rule_out_of_range_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"ratio|scale|inliers|cover"):
        VerifyRule(**kwargs)  # type: ignore[arg-type]
