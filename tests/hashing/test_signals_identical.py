"""The fast signal-set pipeline gives exactly the hashes of the straightforward one.

``tests/data/signals/ss-img-1-digests.json`` holds, per image, a SHA-256 over every
(tag, hash, quality) of the ``ss-img-1`` query and enrolment sets, recorded with the
straightforward pipeline (full-size pixel array, one box resize per use) before it was
made fast. The shared test images and a set of synthetic images made here (odd sizes, one
side over 512, 12 MP, letterboxed, framed, grey, palette, flat, tiny) must still give
the same digests: not one bit of any hash may move. Only digests are stored, no hashes.

Regenerate (only when the recipe itself changes, with a new version)::

    .venv/bin/python -m tests.hashing.test_signals_identical
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from stopspread.hashing.signals import SS_IMG_1, SignalHash, compute_variants

DATA = Path(__file__).resolve().parent.parent / "data"
IMAGES = DATA / "pdq" / "images"
GOLDEN = DATA / "signals" / "ss-img-1-digests.json"
SUFFIXES = (".jpg", ".png", ".webp")


def _field(seed: int, size: tuple[int, int]) -> Image.Image:
    """A smooth random colour field with shapes and grain (no flat bands)."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 256, (7, 9, 3), dtype=np.uint8)
    img = Image.fromarray(noise).resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(img)
    for _ in range(8):
        x, y = rng.uniform(0, size[0]), rng.uniform(0, size[1])
        r = rng.uniform(0.03, 0.2) * min(size)
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
    grain = rng.normal(0, 5, (size[1], size[0], 3))
    return Image.fromarray(np.clip(np.asarray(img) + grain, 0, 255).astype(np.uint8))


def _bordered(seed: int, size: tuple[int, int], inner: tuple[int, int, int, int]) -> Image.Image:
    """A photo pasted into a flat canvas at ``inner`` (letterbox, frame)."""
    canvas = Image.new("RGB", size, (17, 17, 17))
    left, top, right, bottom = inner
    canvas.paste(_field(seed, (right - left, bottom - top)), (left, top))
    return canvas


def _screenshot(seed: int) -> Image.Image:
    """A photo inside flat app chrome with a caption strip and a separator."""
    canvas = Image.new("RGB", (1170, 2532), (250, 250, 250))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, 1169, 140), fill=(30, 30, 30))
    draw.rectangle((40, 300, 900, 330), fill=(90, 90, 90))
    canvas.paste(_field(seed, (1170, 1400)), (0, 420))
    draw.line((0, 1900, 1169, 1900), fill=(200, 200, 200), width=3)
    return canvas


def synthetic() -> dict[str, Callable[[], Image.Image]]:
    """Named factories of the synthetic images (made on demand; deterministic)."""
    sizes = [(640, 480), (513, 512), (512, 2000), (1537, 923), (1920, 1080), (1080, 1080)]
    out: dict[str, Callable[[], Image.Image]] = {
        f"field-{w}x{h}": (lambda w=w, h=h: _field(w * 7 + h, (w, h))) for w, h in sizes
    }
    out["field-4032x3024"] = lambda: _field(12, (4032, 3024))
    out["field-3024x4032"] = lambda: _field(13, (3024, 4032))
    out["letterbox-1920x1080"] = lambda: _bordered(21, (1920, 1080), (240, 0, 1680, 1080))
    out["frame-1200x1500"] = lambda: _bordered(22, (1200, 1500), (130, 170, 1013, 1311))
    out["screenshot-1170x2532"] = lambda: _screenshot(23)
    out["grey-1001x777"] = lambda: _field(24, (1001, 777)).convert("L")
    out["palette-900x700"] = lambda: _field(25, (900, 700)).convert("P")
    out["rgba-800x1200"] = lambda: _field(26, (800, 1200)).convert("RGBA")
    out["flat-1000x800"] = lambda: Image.new("RGB", (1000, 800), (120, 130, 140))
    out["tiny-4x4"] = lambda: _field(27, (4, 4))
    out["thin-2000x6"] = lambda: _field(28, (2000, 6))
    return out


def shared_images() -> list[Path]:
    return sorted(p for p in IMAGES.rglob("*") if p.suffix.lower() in SUFFIXES)


def _digest(hashes: list[SignalHash]) -> str:
    lines = "\n".join(f"{h.tag} {h.hash.hex} {h.quality}" for h in hashes)
    return hashlib.sha256(lines.encode()).hexdigest()


def digests(image: Image.Image) -> dict[str, str]:
    """The digest of the query set and of the enrolment set of one image."""
    query = compute_variants(image.copy(), SS_IMG_1.query, SS_IMG_1.min_query_quality)
    enrol = compute_variants(image.copy(), SS_IMG_1.enrolment, SS_IMG_1.min_enrolled_quality)
    return {"query": _digest(query), "enrolment": _digest(enrol)}


def _shared_digests(path: Path) -> dict[str, str]:
    with Image.open(path) as image:
        image.load()
        return digests(image)


@pytest.fixture(scope="module")
def golden() -> dict[str, dict[str, str]]:
    loaded: dict[str, dict[str, str]] = json.loads(GOLDEN.read_text())
    return loaded


def test_golden_covers_every_image(golden: dict[str, dict[str, str]]) -> None:
    names = {p.relative_to(IMAGES).as_posix() for p in shared_images()} | set(synthetic())
    assert set(golden) == names
    assert len(names) >= 60


@pytest.mark.parametrize("name", [p.relative_to(IMAGES).as_posix() for p in shared_images()])
def test_shared_image_hashes_are_unchanged(name: str, golden: dict[str, dict[str, str]]) -> None:
    assert _shared_digests(IMAGES / name) == golden[name]


@pytest.mark.parametrize("name", list(synthetic()))
def test_synthetic_image_hashes_are_unchanged(name: str, golden: dict[str, dict[str, str]]) -> None:
    assert digests(synthetic()[name]()) == golden[name]


def main() -> None:
    table = {p.relative_to(IMAGES).as_posix(): _shared_digests(p) for p in shared_images()}
    table |= {name: digests(make()) for name, make in synthetic().items()}
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
