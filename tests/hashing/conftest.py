"""Video fixtures: the reference vPDQ test set (``tests/data/vpdq``) and a hash cache.

Helpers live in ``videokit.py`` (a plain module, importable from any test as
``tests.hashing.videokit``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hashing.videokit import VPDQ_DATA, VideoCache


@pytest.fixture(scope="session")
def vpdq_data() -> Path:
    """``tests/data/vpdq``: Meta's vPDQ videos and their reference hashes."""
    return VPDQ_DATA


@pytest.fixture(scope="session")
def video_cache() -> VideoCache:
    return VideoCache()
