"""Video fixtures: the reference vPDQ test set (skipped when absent) and a hash cache.

Helpers live in ``videokit.py`` (a plain module, importable from any test as
``tests.hashing.videokit``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hashing.videokit import VPDQ_DATA, VideoCache


@pytest.fixture(scope="session")
def vpdq_data() -> Path:
    """``../shared/testdata/vpdq`` beside the project root; tests that need it skip without it."""
    if not (VPDQ_DATA / "videos").is_dir():
        pytest.skip(f"vPDQ test data not found at {VPDQ_DATA} (see ../shared/testdata/README.md)")
    return VPDQ_DATA


@pytest.fixture(scope="session")
def video_cache() -> VideoCache:
    return VideoCache()
