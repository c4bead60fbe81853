"""The web app's follow-up thread: runs the re-checks on its interval, stops at once."""

from __future__ import annotations

import threading

import pytest

from stopspread.services.context import Services
from stopspread.services.removal import rechecks as followup
from stopspread.services.removal.rechecks import FollowUpScheduler


def test_runs_the_checks_and_stops(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    ran = threading.Event()
    calls: list[Services] = []

    def fake(svc: Services) -> list[object]:
        calls.append(svc)
        ran.set()
        return []

    monkeypatch.setattr(followup, "follow_up_open", fake)
    scheduler = FollowUpScheduler(services, 0.01)
    scheduler.start()
    assert ran.wait(30)
    scheduler.stop()
    assert calls[0] is services


def test_a_long_interval_stops_without_waiting_for_it(services: Services) -> None:
    scheduler = FollowUpScheduler(services, 3600)
    scheduler.start()
    scheduler.stop(timeout=30)
    assert scheduler._thread is not None and not scheduler._thread.is_alive()
