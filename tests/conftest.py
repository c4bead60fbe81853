"""Shared fixtures: the reference test data (skipped when absent) and synthetic images."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TESTDATA = PROJECT_ROOT.parent / "shared" / "testdata"


@pytest.fixture(scope="session")
def testdata() -> Path:
    """``../shared/testdata`` beside the project root; tests that need it skip without it."""
    if not (TESTDATA / "pdq" / "expected-cpp.csv").is_file():
        pytest.skip(
            f"reference test data not found at {TESTDATA} (see ../shared/testdata/README.md)"
        )
    return TESTDATA


def synthetic_rgb(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A smooth, photo-like synthetic image (never a real photograph)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    img = np.zeros((height, width, 3))
    for _ in range(6):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(0.1, 0.5) * max(width, height)
        blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))
        img += blob[..., None] * rng.uniform(-120, 160, 3)
    img += 60 * np.sin(x / (width / rng.uniform(2, 9)))[..., None]
    # mid-frequency texture, so that PDQ's quality is high (> 50) as for real photos
    img += (
        35 * (np.sin(x / (width / 40) + rng.uniform(0, 6)) * np.cos(y / (height / 30)))[..., None]
    )
    img += rng.normal(0, 4, img.shape)
    return np.clip(img + 90, 0, 255).astype(np.uint8)


def encode(array: np.ndarray, fmt: str = "JPEG", **save_args: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, fmt, **save_args)
    return buf.getvalue()


@pytest.fixture
def make_image() -> Callable[..., np.ndarray]:
    return synthetic_rgb


@pytest.fixture
def jpeg_bytes() -> bytes:
    return encode(synthetic_rgb(800, 600, seed=3), "JPEG", quality=90)
