"""Sightings grouped by her enrolled photo, and one decision for a group's waiting ones."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from stopspread.errors import InvalidRequestError, NotFoundError
from stopspread.services import audit
from stopspread.services.workers import accounts, review
from stopspread.services.workers.closeness import Closeness
from stopspread.services.workers.grouping import group_sightings
from stopspread.services.workers.review import Decision
from stopspread.storage.models import AuditEvent, SignalType
from stopspread.storage.models_scan import ReviewState, Sighting
from tests.conftest import make_services
from tests.services.review_groups_seed import COPY_DISTANCES, Copies, add_copies
from tests.services.review_seed import PASSWORD, World, build_world

# every database here is used through services: a migrated copy (tests/dbtemplate.py)
pytestmark = pytest.mark.usefixtures("migrated_database")


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[tuple[World, Copies]]:
    svc = make_services(database_url, tmp_path)
    made = build_world(svc, tmp_path)
    yield made, add_copies(made)
    svc.db.dispose()


def _who(world: World, name: str) -> accounts.WorkerIdentity:
    return accounts.login(world.svc, name, PASSWORD, "127.0.0.1").identity


def test_five_copies_of_one_photo_are_one_group(world: tuple[World, Copies]) -> None:
    seed, copies = world
    cards = review.list_sightings(seed.svc, _who(seed, "mina"), case_id=seed.case_a)
    groups = group_sightings(seed.svc, cards)
    by_signal = {g.signal_id: g for g in groups}
    assert set(by_signal) == {copies.photo_1, copies.photo_2, None}
    one = by_signal[copies.photo_1]
    assert sorted(c.id for c in one.cards) == sorted(copies.copies)
    assert (one.number, one.signal_type, one.case_code) == (1, SignalType.PDQ, seed.code_a)
    assert by_signal[copies.photo_2].number == 2
    assert sorted(one.waiting) == sorted(copies.copies)
    assert (
        one.closest.distance == min(COPY_DISTANCES) and one.key == f"{seed.case_a}-{copies.photo_1}"
    )
    words = [c.closeness.closeness for c in sorted(one.cards, key=lambda c: c.distance)]
    assert words == [
        Closeness.NEARLY_SAME,
        Closeness.NEARLY_SAME,
        Closeness.VERY_SIMILAR,
        Closeness.SIMILAR,
        Closeness.SIMILAR,
    ]
    unknown = by_signal[None]  # the seed's sightings carry no signal: one group, no number
    assert unknown.number is None and len(unknown.cards) == 3
    assert sum(len(g.cards) for g in groups) == len(cards) == 9


def test_groups_never_mix_cases_or_centers(world: tuple[World, Copies]) -> None:
    seed, _copies = world
    groups = group_sightings(seed.svc, review.list_sightings(seed.svc, _who(seed, "jiwoo")))
    assert [(g.case_id, len(g.cards)) for g in groups] == [(seed.case_b, 1)]
    assert group_sightings(seed.svc, []) == []


def test_a_group_decision_is_all_or_none_and_logged_per_sighting(
    world: tuple[World, Copies],
) -> None:
    seed, copies = world
    mina = _who(seed, "mina")
    review.decide(seed.svc, mina, copies.copies[0], Decision.SECOND_LOOK)
    with pytest.raises(NotFoundError):  # one of another center's: nothing is decided
        review.decide_many(seed.svc, mina, [*copies.copies, seed.sighting_b], Decision.REJECT)
    with seed.svc.db.read() as session:
        states = [session.get(Sighting, s).review_status for s in copies.copies]  # type: ignore[union-attr]
    assert states == [ReviewState.SECOND_LOOK] + [ReviewState.PENDING] * 4
    done = review.decide_many(seed.svc, mina, [*copies.copies, copies.copies[1]], Decision.CONFIRM)
    assert done == copies.copies  # once each, in order
    with seed.svc.db.read() as session:
        rows = [session.get(Sighting, s) for s in copies.copies]
        assert all(r is not None and r.review_status is ReviewState.CONFIRMED for r in rows)
        assert all(r is not None and r.reviewed_by == "mina" for r in rows)
        kind = audit.AuditKind.SIGHTING_REVIEWED.value
        logged = [
            json.loads(p)
            for p in session.scalars(
                select(AuditEvent.payload).where(AuditEvent.kind == kind).order_by(AuditEvent.seq)
            )
        ]
    assert [e["sighting"] for e in logged[-5:]] == copies.copies
    assert {e["decision"] for e in logged[-5:]} == {"confirm"}
    cards = review.list_sightings(seed.svc, mina, case_id=seed.case_a)
    group = next(g for g in group_sightings(seed.svc, cards) if g.signal_id == copies.photo_1)
    assert group.waiting == ()
    with pytest.raises(InvalidRequestError):
        review.decide_many(seed.svc, mina, [], Decision.CONFIRM)
