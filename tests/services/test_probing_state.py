"""Signals under attack in the database (services/probing_state.py): saved, loaded, never
moved back, gone with a withdrawn signal; a fresh detector loads them (a restart)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from stopspread.services import cases
from stopspread.services.context import Services
from stopspread.services.probing import EDGE_BLUR_BITS, EdgeMark, ProbeDetector
from stopspread.services.probing_state import DatabaseEdgeStore
from stopspread.services.signal_input import parse_signal
from stopspread.storage.models import Signal
from stopspread.storage.models_probing import EdgeWatch
from tests.conftest import flip_bits, random_pdq


def _signal(services: Services, rng: np.random.Generator, value: str = "") -> tuple[int, int]:
    new = cases.create_case(services, [parse_signal("pdq", value or random_pdq(rng), 90)])
    case_id = cases.authenticate(services, new.code, new.secret, "1.2.3.4")
    with services.db.read() as session:
        return case_id, max(session.scalars(select(Signal.id)))


def test_marks_are_kept_never_moved_back_and_go_with_the_signal(services: Services) -> None:
    rng = np.random.default_rng(1)
    case_id, signal_id = _signal(services, rng)
    store = DatabaseEdgeStore(services.db, services.replica.cloak)
    now = datetime.now(UTC)
    store.save([EdgeMark(signal_id, now + timedelta(days=7), alarmed=True)])
    store.save([EdgeMark(signal_id, now + timedelta(days=2), alarmed=False)])  # older news
    store.save([EdgeMark(10_000, now + timedelta(days=7), alarmed=False)])  # no such signal
    marks = store.load()
    assert [(m.signal_id, m.alarmed) for m in marks] == [(signal_id, True)]
    assert abs((marks[0].until - (now + timedelta(days=7))).total_seconds()) < 1
    cases.withdraw(services, case_id)
    assert store.load() == []
    with services.db.read() as session:
        assert session.scalars(select(EdgeWatch)).all() == []


def test_a_restarted_detector_keeps_the_blur_and_the_alarm(services: Services) -> None:
    """The first detector sees a walk's edge evidence reach the throttle level, then the
    alarm; a second one (the process after a restart) loads both from the database: its
    edge is blurred and closed, and a new key's first edge hit there is suspended."""
    rng = np.random.default_rng(2)
    hers = random_pdq(rng)
    _case, signal_id = _signal(services, rng, hers)
    store = DatabaseEdgeStore(services.db, services.replica.cloak)
    first = ProbeDetector(clock=lambda: 0.0)
    first.keep_state(store)
    for n in range(12):  # 12 far-apart edge hits: 12 clusters, the alarm level
        value = f"{int(random_pdq(rng), 16):064x}"
        first.edge_hits(n % 2 + 1, [(value, signal_id, 29)], 29)
    first.save_marks()
    assert first.edge_blur(signal_id) == EDGE_BLUR_BITS and first.edge_closed(signal_id)
    second = ProbeDetector(clock=lambda: 100.0)
    assert second.edge_blur(signal_id) == 0
    second.keep_state(store)
    assert second.edge_blur(signal_id) == EDGE_BLUR_BITS and second.edge_closed(signal_id)
    assert second.hides("key", 3, "00" * 32, (signal_id, 27), 29)  # the band: "no match"
    assert not second.hides("key", 3, "00" * 32, (signal_id, 25), 29)  # inside: a match
    alarm = second.edge_hits(3, [(f"{int(random_pdq(rng), 16):064x}", signal_id, 28)], 29)
    assert alarm is not None and alarm.client_ids == (3,) and not alarm.open_review
    assert list(second.closed_values) == [signal_id]  # her value, cloaked as the index has it
    assert second.near_misses(4, [flip_bits(hers, 20, rng)], 29) is None  # a match: no
    assert second.near_misses(5, [flip_bits(hers, 40, rng)], 29) is None  # far: no
    missed = second.near_misses(6, [flip_bits(hers, 31, rng)], 29)  # just outside: yes
    assert missed is not None and missed.client_ids == (6,)


def test_marks_the_database_refused_are_saved_on_the_next_try(services: Services) -> None:
    """A store that cannot write once (the database away): the detector keeps the mark and
    saves it with the next change, instead of losing it."""
    rng = np.random.default_rng(3)
    _case, signal_id = _signal(services, rng)

    class Flaky(DatabaseEdgeStore):
        failures = 1

        def save(self, marks: Sequence[EdgeMark]) -> None:
            if self.failures:
                self.failures -= 1
                raise OperationalError("INSERT", {}, Exception("database is away"))
            super().save(marks)

    store = Flaky(services.db, services.replica.cloak)
    detector = ProbeDetector(clock=lambda: 0.0)
    detector.keep_state(store)
    for _ in range(8):  # 8 far-apart edge hits: the throttle level, under attack
        detector.edge_hits(1, [(f"{int(random_pdq(rng), 16):064x}", signal_id, 29)], 29)
    detector.save_marks()
    assert store.load() == [] and detector.has_marks()
    detector.save_marks()
    assert [m.signal_id for m in store.load()] == [signal_id]
