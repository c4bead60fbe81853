"""Platform use cases: matching, refs, review items, feedback, quarantine, replicas."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from stopspread.errors import ForbiddenError, InvalidRequestError, NotFoundError
from stopspread.services import cases, platform
from stopspread.services.context import Services
from stopspread.services.poller import Poller
from stopspread.services.probing import suspend_for_probing
from stopspread.services.signal_input import parse_signal
from stopspread.storage.models import ReviewItem, ReviewKind, ReviewStatus, Signal, SignalStatus
from tests.conftest import flip_bits, make_services, random_pdq


def _client(svc: Services, name: str = "p1") -> platform.ClientInfo:
    client, key = platform.create_client(svc.db, name)
    clients = platform.ClientDirectory(svc.db)
    clients.refresh()
    assert clients.authenticate(key) == client
    return client


def test_match_answers_only_match_and_a_per_platform_ref(services: Services) -> None:
    rng = np.random.default_rng(2)
    value = random_pdq(rng)
    cases.create_case(services, [parse_signal("pdq", value)])
    services.replica.sync()
    a, b = _client(services, "a"), _client(services, "b")
    near = parse_signal("pdq", flip_bits(value, 29, rng))  # the policy radius
    far = parse_signal("pdq", flip_bits(value, 40, rng))
    hit_a, hit_b = platform.match(services, a, near), platform.match(services, b, near)
    assert hit_a.match and hit_b.match
    assert hit_a.ref and hit_b.ref and hit_a.ref != hit_b.ref
    assert platform.match(services, a, near) == hit_a  # stable per platform
    assert platform.match(services, a, far) == platform.MatchResult(match=False)
    with services.db.read() as session:
        reviews = session.scalars(select(ReviewItem).order_by(ReviewItem.id)).all()
    assert [(r.kind, r.status, r.hits) for r in reviews] == [
        (ReviewKind.MATCH, ReviewStatus.OPEN, 2),
        (ReviewKind.MATCH, ReviewStatus.OPEN, 1),
    ]


def test_feedback_resolves_only_the_clients_own_ref(services: Services) -> None:
    cases.create_case(services, [parse_signal("md5", "ab" * 16)])
    services.replica.sync()
    a, b = _client(services, "a"), _client(services, "b")
    hit = platform.match(services, a, parse_signal("md5", "ab" * 16))
    assert hit.ref is not None
    with pytest.raises(NotFoundError):
        platform.feedback(services, b, hit.ref, ReviewStatus.NOT_NCII)
    platform.feedback(services, a, hit.ref, ReviewStatus.NOT_NCII)
    with services.db.read() as session:
        review = session.scalars(select(ReviewItem)).one()
    assert review.platform_verdict is ReviewStatus.NOT_NCII
    assert review.status is ReviewStatus.OPEN  # the bank owner's reviewer decides, not the platform


def test_a_suddenly_popular_hash_is_quarantined(database_url: str, tmp_path: Path) -> None:
    svc = make_services(database_url, tmp_path, quarantine_min_matches=5, quarantine_factor=3.0)
    rng = np.random.default_rng(3)
    normal, hot = random_pdq(rng), random_pdq(rng)
    cases.create_case(svc, [parse_signal("pdq", normal), parse_signal("pdq", hot)])
    svc.replica.sync()
    clients = [_client(svc, f"p{i}") for i in range(3)]  # quarantine needs 3 platforms
    assert platform.match(svc, clients[0], parse_signal("pdq", normal)).match
    answers = [
        platform.match(svc, clients[i % 3], parse_signal("pdq", hot)).match for i in range(6)
    ]
    assert answers == [True, True, True, True, False, False]  # the 5th reaches max(5, 3 x 1)
    with svc.db.read() as session:
        statuses = dict(session.execute(select(Signal.value, Signal.status)).all())
        kinds = session.scalars(select(ReviewItem.kind)).all()
    assert statuses == {normal: SignalStatus.ACTIVE, hot: SignalStatus.QUARANTINED}
    assert ReviewKind.QUARANTINE in kinds
    svc.db.dispose()


def test_two_processes_see_each_others_changes_on_their_next_poll(
    database_url: str, tmp_path: Path
) -> None:
    """Two replicas on one database (as two worker processes): enrol on one, match on the other
    once its poller has run a whole pass after the change (its clock, not a wall-clock bound)."""

    one, two = make_services(database_url, tmp_path), make_services(database_url, tmp_path)
    pollers = []
    for svc in (one, two):
        clients = platform.ClientDirectory(svc.db)
        pollers.append(Poller(svc.replica, clients, 0.25))
        pollers[-1].start()
    try:
        rng = np.random.default_rng(4)
        value = random_pdq(rng)
        new = cases.create_case(one, [parse_signal("pdq", value)])
        _next_whole_pass(pollers[1])
        assert two.replica.lookup(parse_signal("pdq", value)) != []
        case_id = cases.authenticate(one, new.code, new.secret, "x")
        cases.withdraw(one, case_id)
        assert one.replica.lookup(parse_signal("pdq", value)) == []  # at once where withdrawn
        _next_whole_pass(pollers[1])
        assert two.replica.lookup(parse_signal("pdq", value)) == []
    finally:
        for poller in pollers:
            poller.stop()
        one.db.dispose()
        two.db.dispose()


def _next_whole_pass(poller: Poller, hang_s: float = 120.0) -> None:
    """Return once ``poller`` has finished a pass that began after this call: the pass ending
    first may have started before, so wait for the one after it. ``hang_s`` only stops a hung
    poller from hanging the suite."""
    deadline = time.monotonic() + hang_s
    for _ in range(2):
        since = poller.last_ok
        while poller.last_ok == since:
            assert time.monotonic() < deadline, "the poller stopped polling"
            time.sleep(0.02)


def test_client_keys(services: Services) -> None:
    client, key = platform.create_client(services.db, "shop")
    with pytest.raises(InvalidRequestError):
        platform.create_client(services.db, "shop")
    clients = platform.ClientDirectory(services.db)
    clients.refresh()
    with pytest.raises(ForbiddenError):
        clients.authenticate(key + "x")
    platform.revoke_client(services.db, "shop")
    clients.refresh()
    with pytest.raises(ForbiddenError):
        clients.authenticate(key)
    assert client.can_hash is False


def test_a_suspended_key_is_refused_before_the_next_refresh(services: Services) -> None:
    """A walk's keys are suspended in the database and forgotten by this process at once: the
    cache refreshed on the poller's clock must not let them ask on until then."""
    walker, walker_key = platform.create_client(services.db, "walker")
    _, other_key = platform.create_client(services.db, "other")
    clients = platform.ClientDirectory(services.db)
    clients.refresh()
    suspend_for_probing(services.db, [walker.id], [], edge=True)
    assert clients.authenticate(walker_key).id == walker.id  # the stale cache
    clients.forget([walker.id])
    with pytest.raises(ForbiddenError):
        clients.authenticate(walker_key)
    assert clients.authenticate(other_key).name == "other"
    clients.refresh()  # the database agrees: it stays refused
    with pytest.raises(ForbiddenError):
        clients.authenticate(walker_key)


