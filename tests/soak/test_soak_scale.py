"""The soak scale itself (runs under `make soak`, so the soak run never collects nothing)."""

import pytest

from tests.soak.conftest import scaled

pytestmark = pytest.mark.soak


def test_scaled_never_below_minimum() -> None:
    assert scaled(0, minimum=3) == 3
    assert scaled(1000) >= 1
