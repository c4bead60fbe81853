"""Finding 2: a survivor's exact hash could be read back through yes/no answers — from an
edited copy, flip bits to the edge of the radius, then test each of the 256 single-bit flips
(279 ``/v1/match`` queries, no 429, nothing flagged).

Against a real server: the walk is throttled, then the key is suspended and the bank's owner
gets a ``probing`` review item, long before the walk can finish; a viral near-duplicate burst
and one upload's query set from another key pass untouched.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import select

from stopspread.storage import Database
from stopspread.storage.models import AuditEvent, ReviewItem, ReviewKind
from stopspread.storage.models_probing import EdgeWatch
from tests.conftest import fast_settings, random_pdq
from tests.security import walks
from tests.services.test_limits_shared import redis_url as redis_url  # a fixture
from tests.web.support import api_client, auth, new_client_key, pdq_body

RADIUS = 29  # the platform policy radius (services/match_policy.py)


def _flip(value: int, bit: int) -> int:
    return value ^ (1 << bit)


def _hex(value: int) -> str:
    return f"{value:064x}"


def _walk(client: httpx.Client, key: str, target: int, rng: np.random.Generator) -> list[int]:
    """The review's attack; returns the status of every query it sent (it stops at 403)."""
    statuses: list[int] = []

    def ask(value: int) -> bool | None:
        answer = client.post("/v1/match", json=pdq_body(_hex(value)), headers=auth(key))
        statuses.append(answer.status_code)
        return answer.json()["match"] if answer.status_code == 200 else None

    start = target
    for bit in rng.choice(256, 12, replace=False):
        start = _flip(start, int(bit))  # an edited copy: 12 bits off
    edge, order = start, [int(b) for b in rng.permutation(256)]
    for bit in order:  # phase 1: away from her hash until the answer turns
        if (edge ^ target) >> bit & 1:
            continue
        verdict = ask(_flip(edge, bit))
        if verdict is None:
            return statuses
        if not verdict:
            break
        edge = _flip(edge, bit)
    for bit in range(256):  # phase 2: every single-bit flip of the edge hash
        if ask(_flip(edge, bit)) is None and statuses[-1] == 403:
            return statuses
    return statuses


