"""The match journal: equal timing for hits and misses (issue 18, finding 4).

A hit used to write the database (ref, review item, audit event) before it was answered, a
miss wrote nothing: 7-10 ms against 2 ms told them apart. Now every answer, hit or miss,
appends one fixed-size record (:data:`RECORD_SIZE` bytes) to an append-only file and waits
for the same group commit (one ``fdatasync`` for every record that arrived while the last
one ran); nothing else differs on the request path. A miss record is a no-op (all zeros
but its checksum); a hit record holds a sequence number, the moment, the API key's id and
the signal's id (its top bit: found by ss-kp-1 shape points only), never a hash. A
:class:`JournalConsumer` thread applies hit records to the
database on a short clock, in order and idempotently: the last applied sequence number is
kept in the ``meta`` table, in the same transaction as the hits, so a replay after a crash
applies nothing twice. An acknowledged hit is durable (its record was synced before the
answer left), so a crash loses none: the next start replays what was not applied yet.

Layout: ``<journal_dir>/<journal id>/`` per process, holding ``lock`` (an ``flock`` held
while the process lives) and segments ``00000001.seg`` ... A process that finds a sibling
folder whose lock is free replays it and removes it (:func:`replay_orphans`).

The request path (:meth:`Journal.append_async`, issue 17) costs the event loop no thread
future and no wake-up per answer: the records queued in one turn of the loop reach the
writer thread together (one wake-up), and the writer settles the answers of one group
commit with one ``call_soon_threadsafe`` per loop. Hits and misses take this path alike.

``JournalSync.WRITE_BEHIND`` answers before the record reaches the file: only a negative
control for the crash test (it loses acknowledged hits on ``kill -9``). Its answered records
wait ``behind_s`` (5 s) in memory: at 0.5 s a loaded machine once sent the test's kill after
every answered record had been written, and the control caught nothing.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import fcntl
import logging
import os
import shutil
import struct
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from stopspread.config import JournalSync

__all__ = [
    "RECORD_SIZE",
    "Hit",
    "Journal",
    "JournalConsumer",
    "pack_hit",
    "pack_miss",
    "read_segment",
    "replay_orphans",
]

log = logging.getLogger("stopspread.journal")

_BODY: Final = struct.Struct("<QqIQ")  # seq, at (unix microseconds), client id, signal id
_CRC: Final = struct.Struct("<I")
RECORD_SIZE: Final = _BODY.size + _CRC.size  # 32 bytes
_LOCK_NAME: Final = "lock"
_SEGMENT_SUFFIX: Final = ".seg"

Apply = Callable[[str, list["Hit"]], None]  # (journal id, hits in order)
# who waits for a record: a thread (its future), a coroutine (its loop and future), or nobody
_LoopWaiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"]
_Waiter = concurrent.futures.Future[None] | _LoopWaiter | None


@dataclass(frozen=True, slots=True)
class Hit:
    """One acknowledged hit, as the consumer applies it."""

    seq: int
    at_us: int
    client_id: int
    signal_id: int
    shape_points: bool = False  # found by ss-kp-1 keypoints only (the signal id's top bit)


def _seal(body: bytes) -> bytes:
    return body + _CRC.pack(zlib.crc32(body))


_SHAPE_POINTS: Final = 1 << 63  # signal ids are below 2**63 (a signed 64-bit column)


def pack_hit(hit: Hit) -> bytes:
    signal = hit.signal_id | (_SHAPE_POINTS if hit.shape_points else 0)
    return _seal(_BODY.pack(hit.seq, hit.at_us, hit.client_id, signal))


_MISS: Final = _seal(_BODY.pack(0, 0, 0, 0))


def pack_miss() -> bytes:
    return _MISS


def read_segment(path: Path) -> list[Hit]:
    """The hit records of one segment, in order; reading stops at a torn or corrupt record
    (a crash in the middle of a write: that batch was never acknowledged)."""
    data = path.read_bytes()
    hits: list[Hit] = []
    for start in range(0, len(data) - RECORD_SIZE + 1, RECORD_SIZE):
        body = data[start : start + _BODY.size]
        (crc,) = _CRC.unpack_from(data, start + _BODY.size)
        if zlib.crc32(body) != crc:
            break
        seq, at_us, client_id, signal = _BODY.unpack(body)
        if seq:
            shape = bool(signal & _SHAPE_POINTS)
            hits.append(Hit(seq, at_us, client_id, signal & ~_SHAPE_POINTS, shape))
    return hits


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class Journal:
    """This process's journal folder: the group-commit writer thread and segment rotation."""

    def __init__(self, root: Path, sync: JournalSync, behind_s: float = 5.0) -> None:
        self.id = uuid.uuid4().hex
        self.folder = root / self.id
        making = root / f".{self.id}"  # locked before it has a name replay_orphans looks at
        making.mkdir(parents=True, mode=0o700)
        self._lock_fd = os.open(making / _LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        making.rename(self.folder)
        self._sync, self._behind_s = sync, behind_s
        self._cond = threading.Condition()
        self._pending: list[tuple[bytes, _Waiter]] = []
        # records coroutines queued in the current turn of their loop (only that loop's
        # thread touches its list): handed to the writer together (:meth:`_hand_over`)
        self._staged: dict[asyncio.AbstractEventLoop, list[tuple[Callable[[], bytes], _LoopWaiter]]]
        self._staged = {}
        self._closing = False
        self._seq = 0
        self._file_lock = threading.Lock()
        self._segment_no = 0
        self.commits, self.committed, self.largest = 0, 0, 0  # group commits, their records
        self._fd = self._open_segment()
        _fsync_dir(root)
        self._thread = threading.Thread(target=self._run, name="stopspread-journal", daemon=True)
        self._thread.start()

    # the request side
    def append(self, record: bytes) -> concurrent.futures.Future[None]:
        """Queue one record; the future completes once it is durable (``fsync``), or at once
        (``write_behind``, the negative control)."""
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        if self._queue(lambda: record, future):
            future.set_result(None)
        return future

    def append_hit(
        self, at_us: int, client_id: int, signal_id: int, shape_points: bool = False
    ) -> concurrent.futures.Future[None]:
        """Queue a hit record; its sequence number is taken in queue order, so the file's
        order is the numbers' order (the applied mark relies on it)."""
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        if self._queue(self._numbered(at_us, client_id, signal_id, shape_points), future):
            future.set_result(None)
        return future

    def append_async(self, record: bytes) -> asyncio.Future[None]:
        """:meth:`append` for a coroutine on the running loop (the request path), with no
        thread future and no wake-up per record: the records of one turn of the loop reach
        the writer together, and the writer settles those of one group commit with one
        ``call_soon_threadsafe``. The future completes once the record is durable."""
        return self._queue_async(lambda: record)

    def append_hit_async(
        self, at_us: int, client_id: int, signal_id: int, shape_points: bool = False
    ) -> asyncio.Future[None]:
        """:meth:`append_hit` for a coroutine on the running loop (see :meth:`append_async`)."""
        return self._queue_async(self._numbered(at_us, client_id, signal_id, shape_points))

    def _numbered(
        self, at_us: int, client_id: int, signal_id: int, shape_points: bool
    ) -> Callable[[], bytes]:
        def numbered() -> bytes:  # called under the queue's lock
            self._seq += 1
            return pack_hit(Hit(self._seq, at_us, client_id, signal_id, shape_points))

        return numbered

    def _queue_async(self, make: Callable[[], bytes]) -> asyncio.Future[None]:
        """Stage the record on the running loop: every record staged in one turn of the
        loop reaches the writer in one hand-over (one wake-up of the writer thread)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        staged = self._staged.get(loop)
        if staged is None:
            staged = self._staged[loop] = []
            loop.call_soon(self._hand_over, loop)
        staged.append((make, (loop, future)))
        return future

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        staged = self._staged.pop(loop)
        behind = self._sync is JournalSync.WRITE_BEHIND
        with self._cond:
            if self._closing:
                error = RuntimeError("the journal is closed")
                _settle_on_loop([w[1] for _, w in staged], error)
                return
            self._pending.extend((make(), None if behind else w) for make, w in staged)
            self._cond.notify()
        if behind:
            _settle_on_loop([w[1] for _, w in staged], None)

    def _queue(self, make: Callable[[], bytes], waiter: _Waiter) -> bool:
        """Queue a record; whether it is answered at once (``write_behind``)."""
        behind = self._sync is JournalSync.WRITE_BEHIND
        with self._cond:
            if self._closing:
                raise RuntimeError("the journal is closed")
            self._pending.append((make(), None if behind else waiter))
            self._cond.notify()
        return behind

    # the writer thread
    def _run(self) -> None:
        behind = self._sync is JournalSync.WRITE_BEHIND
        while True:
            with self._cond:
                while not self._pending and not self._closing:
                    self._cond.wait()
                if not self._pending:
                    return
                if behind:  # the negative control's lag: answered records wait in memory
                    until = time.monotonic() + self._behind_s
                    while not self._closing and (left := until - time.monotonic()) > 0:
                        self._cond.wait(left)
                batch, self._pending = self._pending, []
            self._commit(batch)

    def _commit(self, batch: list[tuple[bytes, _Waiter]]) -> None:
        data = b"".join(record for record, _ in batch)
        error: OSError | None = None
        try:
            with self._file_lock:
                _write_all(self._fd, data)
                if self._sync is JournalSync.FSYNC:
                    os.fdatasync(self._fd)
        except OSError as exc:
            log.error("journal write failed: %s", type(exc).__name__)
            error = exc
        else:
            self.commits, self.committed = self.commits + 1, self.committed + len(batch)
            self.largest = max(self.largest, len(batch))
        _settle(batch, error)

    # segments
    def _segment_path(self, number: int) -> Path:
        return self.folder / f"{number:08d}{_SEGMENT_SUFFIX}"

    def _open_segment(self) -> int:
        self._segment_no += 1
        path = self._segment_path(self._segment_no)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_APPEND, 0o600)
        _fsync_dir(self.folder)  # the new name is durable before any record in it is
        return fd

    def rotate(self) -> Path:
        """Start the next segment and return the closed one.

        The same work every time, hits or not: the next file is made (and its name synced)
        before the writer's lock is taken, so rotating never holds a commit up for long."""
        fd = self._open_segment()
        with self._file_lock:
            self._fd, old = fd, self._fd
            closed = self._segment_path(self._segment_no - 1)
        os.close(old)
        return closed

    def close(self) -> None:
        """Write what is queued and stop the writer; the consumer empties the folder after."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout=10)
        if self.commits:
            log.info(
                "journal: %d records in %d group commits (%.2f a commit, at most %d)",
                self.committed,
                self.commits,
                self.committed / self.commits,
                self.largest,
            )

    def remove(self) -> None:
        """Every segment applied: the folder goes, and the lock with it."""
        with self._file_lock:
            os.close(self._fd)
        shutil.rmtree(self.folder, ignore_errors=True)
        os.close(self._lock_fd)


def _settle(batch: list[tuple[bytes, _Waiter]], error: OSError | None) -> None:
    """Tell every waiter of a group commit: threads each, coroutines once per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for _, waiter in batch:
        if waiter is None:
            continue
        if isinstance(waiter, tuple):
            by_loop.setdefault(waiter[0], []).append(waiter[1])
        elif error is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(error)
    for loop, futures in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
            loop.call_soon_threadsafe(_settle_on_loop, futures, error)


def _settle_on_loop(futures: list[asyncio.Future[None]], error: Exception | None) -> None:
    for future in futures:
        if future.done():  # the request went away (cancelled)
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


def _segments(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"*{_SEGMENT_SUFFIX}"))


