"""The match journal's files and its idempotent apply (issue 18, finding 4)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from stopspread.config import JournalSync
from stopspread.services import cases, platform
from stopspread.services.context import Services
from stopspread.services.journal import (
    RECORD_SIZE,
    Hit,
    Journal,
    JournalConsumer,
    pack_hit,
    pack_miss,
    read_segment,
    replay_orphans,
)
from stopspread.services.signal_input import parse_signal
from stopspread.storage.models import AuditEvent, Meta, ReviewItem, ReviewKind, Signal
from tests.conftest import make_services, random_pdq

# every database here is used through services: a migrated copy (tests/dbtemplate.py)
pytestmark = pytest.mark.usefixtures("migrated_database")


def test_records_are_fixed_size_and_hold_no_hash(tmp_path: Path) -> None:
    hit = Hit(7, 1_700_000_000_000_000, 3, 42)
    assert len(pack_hit(hit)) == len(pack_miss()) == RECORD_SIZE == 32
    segment = tmp_path / "00000001.seg"
    segment.write_bytes(pack_miss() + pack_hit(hit) + pack_miss() + pack_hit(hit)[:20])
    assert read_segment(segment) == [hit]  # misses are no-ops; a torn tail is never read


def test_a_shape_points_hit_keeps_its_mark_in_the_signal_ids_top_bit(tmp_path: Path) -> None:
    shape = Hit(1, 10, 2, 2**62 + 5, shape_points=True)
    plain = Hit(2, 11, 2, 2**62 + 5)
    segment = tmp_path / "00000001.seg"
    segment.write_bytes(pack_hit(shape) + pack_hit(plain))
    assert read_segment(segment) == [shape, plain]  # same size; old records read as before


def test_a_corrupt_record_ends_the_segment(tmp_path: Path) -> None:
    first, second = Hit(1, 1, 1, 1), Hit(2, 2, 2, 2)
    broken = bytearray(pack_hit(second))
    broken[5] ^= 0xFF
    segment = tmp_path / "00000001.seg"
    segment.write_bytes(pack_hit(first) + bytes(broken) + pack_hit(Hit(3, 3, 3, 3)))
    assert read_segment(segment) == [first]


def test_concurrent_appends_are_each_durable_once(tmp_path: Path) -> None:
    journal = Journal(tmp_path, JournalSync.FSYNC)
    with ThreadPoolExecutor(16) as pool:
        futures = [
            pool.submit(lambda n: journal.append_hit(n, 1, n).result(10), n) for n in range(200)
        ]
        futures += [pool.submit(lambda: journal.append(pack_miss()).result(10)) for _ in range(200)]
        for future in futures:
            future.result()
    closed = journal.rotate()
    assert closed.stat().st_size == 400 * RECORD_SIZE
    hits = read_segment(closed)
    assert [h.seq for h in hits] == list(range(1, 201))  # numbered in the file's order
    assert sorted(h.signal_id for h in hits) == list(range(200))
    assert os.stat(journal.folder).st_mode & 0o777 == 0o700
    journal.close()
    journal.remove()


def test_answers_waiting_together_share_one_fdatasync(tmp_path: Path) -> None:
    """Group commit (issue 17): records queued while a commit runs go in the next one."""
    journal = Journal(tmp_path, JournalSync.FSYNC)
    with journal._file_lock:  # a commit held up, as by a slow disk
        futures = [journal.append(pack_miss())]
        _until_taken(journal)  # the writer holds the first record, waiting for the disk
        futures += [journal.append(pack_miss()) for _ in range(49)]
        futures += [journal.append_hit(n, 1, n) for n in range(50)]
        assert not any(f.done() for f in futures)  # none answered before it is durable
    for future in futures:
        future.result(10)
    assert journal.committed == 100
    assert journal.commits == 2  # the first record alone, then the 99 queued behind it
    assert journal.largest == 99
    journal.close()
    journal.remove()


def _until_taken(journal: Journal) -> None:
    """Wait until the writer thread has taken every queued record (however loaded the
    machine: a writer that woke late once took several records in its first commit)."""
    deadline = time.monotonic() + 30
    while True:
        with journal._cond:
            if not journal._pending:
                return
        assert time.monotonic() < deadline, "the writer never took the queued record"
        time.sleep(0.001)


class _CountingLoop(asyncio.SelectorEventLoop):
    """A real event loop that counts the wake-ups other threads ask of it."""

    def __init__(self) -> None:
        super().__init__()
        self.woken = 0

    def call_soon_threadsafe(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.woken += 1
        return super().call_soon_threadsafe(*args, **kwargs)


def test_coroutines_waiting_on_one_loop_are_woken_once_per_group_commit(tmp_path: Path) -> None:
    """The request path's handoff (issue 17): no thread future per answer, the answers of
    one turn of the loop handed to the writer together, and one loop wake-up per group
    commit, however many answers it makes durable."""
    journal = Journal(tmp_path, JournalSync.FSYNC)
    loop = _CountingLoop()

    async def main() -> None:
        with journal._file_lock:  # a commit held up: the answers queue behind it
            futures = [journal.append_async(pack_miss()) for _ in range(50)]
            futures += [journal.append_hit_async(n, 1, n) for n in range(50)]
            futures[0].cancel()  # a client that went away: the others are still answered
        await asyncio.gather(*futures[1:])

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    assert journal.committed == 100
    assert journal.commits <= 2
    assert loop.woken == journal.commits  # one wake-up per commit, not one per answer
    hits = read_segment(journal.rotate())
    assert [h.seq for h in hits] == list(range(1, 51))
    journal.close()
    journal.remove()


def test_write_behind_answers_a_coroutine_before_the_write(tmp_path: Path) -> None:
    journal = Journal(tmp_path, JournalSync.WRITE_BEHIND, behind_s=0.0)

    async def main() -> None:
        with journal._file_lock:  # the writer is held up: the answer does not wait for it
            await asyncio.wait_for(journal.append_async(pack_miss()), 5)

    asyncio.run(main())
    journal.close()
    journal.remove()


def test_rotation_does_the_same_with_hits_or_without(tmp_path: Path) -> None:
    journal = Journal(tmp_path, JournalSync.FSYNC)
    journal.append(pack_miss()).result(10)
    misses = journal.rotate()
    journal.append_hit(1, 1, 1).result(10)
    hits = journal.rotate()
    assert misses.stat().st_size == hits.stat().st_size == RECORD_SIZE
    assert [p.name for p in sorted(journal.folder.glob("*.seg"))] == [
        "00000001.seg",
        "00000002.seg",
        "00000003.seg",
    ]
    journal.close()
    journal.remove()
    assert not journal.folder.exists()


def _review_hits(svc: Services) -> dict[tuple[int | None, int | None], int]:
    with svc.db.read() as session:
        rows = session.execute(
            select(ReviewItem.client_id, ReviewItem.signal_id, ReviewItem.hits).where(
                ReviewItem.kind == ReviewKind.MATCH
            )
        )
        return {(c, s): h for c, s, h in rows}


def test_replaying_a_journal_applies_each_hit_once(database_url: str, tmp_path: Path) -> None:
    svc = make_services(database_url, tmp_path)
    rng = np.random.default_rng(5)
    cases.create_case(svc, [parse_signal("pdq", random_pdq(rng)) for _ in range(3)])
    client, _key = platform.create_client(svc.db, "p")
    with svc.db.read() as session:
        ids = list(session.scalars(select(Signal.id).order_by(Signal.id)))
    hits = [Hit(n + 1, 1_700_000_000_000_000 + n, client.id, ids[n % 3]) for n in range(6)]
    platform.apply_hits(svc, "a" * 32, hits[:4])
    platform.apply_hits(svc, "a" * 32, hits)  # a crash after the first commit: replayed whole
    platform.apply_hits(svc, "a" * 32, hits)
    assert _review_hits(svc) == {(client.id, i): 2 for i in ids}
    with svc.db.read() as session:
        events = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == "match_recorded")
        )
        mark = session.get(Meta, "journal:" + "a" * 32)
    assert events == 6 and mark is not None and mark.value == "6"
    platform.forget_journal(svc, "a" * 32)
    with svc.db.read() as session:
        assert session.get(Meta, "journal:" + "a" * 32) is None
    svc.db.dispose()


def test_a_dead_processs_journal_is_replayed_and_a_live_ones_is_not(
    sqlite_url: str, tmp_path: Path
) -> None:
    svc = make_services(sqlite_url, tmp_path)
    rng = np.random.default_rng(6)
    cases.create_case(svc, [parse_signal("pdq", random_pdq(rng))])
    client, _key = platform.create_client(svc.db, "p")
    with svc.db.read() as session:
        signal_id = session.scalars(select(Signal.id)).one()
    root = tmp_path / "journal"
    dead = root / ("d" * 32)
    dead.mkdir(parents=True)
    (dead / "00000001.seg").write_bytes(
        pack_hit(Hit(1, 1_700_000_000_000_000, client.id, signal_id)) + pack_miss()
    )
    live = Journal(root, JournalSync.FSYNC)  # holds its lock: never another's to replay
    live.append_hit(1_700_000_000_000_000, client.id, signal_id)
    live.close()

    def apply(journal_id: str, hits: list[Hit]) -> None:
        platform.apply_hits(svc, journal_id, hits)

    assert replay_orphans(root, apply, lambda jid: platform.forget_journal(svc, jid)) == 1
    assert not dead.exists() and live.folder.exists()
    assert _review_hits(svc) == {(client.id, signal_id): 1}
    consumer = JournalConsumer(live, apply, 0.05)
    consumer.stop()  # applies the rest and removes its folder
    assert not live.folder.exists()
    assert _review_hits(svc) == {(client.id, signal_id): 2}
    svc.db.dispose()


def test_the_consumer_applies_hits_on_its_clock(sqlite_url: str, tmp_path: Path) -> None:
    svc = make_services(sqlite_url, tmp_path)
    rng = np.random.default_rng(7)
    cases.create_case(svc, [parse_signal("pdq", random_pdq(rng))])
    client, _key = platform.create_client(svc.db, "p")
    with svc.db.read() as session:
        signal_id = session.scalars(select(Signal.id)).one()
    journal = Journal(tmp_path / "journal", JournalSync.FSYNC)
    applied = threading.Event()

    def apply(journal_id: str, hits: list[Hit]) -> None:
        platform.apply_hits(svc, journal_id, hits)
        applied.set()

    consumer = JournalConsumer(journal, apply, 0.05)
    consumer.start()
    journal.append_hit(1, client.id, signal_id).result(10)
    assert applied.wait(30)
    consumer.stop()
    assert _review_hits(svc) == {(client.id, signal_id): 1}
    svc.db.dispose()
