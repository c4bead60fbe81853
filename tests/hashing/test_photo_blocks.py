"""Candidate photo blocks of a screenshot (``_photo_blocks``): a photo with no flat band
around it (on a wallpaper, over a blurred copy of itself) is found by its own edges; a
plain photo gives none. Screens are drawn in code around ``tests/data`` photos or synthetic
scenes (``tests/hashing/test_keypoints.scene``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from stopspread.hashing._photo_blocks import photo_blocks
from stopspread.hashing._regions import Box, content_box
from tests.hashing.test_keypoints import scene

BRIDGE = Path(__file__).parents[1] / "data" / "pdq" / "images" / "bridge-mods" / "aaa-orig.jpg"


def iou(a: Box, b: Box) -> float:
    w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def chat_on_wallpaper(photo: Image.Image) -> tuple[Image.Image, Box]:
    """A tall chat screen on a faint wallpaper pattern (no flat row or column), a header
    bar, text bubbles, and the photo in a bubble."""
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 256, (10, 5, 3), dtype=np.uint8)
    paper = Image.fromarray(noise).resize((800, 1700), Image.Resampling.BICUBIC)
    out = Image.blend(Image.new("RGB", paper.size, (236, 229, 221)), paper, 0.15)
    draw = ImageDraw.Draw(out)
    draw.rectangle((0, 0, 800, 150), fill=(0, 120, 90))
    for y in range(200, 1650, 110):
        right = int(rng.integers(300, 700))
        draw.rounded_rectangle((40, y, right, y + 70), radius=20, fill=(250, 250, 250))
        draw.text((60, y + 25), "a few words in a bubble", fill=(20, 20, 20))
    draw.rounded_rectangle((160, 500, 780, 940), radius=24, fill=(220, 250, 210))
    small = photo.resize((600, 400))
    out.paste(small, (170, 510))
    return out, (170, 510, 770, 910)


def story_over_blur(photo: Image.Image) -> tuple[Image.Image, Box]:
    """The photo across a tall frame over a blurred, dimmed copy of itself."""
    back = photo.resize((720, 1400)).filter(ImageFilter.GaussianBlur(30))
    out = Image.eval(back, lambda v: int(v * 0.55))
    out.paste(photo.resize((720, 480)), (0, 520))
    return out, (0, 520, 720, 1000)


def test_a_photo_in_a_bubble_on_a_wallpaper_is_found_by_its_edges() -> None:
    shot, box = chat_on_wallpaper(Image.open(BRIDGE).convert("RGB"))
    found = photo_blocks(shot, 2)
    assert found and iou(found[0], box) >= 0.9  # the photo, or its bubble around it


def test_a_photo_over_a_blurred_copy_of_itself_is_found() -> None:
    shot, box = story_over_blur(Image.open(BRIDGE).convert("RGB"))
    assert content_box(shot) is None  # no flat band: the block the query had before misses it
    found = photo_blocks(shot, 2)
    assert found and iou(found[0], box) >= 0.95


def test_a_plain_photo_has_no_photo_block() -> None:
    assert photo_blocks(Image.open(BRIDGE).convert("RGB"), 2) == []
    assert photo_blocks(scene(23), 2) == []


def test_limit_and_a_block_the_caller_has_are_respected() -> None:
    shot, box = chat_on_wallpaper(Image.open(BRIDGE).convert("RGB"))
    assert len(photo_blocks(shot, 1)) <= 1
    assert photo_blocks(shot, 0) == []
    assert all(iou(b, box) < 0.8 for b in photo_blocks(shot, 3, besides=box))
