"""Finding 4's fix must not lose hits: a hit's database write now follows its answer
(services/journal.py), so ``kill -9`` in the middle of a stream of hits must leave every
acknowledged hit recorded exactly once, once the server is back.

A real ``stopspread serve`` process is killed while 8 threads send hits, each for its own
(API key, signal) pair, and started again; after the last kill the restarted server is
checked at once (the replay runs before it is ready): every acknowledged pair has its
review item with exactly one hit. The negative control, ``journal_sync=write_behind``
(answers before the record is written), loses acknowledged hits, and the check sees it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import func, select

from stopspread.services import cases, platform
from stopspread.services.signal_input import parse_signal
from stopspread.storage import Database
from stopspread.storage.models import AuditEvent, ReviewItem, ReviewKind, Signal
from tests.conftest import make_services, random_pdq
from tests.security.serve_process import ServeProcess, serve_env

KEYS, SIGNALS = 3, 60  # 180 (key, signal) pairs, each asked once
KILL_AFTER = 60  # acknowledged hits per round before kill -9
ROUNDS = 1  # each start of a real server costs seconds: CI keeps it short


@dataclass(frozen=True, slots=True)
class Outcome:
    acknowledged: int
    lost: int  # acknowledged, yet no review item after the restart
    doubled: int  # a pair's review counts more than its one hit
    audit_events: int  # match_recorded events, one per applied hit


Pair = tuple[str, str]  # (API key, hash value)


def _enrol(url: str, tmp_path: Path) -> tuple[list[Pair], dict[str, int], dict[str, int]]:
    svc = make_services(url, tmp_path)
    rng = np.random.default_rng(18)
    values = [random_pdq(rng) for _ in range(SIGNALS)]
    cases.create_case(svc, [parse_signal("pdq", v) for v in values])
    keys: dict[str, int] = {}
    for n in range(KEYS):
        client, key = platform.create_client(svc.db, f"platform-{n}")
        keys[key] = client.id
    with svc.db.read() as session:
        ids = {v: i for i, v in session.execute(select(Signal.id, Signal.value))}
    svc.db.dispose()
    return [(k, v) for k in keys for v in values], keys, ids


def _round(base_url: str, todo: Iterator[Pair], acked: list[Pair], kill: threading.Event) -> None:
    """Send pairs from 8 threads until ``KILL_AFTER`` more are acknowledged (then ``kill``
    is set) or none are left; a pair whose answer did not arrive is never sent again."""
    goal, lock, slots = len(acked) + KILL_AFTER, threading.Lock(), threading.Semaphore(8)

    def ask(pair: Pair) -> None:
        key, value = pair
        try:
            answer = httpx.post(
                f"{base_url}/v1/match",
                json={"type": "pdq", "value": value},
                headers={"Authorization": f"Bearer {key}"},
                timeout=30,
            )
        except httpx.TransportError:
            return  # killed in flight: not acknowledged
        finally:
            slots.release()
        if answer.status_code == 200 and answer.json()["match"]:
            with lock:
                acked.append(pair)
                if len(acked) >= goal:
                    kill.set()

    with ThreadPoolExecutor(8) as pool:
        for pair in todo:
            slots.acquire()
            if kill.is_set():
                break
            pool.submit(ask, pair)


def _kill_when(kill: threading.Event, server: ServeProcess) -> None:
    kill.wait()
    server.kill()


def _crash_rounds(url: str, tmp_path: Path, sync: str) -> Outcome:
    pairs, keys, ids = _enrol(url, tmp_path)
    env = serve_env(
        url,
        tmp_path,
        journal_sync=sync,
        client_burst=100_000,
        client_rate_per_s=100_000,
        quarantine_min_matches=100_000,
    )
    server, todo, acked = ServeProcess(env), iter(pairs), []
    for _ in range(ROUNDS):
        base_url, kill = server.start(), threading.Event()
        killer = threading.Thread(target=_kill_when, args=(kill, server))
        killer.start()
        _round(base_url, todo, acked, kill)
        kill.set()
        killer.join()
    server.start()  # replays what the last process journalled before it is ready
    db = Database(url)
    try:
        with db.read() as session:
            hits = {
                (c, s): h
                for c, s, h in session.execute(
                    select(ReviewItem.client_id, ReviewItem.signal_id, ReviewItem.hits).where(
                        ReviewItem.kind == ReviewKind.MATCH
                    )
                )
            }
            events = session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.kind == "match_recorded")
            )
    finally:
        db.dispose()
        server.stop()
    lost = sum((keys[k], ids[v]) not in hits for k, v in acked)
    return Outcome(len(acked), lost, sum(h != 1 for h in hits.values()), int(events or 0))


def test_kill_9_loses_no_acknowledged_hit_and_doubles_none(
    database_url: str, tmp_path: Path
) -> None:
    outcome = _crash_rounds(database_url, tmp_path, "fsync")
    assert outcome.acknowledged >= ROUNDS * KILL_AFTER
    assert outcome.lost == 0 and outcome.doubled == 0
    assert outcome.audit_events >= outcome.acknowledged  # plus hits killed before their answer


def test_the_check_catches_answers_sent_before_the_record_is_written(tmp_path: Path) -> None:
    outcome = _crash_rounds(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path, "write_behind")
    assert outcome.acknowledged >= ROUNDS * KILL_AFTER
    assert outcome.lost > 0  # the negative control: the same check sees the lost hits
