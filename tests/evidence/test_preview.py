"""Preview levels: grey blur, colour blur and outline, each far from the original.

The picture is drawn in code (a disc, a square, a line); videos are made in code too.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from stopspread.errors import EvidenceError
from stopspread.evidence._preview_child import _parse
from stopspread.evidence.preview import (
    OUT_WIDTH,
    RECIPES,
    SMALL_LIMIT,
    PreviewLevel,
    finish,
    preview,
)
from tests.cli.conftest import write_video


def _drawing() -> bytes:
    image = Image.new("RGB", (400, 300), (200, 220, 240))
    draw = ImageDraw.Draw(image)
    draw.ellipse((50, 50, 180, 200), fill=(220, 80, 60))
    draw.rectangle((220, 100, 360, 260), fill=(40, 120, 60))
    draw.line((0, 280, 400, 200), fill=(0, 0, 0), width=6)
    for x in range(0, 400, 8):  # fine stripes: detail no preview may keep
        draw.line((x, 0, x, 40), fill=(255, 255, 255) if x % 16 else (0, 0, 0), width=3)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def _open(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width == OUT_WIDTH
    return image


def _stripes_left(image: Image.Image) -> float:
    """Contrast left in the stripe band (top 10 %): the original has about 120."""
    grey = np.asarray(image.convert("L"), dtype=np.float64)
    band = grey[: grey.shape[0] // 10, 10:-10]
    return float(np.abs(np.diff(band, axis=1)).mean())


def test_each_level_keeps_only_what_it_promises() -> None:
    data = _drawing()
    original = Image.open(io.BytesIO(data)).resize((OUT_WIDTH, 180))
    assert _stripes_left(original) > 40
    blur = _open(preview(data, "image/png", PreviewLevel.BLUR))
    colour = _open(preview(data, "image/png", PreviewLevel.COLOUR))
    outline = _open(preview(data, "image/png", PreviewLevel.OUTLINE))
    assert (blur.mode, colour.mode, outline.mode) == ("L", "RGB", "L")
    for image in (blur, colour, outline):
        assert _stripes_left(image) < 6  # the fine stripes are gone at every level
    red, green, _ = np.asarray(colour, dtype=np.int64)[60, 50]  # inside the disc: still red
    assert red > green + 60
    ink = np.asarray(outline)
    assert (ink > 200).mean() > 0.6 and (ink < 120).mean() > 0.03  # lines on white


@pytest.mark.parametrize("level", list(PreviewLevel))
def test_video_levels_are_the_same_in_the_sandbox(tmp_path: Path, level: PreviewLevel) -> None:
    video = write_video(tmp_path / "v.mp4", seed=3, seconds=1).read_bytes()
    inside = preview(video, "video/mp4", level, sandboxed=False)
    assert preview(video, "video/mp4", level) == inside
    assert _open(inside).width == OUT_WIDTH


@pytest.mark.parametrize("level", list(PreviewLevel))
def test_a_level_never_finishes_a_larger_picture(level: PreviewLevel) -> None:
    recipe = RECIPES[level]
    assert recipe.side <= SMALL_LIMIT
    with pytest.raises(EvidenceError):
        finish(Image.new(recipe.mode, (recipe.side + 1, 8)), level)
    other = "RGB" if recipe.mode == "L" else "L"
    with pytest.raises(EvidenceError):
        finish(Image.new(other, (8, 8)), level)


def _reply(width: int, height: int, mode: str, channels: int) -> bytes:
    pixels = base64.b64encode(bytes(width * height * channels)).decode()
    body = {"ok": True, "width": width, "height": height, "mode": mode, "pixels": pixels}
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("level", "reply"),
    [
        (PreviewLevel.BLUR, _reply(32, 8, "L", 1)),  # over the blur level's 24 pixels
        (PreviewLevel.COLOUR, _reply(8, 8, "L", 1)),  # grey where colour was asked
        (PreviewLevel.OUTLINE, _reply(65, 8, "L", 1)),  # over SMALL_LIMIT
        (PreviewLevel.COLOUR, _reply(8, 8, "RGB", 1)),  # too few bytes for RGB
    ],
)
def test_the_parent_refuses_a_wrong_picture_from_the_child(
    level: PreviewLevel, reply: bytes
) -> None:
    with pytest.raises(EvidenceError):
        _parse(reply, 0, level)
