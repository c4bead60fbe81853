"""Content-anchored signals (``ss-kp-1``): what one image's keypoints are and how they are
stored. Images are synthetic (shapes on a smooth field, made in code) or ``tests/data``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from stopspread.hashing.keypoints import (
    DESCRIPTOR_BYTES,
    GRID,
    LONG_SIDE,
    N_FEATURES,
    KeypointFormatError,
    KeypointSet,
    extract_keypoints,
    query_keypoint_sets,
)

BRIDGE = Path(__file__).parents[1] / "data" / "pdq" / "images" / "bridge-mods" / "aaa-orig.jpg"


def scene(seed: int, size: tuple[int, int] = (900, 600)) -> Image.Image:
    """Rectangles, ellipses and lines of random colours on a smooth field: many corners."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    img = Image.fromarray(noise).resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(img)
    w, h = size
    for _ in range(60):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(10, w // 5)), y0 + int(rng.integers(10, h // 5))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        shape = int(rng.integers(0, 3))
        if shape == 0:
            draw.rectangle((x0, y0, x1, y1), fill=fill)
        elif shape == 1:
            draw.ellipse((x0, y0, x1, y1), fill=fill)
        else:
            draw.line((x0, y0, x1, y1), fill=fill, width=int(rng.integers(2, 8)))
    return img


def test_a_textured_picture_keeps_at_most_n_features_within_16_kb() -> None:
    kp = extract_keypoints(scene(1))
    assert 100 <= len(kp) <= N_FEATURES
    assert kp.descriptors.shape == (len(kp), DESCRIPTOR_BYTES)
    assert kp.cells.max() < GRID
    assert len(kp.to_bytes()) <= 16 * 1024


@pytest.mark.parametrize("size", [(3000, 2000), (320, 200), (200, 400)])
def test_the_working_copy_has_the_same_long_side_whatever_the_upload(
    size: tuple[int, int],
) -> None:
    kp = extract_keypoints(scene(2, size))
    assert max(kp.width, kp.height) == LONG_SIDE
    assert abs(kp.width / kp.height - size[0] / size[1]) < 0.01


def test_stored_bytes_round_trip() -> None:
    kp = extract_keypoints(scene(3))
    back = KeypointSet.from_bytes(kp.to_bytes())
    assert (back.width, back.height) == (kp.width, kp.height)
    assert np.array_equal(back.cells, kp.cells)
    assert np.array_equal(back.descriptors, kp.descriptors)


def test_the_same_pixels_give_the_same_bytes() -> None:
    assert extract_keypoints(scene(4)).to_bytes() == extract_keypoints(scene(4)).to_bytes()


@pytest.mark.parametrize(
    "data", [b"", b"\x01\x00", b"\x02" + bytes(6), b"\x01\x02\x80\x01\xe0\x00\x01"]
)
def test_bytes_that_are_not_a_record_are_refused(data: bytes) -> None:
    with pytest.raises(KeypointFormatError):
        KeypointSet.from_bytes(data)


def test_a_flat_picture_has_no_keypoints_and_still_round_trips() -> None:
    kp = extract_keypoints(Image.new("RGB", (500, 400), (90, 90, 90)))
    assert len(kp) == 0
    assert len(KeypointSet.from_bytes(kp.to_bytes())) == 0


def test_no_colour_is_kept_only_grey_levels() -> None:
    img = scene(5)
    grey = ImageOps.grayscale(img).convert("RGB")
    assert extract_keypoints(img).to_bytes() == extract_keypoints(grey).to_bytes()


def test_a_query_also_computes_its_mirror() -> None:
    img = Image.open(BRIDGE).convert("RGB")
    sets = query_keypoint_sets(img)
    assert len(sets) == 2  # a photo with no flat bands has no content block of its own
    own, mirrored = sets
    assert own.to_bytes() == extract_keypoints(img).to_bytes()
    flipped = extract_keypoints(ImageOps.mirror(img))
    assert len(mirrored) == len(flipped)
    common = {bytes(r) for r in mirrored.descriptors} & {bytes(r) for r in flipped.descriptors}
    assert len(common) >= 0.95 * len(flipped)  # a point on a grid line may fall either side


def phone_frame(photo: Image.Image) -> Image.Image:
    """A tall flat frame, bars and text rows above and below, the photo in the middle at
    about 40 % of the area (a screenshot of a feed)."""
    out = Image.new("RGB", (photo.width + 60, photo.height * 2 + 200), (250, 250, 250))
    draw = ImageDraw.Draw(out)
    draw.rectangle((0, 0, out.width, 60), fill=(30, 90, 200))
    for y in range(photo.height + 260, out.height - 20, 40):
        draw.text((30, y), "caption words and a few more of them", fill=(20, 20, 20))
    out.paste(photo, (30, 160))
    return out


def test_a_photo_inside_a_frame_gets_a_set_of_its_own() -> None:
    photo = scene(9)
    sets = query_keypoint_sets(phone_frame(photo))
    assert len(sets) == 3
    block = sets[2]
    assert abs(block.width / block.height - photo.width / photo.height) < 0.05
    assert max(block.width, block.height) == LONG_SIDE


def test_a_frame_that_is_mostly_photo_adds_no_set() -> None:
    photo = scene(10)
    framed = ImageOps.expand(photo, border=(0, 30, 0, 30), fill=(255, 255, 255))
    assert len(query_keypoint_sets(framed)) == 2


def test_keypoints_are_spread_over_the_picture() -> None:
    """A busy corner (a sticker, a caption) cannot take more than 1/8 of the anchors while
    the rest of the picture has any."""
    img = scene(7)
    busy = scene(8, (225, 150))
    img.paste(busy, (0, 0))
    kp = extract_keypoints(img)
    top_left = (kp.cells[:, 0] < GRID // 4) & (kp.cells[:, 1] < GRID // 4)
    assert int(top_left.sum()) <= N_FEATURES // 8


def test_points_are_cell_centres_in_working_copy_pixels() -> None:
    kp = extract_keypoints(scene(6))
    pts = kp.points()
    assert pts.shape == (len(kp), 2)
    assert (pts[:, 0] > 0).all() and (pts[:, 0] < kp.width).all()
    assert (pts[:, 1] > 0).all() and (pts[:, 1] < kp.height).all()
