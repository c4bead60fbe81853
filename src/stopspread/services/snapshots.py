"""Index snapshots of the service: which change-log position they hold, where they live.

A snapshot is two files in ``index_snapshot_dir``, named by the change-log sequence number
they include::

    index-000000123456.ssmih   the PDQ index (matching/snapshot.py: header + raw arrays, mmap)
    index-000000123456.json    {"format": 2, "seq": 123456, "pdq": n, "md5": [[id, hex], ...],
                                "ssmih_bytes": size, "min_enrolled_quality": 70,
                                "cloak": "9f0c…" (the hash key's cloak, or null)}

Format 2 (issue 18): the values are the replica's, cloaked when there is a hash key
(``matching/cloak.py``: PDQ XOR a mask derived from the key, MD5 as a keyed HMAC), and
``cloak`` names the key's cloak; a snapshot of another cloak (another key, sealing turned on
or off) is not loaded. A format-1 snapshot (clear values) is refused with a log line, the
index rebuilt from the database, and the old files replaced.

The replica holds only the signals its match policy lets match (enrolled quality), so a
snapshot records the floor it was written under and one of another floor is not loaded.

The JSON file is written last, so its presence marks a complete snapshot. At start-up a
replica takes the newest snapshot that loads and checks out (every array's CRC-32, the
sizes, a change-log position the database has reached), memory-maps it and replays the
change log from that position; any failure is logged with its reason and the replica falls
back to an older snapshot, then to a rebuild from the database. Processes on one host that
map the same file share its pages in the OS page cache.

One process per host writes (whoever holds ``writer.lock``), in a background thread, every
``index_snapshot_interval_s`` when the index changed; the two newest snapshots are kept.

Erasure (issue 18): a snapshot holds the replica's values (cloaked with a hash key, else in
the clear; it is memory-mapped, so not sealed). Every snapshot is written without removed
rows (a removed hash left as a dead row, or in the search tables, would still be on disk).
When the replica applies a removal — a withdrawal, in this process or another, or one
replayed at start — it sets its ``erased`` event; within a tick (at most one rewrite every
``ERASE_MIN_GAP_S`` when withdrawals come in a row) the writer writes a snapshot at the
current change position and deletes every other snapshot, so no file here holds a withdrawn
hash. A process that holds no snapshot writer (``index_kind = brute``, or
``index_snapshot_interval_s = 0``) deletes the snapshots instead.
The folder is 0700, its files 0600.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from stopspread.errors import IndexFormatError
from stopspread.matching import MihIndex
from stopspread.matching import snapshot as ssmih

__all__ = [
    "ERASE_TICK_S",
    "KEEP_SNAPSHOTS",
    "LoadedSnapshot",
    "SnapshotStore",
    "SnapshotWriter",
    "live_only",
]

log = logging.getLogger("stopspread.snapshots")

SIDECAR_FORMAT: Final = 2  # 2: cloaked values and the cloak's fingerprint (1: clear values)
KEEP_SNAPSHOTS: Final = 2  # the newest and one before it (a reader may still map the older)
FIRST_WRITE_DELAY_S: Final = 5.0  # after a rebuild from the database, write one soon
ERASE_TICK_S: Final = 0.25  # how soon the writer notices a removal (an erasure)
ERASE_RETRY_S: Final = 5.0  # a failed erasure step is tried again after this long
ERASE_MIN_GAP_S: Final = 2.0  # withdrawals in a row: at most one rewrite per this long
_NAME: Final = re.compile(r"^index-(\d{12})\.json$")


@dataclass(frozen=True, slots=True)
class LoadedSnapshot:
    """A snapshot read back: the mapped PDQ index, the MD5 signals, its change position."""

    seq: int
    index: MihIndex
    md5: list[tuple[int, str]]
    path: Path


def live_only(index: MihIndex) -> MihIndex:
    """``index`` without its removed rows: one segment rebuilt from the live rows (about 0.5 s
    per million), or ``index`` itself when nothing was removed from it."""
    segments = index._state.all()
    if not any(seg.n_dead for seg in segments):
        return index
    parts = [seg.live() for seg in segments]
    hashes = np.concatenate([h for h, _ in parts]) if parts else np.empty((0, 32), np.uint8)
    ids = np.concatenate([i for _, i in parts]) if parts else np.empty(0, np.int64)
    return MihIndex.from_arrays(hashes, ids)


def _private_dir(path: Path) -> None:
    """``path`` made if missing, and mode 0700 (snapshots hold hash values)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SnapshotStore:
    """The snapshot files in one directory."""

    def __init__(
        self,
        directory: Path,
        min_enrolled_quality: int | None = None,
        cloak: str | None = None,
    ) -> None:
        self.dir = directory
        self.min_enrolled_quality = min_enrolled_quality  # the policy's floor (None: untagged)
        self.cloak = cloak  # the fingerprint of the writer's cloak (IndexReplica.cloak_id)

    def _paths(self, seq: int) -> tuple[Path, Path]:
        stem = f"index-{seq:012d}"
        return self.dir / f"{stem}.ssmih", self.dir / f"{stem}.json"

    def sequences(self) -> list[int]:
        """Change positions of the complete snapshots here, newest first."""
        if not self.dir.is_dir():
            return []
        found = (_NAME.match(p.name) for p in self.dir.iterdir())
        return sorted((int(m.group(1)) for m in found if m), reverse=True)

    def write(self, index: MihIndex, md5: list[tuple[int, str]], seq: int) -> Path:
        """Write a snapshot of ``index`` (its live rows) + ``md5`` at change position ``seq``;
        returns it. Files 0600 in a 0700 folder."""
        _private_dir(self.dir)
        data, meta = self._paths(seq)
        index = live_only(index)
        ssmih.save(index, data)
        sidecar = {
            "format": SIDECAR_FORMAT,
            "seq": seq,
            "pdq": len(index),
            "md5": [[sid, value] for sid, value in md5],
            "ssmih_bytes": data.stat().st_size,
            "min_enrolled_quality": self.min_enrolled_quality,
            "cloak": self.cloak,
        }
        tmp = meta.with_name(meta.name + ".tmp")
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(sidecar, f, separators=(",", ":"))
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(meta)
        _fsync_dir(self.dir)
        return meta

    def load(self, seq: int, *, db_seq: int, cloak: str | None = None) -> LoadedSnapshot:
        """Load and check one snapshot written under ``cloak`` (the reader's cloak
        fingerprint); raises :class:`IndexFormatError` saying why not."""
        data, meta = self._paths(seq)
        try:
            sidecar: Any = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise IndexFormatError(f"sidecar unreadable ({type(exc).__name__})") from None
        if isinstance(sidecar, dict) and sidecar.get("format") == 1:
            raise IndexFormatError("format 1 holds hash values in the clear: rebuilt, replaced")
        if not isinstance(sidecar, dict) or sidecar.get("format") != SIDECAR_FORMAT:
            raise IndexFormatError("sidecar is malformed or of another format")
        if sidecar.get("seq") != seq:
            raise IndexFormatError("sidecar names another change position than its file")
        if sidecar.get("min_enrolled_quality") != self.min_enrolled_quality:
            raise IndexFormatError("written under another enrolled quality floor (match policy)")
        if seq > db_seq:
            raise IndexFormatError(
                f"stale: it holds change {seq} but the database is at {db_seq} "
                "(restored or another database)"
            )
        if sidecar.get("cloak") != cloak:
            raise IndexFormatError("written under another hash key (or sealing setting)")
        try:
            size = data.stat().st_size
        except OSError:
            raise IndexFormatError("index file missing") from None
        if size != sidecar.get("ssmih_bytes"):
            raise IndexFormatError("index file has another size than when written")
        index = ssmih.load(data, use_mmap=True, verify=True)
        if len(index) != sidecar.get("pdq"):
            raise IndexFormatError("index holds another number of hashes than when written")
        md5 = sidecar.get("md5")
        if not isinstance(md5, list) or not all(
            isinstance(p, list) and len(p) == 2 and isinstance(p[0], int) and isinstance(p[1], str)
            for p in md5
        ):
            raise IndexFormatError("sidecar MD5 list is malformed")
        return LoadedSnapshot(seq, index, [(p[0], p[1]) for p in md5], data)

    def prune(self, keep: int = KEEP_SNAPSHOTS) -> None:
        """Delete all but the ``keep`` newest snapshots (mapped copies stay readable)."""
        for seq in self.sequences()[keep:]:
            self.delete(seq)

    def delete(self, seq: int) -> None:
        """Delete one snapshot (a process that maps it keeps reading its pages)."""
        data, meta = self._paths(seq)
        meta.unlink(missing_ok=True)  # first: the snapshot stops being complete
        data.unlink(missing_ok=True)

    def erase_all_but(self, seq: int | None) -> int:
        """Delete every snapshot but the one at ``seq`` (None: all), and leftovers of a write
        cut short; how many snapshots went."""
        gone = [s for s in self.sequences() if s != seq]
        for old in gone:
            self.delete(old)
        if self.dir.is_dir():
            for tmp in self.dir.glob("index-*.tmp"):
                tmp.unlink(missing_ok=True)
        return len(gone)