def _apply_segment(apply: Apply, journal_id: str, path: Path) -> None:
    hits = read_segment(path)
    if hits:
        apply(journal_id, hits)
    path.unlink()


@contextlib.contextmanager
def _claimed(folder: Path) -> Iterator[bool]:
    """Whether ``folder`` belongs to no living process (its lock is free), holding it if so."""
    try:
        fd = os.open(folder / _LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError:
        yield False
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        yield False
        return
    try:
        yield True
    finally:
        os.close(fd)


def replay_orphans(root: Path, apply: Apply, forget: Callable[[str], None]) -> int:
    """Apply every hit a dead process journalled but had not applied; the hits replayed.

    Run before the server is ready. ``forget`` drops a replayed journal's applied mark."""
    replayed = 0
    if not root.is_dir():
        return 0
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name[0] != "."):
        with _claimed(folder) as ours:
            if not ours:
                continue
            for path in _segments(folder):
                replayed += len(read_segment(path))
                _apply_segment(apply, folder.name, path)
            shutil.rmtree(folder, ignore_errors=True)
        forget(folder.name)
    return replayed


class JournalConsumer:
    """Every ``interval_s``: rotate the journal, apply the closed segments' hits, delete them."""

    def __init__(
        self,
        journal: Journal,
        apply: Apply,
        interval_s: float,
        after: Callable[[], None] | None = None,
    ) -> None:
        self._journal, self._apply, self._interval = journal, apply, interval_s
        self._after = after
        self._backlog: list[Path] = []
        self._pass = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stopspread-journal-apply")

    def start(self) -> None:
        self._thread.start()

    def run_once(self, everything: bool = False) -> None:
        """Rotate, and apply the segments closed on an earlier pass (``everything``: all, now).

        Waiting one pass keeps a hit's database write out of the time its own answer is
        still being sent: the work a hit causes never overlaps the request that made it."""
        with self._pass:
            ready, self._backlog = self._backlog, []
            closed = self._journal.rotate()
            (ready if everything else self._backlog).append(closed)
            for n, path in enumerate(ready):
                try:
                    _apply_segment(self._apply, self._journal.id, path)
                except Exception:
                    self._backlog = ready[n:] + self._backlog  # in order, retried next pass
                    raise
            if self._after is not None:
                self._after()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.run_once()
            except Exception as exc:  # the database is away: the segment waits, retried
                log.warning("journal apply failed: %s", type(exc).__name__)

    def stop(self) -> None:
        """Stop the clock, write and apply the rest, and remove the journal's folder."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._journal.close()
        try:
            self.run_once(everything=True)
        except Exception as exc:
            log.warning("journal apply at shutdown failed: %s", type(exc).__name__)
            return  # the folder stays: the next start replays it
        self._journal.remove()
