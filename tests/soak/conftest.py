"""Shared settings for the soak suites: ``SOAK_SCALE`` scales every count and duration."""

from __future__ import annotations

import os


def soak_scale() -> float:
    """``SOAK_SCALE`` from the environment (default 1.0): 0.01 gives a quick rehearsal."""
    return float(os.environ.get("SOAK_SCALE", "1"))


def scaled(count: int, minimum: int = 1) -> int:
    """``count`` times the soak scale, at least ``minimum``."""
    return max(minimum, int(count * soak_scale()))