class SnapshotWriter:
    """A background thread writing the replica's index when it changed, one writer per host,
    and, when ``erased`` is set (a removal was applied), at once a snapshot without it while
    every other snapshot is deleted.

    ``capture`` returns (index, md5 pairs, change position) taken consistently. ``writes``
    False (no snapshots configured): after an erasure every snapshot here is deleted.
    """

    def __init__(
        self,
        store: SnapshotStore,
        capture: Callable[[], tuple[MihIndex, list[tuple[int, str]], int]],
        interval_s: float,
        *,
        first_delay_s: float | None = None,
        erased: threading.Event | None = None,
        writes: bool = True,
    ) -> None:
        self._store, self._capture, self._interval = store, capture, interval_s
        self._first = interval_s if first_delay_s is None else first_delay_s
        self._erased, self._writes = erased, writes
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stopspread-snapshots", daemon=True)
        self.written_seq = max(store.sequences(), default=-1)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    @contextlib.contextmanager
    def _host_lock(self) -> Iterator[bool]:
        """The host's snapshot writer lock, if free: True; another process holds it: False."""
        _private_dir(self._store.dir)
        fd = os.open(self._store.dir / "writer.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)

    def write_once(self) -> Path | None:
        """Write a snapshot if the index moved on and no other process is writing."""
        index, md5, seq = self._capture()
        if seq <= self.written_seq:
            return None
        with self._host_lock() as mine:
            if not mine:
                return None  # another process on this host is writing
            if seq <= max(self._store.sequences(), default=-1):
                self.written_seq = seq
                return None  # another process wrote this position already
            path = self._store.write(index, md5, seq)
            self._store.prune()
        self.written_seq = seq
        log.info("index snapshot written at change %d (%d PDQ hashes)", seq, len(index))
        return path

    def erase_once(self) -> bool:
        """After a removal: a snapshot at the current change position (without the removed
        rows) and no other snapshot. False when another process held the lock (try again)."""
        if not self._writes:
            gone = self._store.erase_all_but(None)
            if gone:
                log.info("%d index snapshots deleted after a removal (no snapshot writer)", gone)
            return True
        index, md5, seq = self._capture()
        with self._host_lock() as mine:
            if not mine:
                return False
            if seq not in self._store.sequences():
                self._store.write(index, md5, seq)  # a snapshot at ``seq`` holds no removed row
            gone = self._store.erase_all_but(seq)
        self.written_seq = max(self.written_seq, seq)
        log.info("index snapshot at change %d after a removal; %d older deleted", seq, gone)
        return True

    def _run(self) -> None:
        due = time.monotonic() + self._first
        pending, next_erase = False, 0.0  # an erasure not on disk yet; when it may run
        while not self._stop.wait(ERASE_TICK_S):
            now = time.monotonic()
            if self._erased is not None and self._erased.is_set():
                self._erased.clear()  # before the capture: a later removal sets it again
                pending = True
            erasure = pending and now >= next_erase
            periodic = self._writes and now >= due
            if not periodic and not erasure:
                continue
            if periodic:
                due = now + self._interval
            done = self._step(erasure)
            if erasure:
                pending = not done
                next_erase = now + (ERASE_MIN_GAP_S if done else ERASE_RETRY_S)

    def _step(self, erasure: bool) -> bool:
        try:
            if erasure:
                return self.erase_once()
            self.write_once()
            return True
        except (OSError, IndexFormatError) as exc:
            log.warning("index snapshot not written: %s", exc)
        except Exception as exc:  # never let the thread die silently
            log.error("index snapshot failed unexpectedly: %s", type(exc).__name__)
        return False
