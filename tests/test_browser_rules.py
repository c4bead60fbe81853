"""Rules for the browser tests that a reviewer should not have to remember (see tests/browser.py).

``wait_for_function`` polls by evaluating its string again on later animation frames, which
the pages' CSP (no ``unsafe-eval``) refuses: a test that used it failed now and then.
``bypass_csp`` would hide exactly the violations the pages must not have.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
FORBIDDEN = (".wait_for_function(", "bypass_csp")


@pytest.mark.parametrize("needle", FORBIDDEN)
def test_no_browser_test_uses(needle: str) -> None:
    found = [
        f"{path.relative_to(TESTS)}:{number}"
        for path in sorted(TESTS.rglob("*.py"))
        if path != Path(__file__).resolve()
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1)
        if needle in line
    ]
    assert found == []
