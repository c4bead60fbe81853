"""Finding 2, the rest: a padded walk over 16 keys read the hash although the edge detector
counted it (each key made one or two edge hits). Now a signal whose edge evidence reaches the
throttle level is *under attack*: its hits at the edge answer "match" only with a probability
falling towards the radius, one draw per query for every key, in every process, for a quiet
week, and that state (and the alarm) is in the database, so a restart keeps it
(services/probing.py, services/probing_state.py).
"""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from stopspread.config import Settings
from stopspread.services.probing import EDGE_BLUR_BITS, EdgeMark, ProbeDetector
from stopspread.services.probing_state import DatabaseEdgeStore
from stopspread.storage import Database
from stopspread.storage.models import Signal
from stopspread.storage.models_probing import EdgeWatch
from stopspread.web.app import create_app
from tests.conftest import random_pdq
from tests.security import walks
from tests.web.support import auth, live_server, new_client_key, pdq_body, serve

SEEDS = (2, 3, 4)


def _walk(
    keys: int,
    seed: int,
    adaptive: bool = True,
    repeats: int = 0,
    oracle: bool = False,
    near: bool = True,
) -> walks.Outcome:
    target = int(random_pdq(np.random.default_rng(seed)), 16)
    server = walks.Server(target, adaptive=adaptive, near=near)
    attacker = walks.Attacker(server, range(1, keys + 1), 0, seed)
    return walks.padded_walk(attacker, target, seed, repeats=repeats, oracle=oracle)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_padded_walk_over_16_keys_read_the_hash_without_the_adaptive_blur(seed: int) -> None:
    """The negative control: the walk the tests below stop does read her hash otherwise."""
    assert _walk(16, seed, adaptive=False).recovered


@pytest.mark.parametrize(("keys", "repeats"), [(16, 0), (32, 0), (16, 4), (32, 4)])
def test_a_padded_walk_over_many_keys_no_longer_reads_the_hash(keys: int, repeats: int) -> None:
    """16 or 32 keys, taking the first answer or asking each "no" again with fresh pads."""
    for seed in SEEDS:
        assert not _walk(keys, seed, repeats=repeats).recovered


def test_a_walker_reading_its_own_suspensions_no_longer_reads_the_hash() -> None:
    """After the alarm a key's first edge hit suspends it, so a refusal after a "no" told
    the walker its test was in the band: with 16 keys it read the hash (the negative
    control, near misses not watched). Near misses of an alarmed signal now suspend alike."""
    for seed in SEEDS:
        assert _walk(16, seed, repeats=4, oracle=True, near=False).recovered
        assert not _walk(16, seed, repeats=4, oracle=True).recovered
        assert not _walk(32, seed, repeats=4, oracle=True).recovered


def _to(target: int, distance: int, rng: np.random.Generator) -> int:
    return walks.flip(target, *(int(b) for b in rng.choice(256, distance, replace=False)))


def test_real_traffic_puts_no_signal_under_attack() -> None:
    """The 40-platform traffic model of test_probing.py (re-encodes inside, 7 distinct heavy
    edits at the edge each re-encoded 15 times): the edge is never blurred, so true copies
    lose nothing. The HTTP version there checks the ``edge_watch`` table stays empty."""
    rng = np.random.default_rng(7)
    target = int(random_pdq(rng), 16)
    server = walks.Server(target)
    answers, expected = [], []
    for n in range(7):
        edit = _to(target, int(rng.integers(26, 30)), rng)
        unstable = [int(b) for b in rng.choice(256, 12, replace=False)]
        for _ in range(15):
            flips = rng.choice(unstable, int(rng.integers(0, 3)), replace=False)
            value = walks.flip(edit, *(int(b) for b in flips))
            answers.append(server.ask(n % 40, value))
            expected.append((value ^ target).bit_count() <= walks.RADIUS)  # a re-encode may
    assert answers == expected and sum(expected) > 90  # leave the radius: a plain "no"
    assert not server.detectors[0].blurring and not server.store.marks


def test_other_signals_answer_as_before_while_one_is_under_attack() -> None:
    """Recall on the signals not under attack is untouched by construction: only the
    attacked signal's edge band is blurred."""
    detector = ProbeDetector(clock=lambda: 0.0)
    rng = np.random.default_rng(9)
    attacked, other = 1, 2
    edge = [walks.hex64(_to(0, 29, rng)) for _ in range(8)]  # 8 clusters: throttle level
    for value in edge:
        detector.edge_hits(100, [(value, attacked, 29)], walks.RADIUS)
    assert detector.edge_blur(attacked) == EDGE_BLUR_BITS and detector.edge_blur(other) == 0
    assert set(detector.blurring) == {attacked}


