"""A pytest plugin: a skipped test is a failed test, unless it says why it may skip.

A skip hides a test that did not run; in this project that has meant the bit-exact PDQ tests
silently not running on every fresh clone. So every skip (``pytest.skip``, ``skipif``,
``importorskip``, a skip in a fixture, a whole module skipped at collection) fails the run,
except in a test marked ``@pytest.mark.platform_dependent(reason="...")``: a test that can
only run on some platforms, with the reason written down where a reviewer sees it.

``tests/conftest.py`` loads it; ``tests/test_skipguard.py`` checks it in a separate run.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Final

import pytest

__all__ = ["MARKER", "pytest_configure", "pytest_make_collect_report", "pytest_runtest_makereport"]

MARKER: Final = "platform_dependent"
_HELP: Final = (
    f"{MARKER}(reason): the test may skip on some platforms; "
    "any other skip fails the run (tests/skipguard.py)"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _HELP)


def _allowed(item: pytest.Item) -> str | None:
    """Why this test may skip, or ``None`` when it may not."""
    marker = item.get_closest_marker(MARKER)
    if marker is None:
        return None
    reason = marker.kwargs.get("reason", marker.args[0] if marker.args else "")
    return reason if isinstance(reason, str) and reason.strip() else None


def _skip_reason(report: pytest.CollectReport | pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def _message(where: str, reason: str) -> str:
    return (
        f"{where} was skipped ({reason}); a skip is a failure here. Make it run, or mark the "
        f'test @pytest.mark.{MARKER}(reason="...") if it truly cannot run on some platforms.'
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.skipped and not hasattr(report, "wasxfail") and _allowed(item) is None:
        report.outcome = "failed"
        report.longrepr = _message(f"{item.nodeid} ({report.when})", _skip_reason(report))
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    if report.skipped:
        report.outcome = "failed"
        report.longrepr = _message(collector.nodeid or "collection", _skip_reason(report))
    return report