def test_the_owners_are_told_of_a_walk_whose_keys_were_already_suspended(
    services: Services,
) -> None:
    """An edge alarm names keys that another path (a near miss, the other process) has
    already suspended: the ``probing`` item for her case still opens, once while it is open."""
    cases.create_case(services, [parse_signal("pdq", random_pdq(np.random.default_rng(5)))])
    with services.db.read() as session:
        signal_id = session.scalars(select(Signal.id)).one()
    walker, _ = platform.create_client(services.db, "walker")
    suspend_for_probing(services.db, [walker.id], [], edge=True)  # a near miss: no item
    for _ in range(2):  # the alarm, then the other process's alarm for the same walk
        suspend_for_probing(services.db, [walker.id], [signal_id], edge=True)
    with services.db.read() as session:
        items = list(
            session.scalars(select(ReviewItem).where(ReviewItem.kind == ReviewKind.PROBING))
        )
    assert [(i.signal_id, i.client_id, i.status) for i in items] == [
        (signal_id, walker.id, ReviewStatus.OPEN)
    ]


@pytest.mark.parametrize("kind", ["brute", "mih"])
def test_every_index_kind_serves_the_same_answers(
    sqlite_url: str, tmp_path: Path, kind: str
) -> None:
    from stopspread.config import IndexKind

    svc = make_services(sqlite_url, tmp_path, index_kind=IndexKind(kind))
    rng = np.random.default_rng(5)
    values = [random_pdq(rng) for _ in range(50)]
    cases.create_case(svc, [parse_signal("pdq", v) for v in values[:25]])
    svc.replica.load()  # the first 25 by bulk load, the rest through the change log
    cases.create_case(svc, [parse_signal("pdq", v) for v in values[25:]])
    svc.replica.sync()
    client = _client(svc)
    for v in values:
        assert platform.match(svc, client, parse_signal("pdq", flip_bits(v, 29, rng))).match
    assert not platform.match(svc, client, parse_signal("pdq", random_pdq(rng))).match
    svc.db.dispose()