# --- over HTTP: real servers, a restart in the middle of the walk ---


class _Clock:
    """The detector's clock, moved on by the walker's waits (no test sleeps a minute)."""

    def __init__(self) -> None:
        self.now = 0.0


def _app(settings: Settings, clock: _Clock):  # type: ignore[no-untyped-def]
    app = create_app(settings)
    app.state.probe_detector = ProbeDetector(
        clock=lambda: clock.now, wall=lambda: time.time() + clock.now
    )
    return app


class _RestartingServer:
    """One real server asked in turn by the walk's keys; once the signal is marked under
    attack in the database, the server is stopped and a new one started on it (the next
    answers come from a process that never saw the walk)."""

    def __init__(self, settings: Settings, keys: list[str], stack: contextlib.ExitStack) -> None:
        self.settings, self.keys, self.stack = settings, keys, stack
        self.clock, self.restarted_blurring = _Clock(), None
        self.inner = contextlib.ExitStack()
        self.client = self._start()

    @property
    def now(self) -> float:
        return self.clock.now

    @now.setter
    def now(self, value: float) -> None:
        self.clock.now = value

    def _start(self) -> httpx.Client:
        app = _app(self.settings, self.clock)
        base = self.inner.enter_context(serve(app))
        self.app = app
        return self.inner.enter_context(httpx.Client(base_url=base, timeout=30))

    def ask(self, key: int, value: int) -> int | bool:
        answer = self.client.post(
            "/v1/match", json=pdq_body(walks.hex64(value)), headers=auth(self.keys[key])
        )
        if self.restarted_blurring is None and _watched(self.settings):
            self.inner.close()
            self.inner = contextlib.ExitStack()
            self.client = self._start()
            self.restarted_blurring = dict(self.app.state.probe_detector.blurring)
        return bool(answer.json()["match"]) if answer.status_code == 200 else answer.status_code

    def close(self) -> None:
        self.inner.close()


def _watched(settings: Settings) -> list[tuple[int, bool]]:
    db = Database(settings.url)
    with db.read() as session:
        rows = session.execute(select(EdgeWatch.signal_id, EdgeWatch.alarmed)).all()
    db.dispose()
    return [(r[0], r[1]) for r in rows]


def _enrol(client: httpx.Client, key: str, *values: str) -> None:
    for value in values:
        assert client.post("/v1/cases", json={"signals": [pdq_body(value)]}).status_code == 201
    deadline = time.monotonic() + 60  # a hang guard: the index applies it on its next poll
    for value in values:
        while not client.post("/v1/match", json=pdq_body(value), headers=auth(key)).json()["match"]:
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_a_walk_stays_blurred_and_stopped_across_a_restart(tmp_path: Path) -> None:
    """The padded walk over 16 keys against a real server; the moment its signal is marked
    under attack, the server restarts on the same database: the new process has the edge
    blurred before its first query, and the walk does not read the hash."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    settings = walks.walk_settings(url, tmp_path)
    keys = [new_client_key(settings, f"walker {n}") for n in range(17)]
    hers = random_pdq(np.random.default_rng(2))
    with live_server(settings) as base, httpx.Client(base_url=base, timeout=30) as client:
        _enrol(client, keys[16], hers)
    with contextlib.ExitStack() as stack:
        server = _RestartingServer(settings, keys, stack)
        try:
            attacker = walks.Attacker(server, range(16), filler=0, seed=2)
            outcome = walks.padded_walk(attacker, int(hers, 16), seed=2)
        finally:
            server.close()
    watched = _watched(settings)
    assert server.restarted_blurring is not None  # the restart happened mid-walk
    assert len(watched) == 1 and set(server.restarted_blurring) == {watched[0][0]}
    assert not outcome.recovered
    assert watched[0][1]  # the alarm went off and is kept


def test_a_signal_under_attack_is_blurred_from_start_up_and_the_others_are_not(
    tmp_path: Path,
) -> None:
    """Her signal marked under attack in the database before the server starts: its edge
    answers are blurred for a fresh key, one draw per query (a second key gets the same
    answers); another signal's edge copies and every copy inside the band all match."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    settings = walks.walk_settings(url, tmp_path)
    one, two = new_client_key(settings, "platform 1"), new_client_key(settings, "platform 2")
    rng = np.random.default_rng(12)
    hers, other = random_pdq(rng), random_pdq(rng)
    with live_server(settings) as base, httpx.Client(base_url=base, timeout=30) as client:
        _enrol(client, one, hers, other)
    db = Database(url)
    with db.read() as session:
        ids = list(session.scalars(select(Signal.id).order_by(Signal.id)))
    until = datetime.now(UTC) + timedelta(days=7)
    DatabaseEdgeStore(db, None).save([EdgeMark(ids[0], until, alarmed=False)])
    db.dispose()
    at = partial(_to, rng=rng)
    her_edge = [walks.hex64(at(int(hers, 16), 29)) for _ in range(6)]  # 6 clusters: < 8
    other_edge = [walks.hex64(at(int(other, 16), int(d))) for d in rng.integers(26, 30, 6)]
    inside = [walks.hex64(at(int(hers, 16), int(d))) for d in rng.integers(5, 26, 20)]

    def answers(client: httpx.Client, key: str, values: list[str]) -> list[bool]:
        got = [client.post("/v1/match", json=pdq_body(v), headers=auth(key)) for v in values]
        assert {r.status_code for r in got} == {200}
        return [bool(r.json()["match"]) for r in got]

    with live_server(settings) as base, httpx.Client(base_url=base, timeout=30) as client:
        first = answers(client, one, her_edge)
        assert answers(client, two, her_edge) == first  # one draw per query, every key
        assert answers(client, two, other_edge) == [True] * 6
        assert answers(client, two, inside) == [True] * 20
    assert not all(first)  # 1 in 5 match at the radius: all six would be 1 in 15,625