def test_a_bit_walk_is_stopped_and_reported(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    settings = walks.walk_settings(url, tmp_path)
    walker = new_client_key(settings, "walker")
    rng = np.random.default_rng(2)
    hers = random_pdq(rng)
    with api_client(settings) as client:
        made = client.post("/v1/cases", json={"signals": [pdq_body(hers)]})
        assert made.status_code == 201
        deadline = time.monotonic() + 5  # the index applies the enrolment within a second
        while not client.post("/v1/match", json=pdq_body(hers), headers=auth(walker)).json()[
            "match"
        ]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        statuses = _walk(client, walker, int(hers, 16), rng)
        assert (
            client.post("/v1/match", json=pdq_body(hers), headers=auth(walker)).status_code == 403
        )
    answered = statuses.count(200)
    assert statuses[-1] == 403 and 429 in statuses  # throttled first, then suspended
    assert answered < 256  # the walk needs every one of the 256 flips answered: it never gets them
    db = Database(url)
    with db.read() as session:
        kinds = list(session.scalars(select(ReviewItem.kind)))
        audit = list(session.scalars(select(AuditEvent.kind)))
    db.dispose()
    assert ReviewKind.PROBING in kinds and "client_suspended" in audit


def test_near_duplicate_bursts_of_real_traffic_pass(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    settings = fast_settings(url, tmp_path, client_burst=100_000)
    platform = new_client_key(settings, "busy platform")
    rng = np.random.default_rng(3)
    meme = int(random_pdq(rng), 16)
    unstable = [int(b) for b in rng.choice(256, 24, replace=False)]  # bits near the median
    queries = []
    for _ in range(400):  # re-encodes of one viral picture: a few unstable bits differ
        value = meme
        for bit in rng.choice(unstable, int(rng.integers(0, 5)), replace=False):
            value = _flip(value, int(bit))
        queries.append(value)
    for _ in range(20):  # uploads, each with its query set (far-apart transforms)
        queries += [int(random_pdq(rng), 16) for _ in range(8)]
    with api_client(settings) as client:
        statuses = {
            client.post("/v1/match", json=pdq_body(_hex(q)), headers=auth(platform)).status_code
            for q in queries
        }
    assert statuses == {200}


def test_one_uploads_signal_set_is_one_observation_and_a_walk_in_sets_is_caught() -> None:
    """``/v1/match`` with a signal set: its variants (whole and smoothed a few bits apart) are
    not steps from each other; spread over requests, a walk still is."""
    from stopspread.services.probing import ProbeDetector, Verdict

    detector = ProbeDetector(clock=lambda: 0.0)
    rng = np.random.default_rng(5)
    for _ in range(200):  # uploads whose variants sit 1-3 bits apart, far from each other
        whole = int(random_pdq(rng), 16)
        variants = [_flip(whole, int(b)) for b in rng.choice(256, 3, replace=False)]
        assert detector.observe_upload(1, [_hex(v) for v in (whole, *variants)]) is Verdict.ALLOW
    edge = int(random_pdq(rng), 16)
    verdicts = []
    for start in range(0, 256, 16):  # every single-bit flip of one edge hash, 16 a request
        flips = [_hex(_flip(edge, bit)) for bit in range(start, start + 16)]
        verdicts.append(detector.observe_upload(2, flips))
    assert Verdict.SUSPEND in verdicts


# --- at the edge of one enrolled hash, across keys (services/probing.py, edge_hits) ---


def _walk_outcome(walk: str, keys: int, filler: int = 0, processes: int = 1, seed: int = 2):
    target = int(random_pdq(np.random.default_rng(seed)), 16)
    server = walks.Server(target, processes)
    attacker = walks.Attacker(server, range(1, keys + 1), filler, seed)
    run = walks.review_walk if walk == "review" else walks.padded_walk
    return run(attacker, target, seed), server


def test_a_walk_diluted_with_unrelated_queries_is_stopped_at_the_hashs_edge() -> None:
    """256 random queries between each of the walk's own escape the per-key window; the
    walk's hits at the edge of her hash do not: the key is suspended, the hash not read."""
    outcome, server = _walk_outcome("review", keys=1, filler=256)
    assert not outcome.recovered and server.alarms == 1 and server.suspended == {1}
    assert outcome.answered < 256


def test_a_walk_spread_over_16_keys_is_stopped_and_every_key_suspended() -> None:
    outcome, server = _walk_outcome("review", keys=16)
    assert not outcome.recovered and server.suspended == set(range(1, 17))


def test_a_padded_walk_that_never_steps_is_stopped_by_its_edge_clusters() -> None:
    """Each test padded with known bits, every query > 3 bits from all earlier ones: no
    step for the per-key detector, but each edge hit is a new cluster at her hash's edge."""
    outcome, server = _walk_outcome("padded", keys=1)
    assert not outcome.recovered and server.suspended == {1} and server.alarms == 1


class _HttpServers:
    """Real servers (one process's app each) asked in turn, keys by number."""

    def __init__(self, clients: list[httpx.Client], keys: list[str]) -> None:
        self.clients, self.keys, self.now, self.served = clients, keys, 0.0, 0

    def ask(self, key: int, value: int) -> int | bool:
        client = self.clients[self.served % len(self.clients)]
        self.served += 1
        answer = client.post("/v1/match", json=pdq_body(_hex(value)), headers=auth(self.keys[key]))
        return bool(answer.json()["match"]) if answer.status_code == 200 else answer.status_code


def _enrol(client: httpx.Client, hers: str, key: str) -> None:
    made = client.post("/v1/cases", json={"signals": [pdq_body(hers)]})
    assert made.status_code == 201
    _until_matched(client, hers, key)


def _until_matched(client: httpx.Client, hers: str, key: str) -> None:
    """Wait until the server's index holds her hash (applied on its next poll)."""
    deadline = time.monotonic() + 60  # a hang guard, not a timing claim
    while not client.post("/v1/match", json=pdq_body(hers), headers=auth(key)).json()["match"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_walk_over_two_processes_and_four_keys_is_counted_whole(
    tmp_path: Path, redis_url: str
) -> None:
    """Two servers on one database (two processes' detectors), sharing ``limits_url``; the
    walk alternates servers and 4 keys, so each process sees half of every key's queries."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    settings = walks.walk_settings(url, tmp_path, limits_url=redis_url)
    keys = [new_client_key(settings, f"walker {n}") for n in range(4)]
    hers = random_pdq(np.random.default_rng(3))
    with api_client(settings) as one, api_client(settings) as two:
        _enrol(one, hers, keys[0])  # one case, seen by both processes
        _until_matched(two, hers, keys[0])
        servers = _HttpServers([one, two], keys)
        attacker = walks.Attacker(servers, range(4), filler=0, seed=3, patient=False)
        outcome = walks.review_walk(attacker, int(hers, 16), seed=3)
        # the last alarm's suspension reaches the other process's key list on its next poll
        deadline = time.monotonic() + 60  # a hang guard, not a timing claim
        while (refused := _statuses((one, two), keys, hers)) != {403}:
            assert time.monotonic() < deadline, refused
            time.sleep(0.05)
    assert not outcome.recovered and outcome.answered < 256
    assert refused == {403}  # every key suspended, in both processes
    db = Database(url)
    with db.read() as session:
        kinds = list(session.scalars(select(ReviewItem.kind)))
    db.dispose()
    assert kinds.count(ReviewKind.PROBING) == 1


def _statuses(clients: Sequence[httpx.Client], keys: Sequence[str], value: str) -> set[int]:
    """The statuses every key gets for ``value`` from every server."""
    return {
        c.post("/v1/match", json=pdq_body(value), headers=auth(k)).status_code
        for c in clients
        for k in keys
    }


def test_edge_hits_of_real_traffic_from_40_platforms_pass(tmp_path: Path) -> None:
    """A viral picture of hers, seen by 40 platforms: 300 re-encodes of a copy 8 bits from
    her hash (0-4 of 24 unstable bits flipped: never at the edge), 7 distinct heavy edits at
    the edge (26-29 bits off, random directions), each re-encoded 15 times (0-2 of its 12
    unstable bits), and 20 uploads' query sets of 8: nothing refused, nothing flagged."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    settings = walks.walk_settings(url, tmp_path)
    keys = [new_client_key(settings, f"platform {n}") for n in range(40)]
    rng = np.random.default_rng(7)
    hers = random_pdq(rng)
    target = int(hers, 16)
    queries: list[int] = []
    copy = target
    for bit in rng.choice(256, 8, replace=False):
        copy = _flip(copy, int(bit))
    unstable = [int(b) for b in rng.choice(256, 24, replace=False)]
    for _ in range(300):
        value = copy
        for bit in rng.choice(unstable, int(rng.integers(0, 5)), replace=False):
            value = _flip(value, int(bit))
        queries.append(value)
    for _ in range(7):
        edit = target
        for bit in rng.choice(256, int(rng.integers(26, 30)), replace=False):
            edit = _flip(edit, int(bit))
        its_unstable = [int(b) for b in rng.choice(256, 12, replace=False)]
        queries.append(edit)
        for _ in range(14):
            value = edit
            for bit in rng.choice(its_unstable, int(rng.integers(0, 3)), replace=False):
                value = _flip(value, int(bit))
            queries.append(value)
    for _ in range(20):
        queries += [int(random_pdq(rng), 16) for _ in range(8)]
    order = rng.permutation(len(queries))
    with api_client(settings) as client:
        _enrol(client, hers, keys[0])
        statuses = {
            client.post(
                "/v1/match", json=pdq_body(_hex(queries[i])), headers=auth(keys[i % 40])
            ).status_code
            for i in (int(n) for n in order)
        }
    db = Database(url)
    with db.read() as session:
        kinds = set(session.scalars(select(ReviewItem.kind)))
        audit = set(session.scalars(select(AuditEvent.kind)))
        under_attack = session.scalars(select(EdgeWatch)).all()
    db.dispose()
    assert statuses == {200}
    assert ReviewKind.PROBING not in kinds and "client_suspended" not in audit
    assert under_attack == []  # no blurred edge: her true copies lose nothing


def test_a_blurred_edge_answers_each_query_alike_and_the_inside_always(tmp_path: Path) -> None:
    """``match_edge_blur_bits=4``: hits 26-29 bits off answer "match" with a probability
    falling towards the radius, the same answer for a repeated query; 25 bits off and closer
    always match. Off (the default), every hit within the radius matches (the tests above)."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    settings = walks.walk_settings(url, tmp_path, match_edge_blur_bits=4)
    key = new_client_key(settings, "platform")
    rng = np.random.default_rng(11)
    hers = random_pdq(rng)
    target = int(hers, 16)

    def at(distance: int) -> int:
        value = target
        for bit in rng.choice(256, distance, replace=False):
            value = _flip(value, int(bit))
        return value

    def answers(client: httpx.Client, values: list[int]) -> list[bool]:
        return [
            client.post("/v1/match", json=pdq_body(_hex(v)), headers=auth(key)).json()["match"]
            for v in values
        ]

    edge = [at(29) for _ in range(6)]  # far apart: 6 edge clusters, under the throttle's 8
    inside = [at(int(d)) for d in rng.integers(5, 26, 30)]
    with api_client(settings) as client:
        _enrol(client, hers, key)
        first = answers(client, edge[:6])
        again = answers(client, edge[:6])
        assert answers(client, inside) == [True] * 30
    assert first == again  # a repeat is not a new draw
    assert not all(first)  # 1 in 5 match at the radius itself: all 6 would be 1 in 15,625


def test_a_platform_with_one_copy_at_the_edge_is_not_suspended_by_anothers_walk() -> None:
    rng = np.random.default_rng(2)
    target = int(random_pdq(rng), 16)
    server = walks.Server(target)
    copy = target
    for bit in rng.choice(256, 28, replace=False):  # one heavy edit, 28 bits off
        copy = _flip(copy, int(bit))
    assert server.ask(99, copy) is True
    outcome = walks.review_walk(walks.Attacker(server, [1], 256, 2), target, 2)  # diluted
    assert not outcome.recovered and server.alarms == 1
    assert server.suspended == {1} and server.ask(99, target) is True
