"""Fixtures shared by the web test modules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def reference_results() -> dict[Path, dict[str, Any]]:
    """The hashing test page's answer for each reference image hashed so far this session,
    by path (``tests.web.js_harness.reference_result`` fills it; defined here so that every
    module shares the one dict)."""
    return {}