def test_after_an_alarm_the_band_answers_no_and_near_misses_suspend_alike(
    tmp_path: Path,
) -> None:
    """Her signal alarmed in the database before the server starts: a copy 27 bits off
    answers "no" and its key is refused next; a query 31 bits off (outside the radius)
    costs its key the same, so a refusal tells no walker which side it fell on; a copy 20
    bits off still matches and its key goes on."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    settings = walks.walk_settings(url, tmp_path)
    keys = [new_client_key(settings, f"platform {n}") for n in range(3)]
    rng = np.random.default_rng(13)
    hers = random_pdq(rng)
    with live_server(settings) as base, httpx.Client(base_url=base, timeout=30) as client:
        _enrol(client, keys[2], hers)
    db = Database(url)
    with db.read() as session:
        signal_id = session.scalars(select(Signal.id)).one()
    until = datetime.now(UTC) + timedelta(days=7)
    DatabaseEdgeStore(db, None).save([EdgeMark(signal_id, until, alarmed=True)])
    db.dispose()
    target = int(hers, 16)
    with live_server(settings) as base, httpx.Client(base_url=base, timeout=30) as client:

        def ask(key: str, value: int) -> int | bool:
            got = client.post("/v1/match", json=pdq_body(walks.hex64(value)), headers=auth(key))
            return bool(got.json()["match"]) if got.status_code == 200 else got.status_code

        assert ask(keys[0], _to(target, 27, rng)) is False  # the band, closed
        assert ask(keys[1], _to(target, 31, rng)) is False  # just outside the radius
        assert ask(keys[2], _to(target, 20, rng)) is True  # well inside: a match
        assert [ask(k, target) for k in keys] == [403, 403, True]  # refused at once


def test_a_signal_under_attack_in_one_process_is_blurred_in_the_other(tmp_path: Path) -> None:
    """Two servers on one database, no ``limits_url``: 8 far-apart edge hits on her signal
    through the first (the throttle level) mark it; the second, which saw none of them,
    blurs its edge within a poll."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    settings = walks.walk_settings(url, tmp_path)
    keys = [new_client_key(settings, f"platform {n}") for n in range(9)]
    rng = np.random.default_rng(14)
    hers = random_pdq(rng)
    target = int(hers, 16)
    with live_server(settings) as base, httpx.Client(base_url=base, timeout=30) as client:
        _enrol(client, keys[8], hers)
    one, two = create_app(settings), create_app(settings)
    with serve(one) as base_one, serve(two) as base_two, httpx.Client(timeout=30) as client:
        for n in range(8):  # one edge hit per key: 8 clusters
            value = walks.hex64(_to(target, 29, rng))
            got = client.post(f"{base_one}/v1/match", json=pdq_body(value), headers=auth(keys[n]))
            assert got.status_code == 200
        watched = _watched(settings)
        deadline = time.monotonic() + 10  # the second process's poll (every 0.05 s)
        while not two.state.probe_detector.blurring:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        edge = [walks.hex64(_to(target, 29, rng)) for _ in range(6)]
        answers = [
            client.post(f"{base_two}/v1/match", json=pdq_body(v), headers=auth(keys[8])).json()
            for v in edge
        ]
    assert [alarmed for _, alarmed in watched] == [False]  # under attack, not alarmed
    assert set(two.state.probe_detector.blurring) == {watched[0][0]}
    assert not all(a["match"] for a in answers)  # 1 in 5 at the radius: 6 of 6 is 1 in 15,625
