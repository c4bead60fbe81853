"""Crash consistency soak (issue 18): SOAK_SCALE x 1,000 ``kill -9`` cycles on SQLite and
x 200 on PostgreSQL, enrolling and withdrawing (tests/security/crashkit.py).

Each ``serve`` is forked from a fork server that imported the web stack once
(tests/security/forkserve.py): a cycle then costs its load, its restart and its checks, not an
interpreter start. ``SOAK_CRASH_BUDGET_S`` (seconds, optional) stops starting new cycles after
that long; the report then says how many ran. Prints cycles, seconds per cycle, acknowledged
enrolments and withdrawals, lost and back; both must be 0.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.security.crashkit import crash_cycles
from tests.security.forkserve import ForkServer
from tests.soak.conftest import scaled

pytestmark = pytest.mark.soak

CYCLES = {"sqlite": 1000, "postgresql": 200}


def test_crash_cycles(database_url: str, tmp_path: Path) -> None:
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    budget = os.environ.get("SOAK_CRASH_BUDGET_S")
    with ForkServer() as forks:
        report = crash_cycles(
            database_url,
            tmp_path,
            scaled(CYCLES[backend]),
            forks=forks,
            budget_s=float(budget) if budget else None,
        )
    print(f"\ncrash soak, {backend}: {report.line()}")
    assert report.errors == 0
    assert report.lost == 0 and report.back == 0 and report.torn == 0
    assert report.audit_ok and report.evidence_ok
