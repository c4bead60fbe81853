"""Issue 18: ``kill -9`` during enrolment and withdrawal loses no acknowledged case and brings
no withdrawn hash back, on SQLite and PostgreSQL (tests/security/crashkit.py; the soak runs
the same harness for 1,000 / 200 cycles: tests/soak/test_crash_soak.py).

The negative control (run on a ``serve`` forked from tests/security/forkserve.py, as the soak
runs it; the other test executes ``stopspread serve`` afresh each time) rolls the SQLite database back to a copy taken mid-cycle (a disk that
dropped its last commits): the same checks must report the lost cases.
"""

from __future__ import annotations

from pathlib import Path

from tests.security.crashkit import CrashReport, Weakening, crash_cycles
from tests.security.forkserve import ForkServer

CI_CYCLES = {"sqlite": 3, "postgresql": 2}  # each start of a real server costs about a second


def _assert_clean(report: CrashReport) -> None:
    assert report.enrolled > 0 and report.withdrawn > 0
    assert report.errors == 0
    assert report.lost == 0 and report.back == 0 and report.torn == 0
    assert report.audit_ok and report.evidence_ok


def test_kill_9_loses_no_acknowledged_case_and_brings_no_withdrawal_back(
    database_url: str, tmp_path: Path
) -> None:
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    report = crash_cycles(database_url, tmp_path, CI_CYCLES[backend])
    print(f"\n{backend}: {report.line()}")
    _assert_clean(report)


def test_the_checks_catch_a_database_that_lost_its_last_commits(
    sqlite_url: str, tmp_path: Path
) -> None:
    with ForkServer() as forks:  # the soak's forked serve: the checks see through it too
        report = crash_cycles(sqlite_url, tmp_path, 1, Weakening.ROLLBACK, forks=forks)
    print(f"\nnegative control: {report.line()}")
    assert report.lost > 0  # the cases acknowledged after the copy are gone, and seen
    assert report.audit_ok  # a rolled-back database is still a consistent prefix
