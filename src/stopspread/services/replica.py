"""The in-memory index replica each API process holds, kept current from the change log.

At start-up :meth:`IndexReplica.load` reads every active signal and the change log's last
sequence number in one snapshot. Afterwards :meth:`IndexReplica.sync` (called every
``index_poll_interval_s`` by a background thread) applies the changes after that number,
so an enrolment or a withdrawal made by any process is live everywhere within a second.
PDQ signals go into a :class:`~stopspread.matching.HashIndex`; MD5 signals into a dict.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Final

import numpy as np
from sqlalchemy import select

from stopspread.config import IndexKind
from stopspread.errors import IndexFormatError
from stopspread.matching import BruteForceIndex, HashIndex, MihIndex
from stopspread.matching.base import HashArray, IdArray
from stopspread.services.signal_input import SignalIn
from stopspread.services.snapshots import SnapshotStore
from stopspread.storage.db import Database
from stopspread.storage.models import (
    ChainHead,
    ChangeOp,
    IndexChange,
    Signal,
    SignalStatus,
    SignalType,
)

__all__ = ["LOAD_BATCH", "IndexReplica", "make_index"]

log = logging.getLogger("stopspread.replica")

LOAD_BATCH: Final = 100_000  # signals read and added per step at start-up
SYNC_BATCH: Final = 10_000  # changes applied per poll


def make_index(
    kind: IndexKind, hashes: HashArray | None = None, ids: IdArray | None = None
) -> HashIndex:
    """The index class the ``index_kind`` setting names, optionally bulk-built from arrays."""
    if kind is IndexKind.MIH:
        if hashes is not None and ids is not None:
            return MihIndex.from_arrays(hashes, ids)  # one segment: fastest to build and search
        return MihIndex()
    index = BruteForceIndex()
    if hashes is not None and ids is not None:
        index.add(hashes, ids)
    return index


def _rows_to_arrays(rows: Iterable[tuple[int, str]]) -> tuple[HashArray, IdArray]:
    pairs = list(rows)
    ids = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
    blob = bytes.fromhex("".join(p[1] for p in pairs))
    return np.frombuffer(blob, dtype=np.uint8).reshape(-1, 32), ids


class IndexReplica:
    """The signals this process matches against; thread-safe.

    ``_lock`` serialises writers (the poller, a withdrawal) and guards the MD5 map. Searches
    of a :class:`MihIndex` take no lock at all (it publishes immutable states, so a long
    segment merge never stalls a match); the brute-force index is searched under the lock.
    """

    def __init__(self, db: Database, kind: IndexKind, radius: int) -> None:
        self._db, self._kind, self.radius = db, kind, radius
        self._index = make_index(kind)
        self._md5: defaultdict[str, set[int]] = defaultdict(set)
        self._md5_of: dict[int, str] = {}
        # withdrawn here before the poller saw the removal: a poll that read the rows just
        # before the withdrawal committed must not put them back
        self._forgotten: set[int] = set()
        self._lock = threading.Lock()
        self._search_lock: contextlib.AbstractContextManager[object] = self._guard(self._index)
        self.seq = 0
        self.source = ""  # where the last load came from: "snapshot <file>" or "database"
        self.loaded_at: float | None = None  # time.monotonic() when load() finished

    def _guard(self, index: HashIndex) -> contextlib.AbstractContextManager[object]:
        return contextlib.nullcontext() if isinstance(index, MihIndex) else self._lock

    def __len__(self) -> int:
        return len(self._index) + sum(len(ids) for ids in self._md5.values())

    def load(self, store: SnapshotStore | None = None) -> None:
        """Fill the index and catch up with the change log; then the replica is ready.

        With a ``store`` (and the MIH index kind) the newest valid snapshot is memory-mapped
        and the change log replayed from its position; a damaged or stale snapshot is logged
        with the reason and the next older one tried, then the database rebuilt from.
        """
        if store is not None and self._kind is IndexKind.MIH and self._load_snapshot(store):
            self.loaded_at = time.monotonic()
            return
        self._load_database()
        self.loaded_at = time.monotonic()

    def _db_seq(self) -> int:
        with self._db.read() as session:
            head = session.get(ChainHead, 1)
            return head.change_seq if head is not None else 0

    def _load_snapshot(self, store: SnapshotStore) -> bool:
        sequences = store.sequences()
        if not sequences:
            log.info("no index snapshot in %s: building the index from the database", store.dir)
            return False
        db_seq = self._db_seq()
        for seq in sequences:
            try:
                snap = store.load(seq, db_seq=db_seq)
            except (IndexFormatError, OSError) as exc:
                log.warning("index snapshot at change %d not used: %s", seq, exc)
                continue
            md5: defaultdict[str, set[int]] = defaultdict(set)
            for sid, value in snap.md5:
                md5[value].add(sid)
            with self._lock:
                self._index, self._md5, self._md5_of = snap.index, md5, dict(snap.md5)
                self.seq = snap.seq
                self._search_lock = self._guard(snap.index)
            replayed = 0
            while n := self.sync():
                replayed += n
            self.source = f"snapshot {snap.path.name}"
            log.info(
                "index loaded from snapshot %s and %d changes replayed", snap.path.name, replayed
            )
            return True
        log.warning("no usable index snapshot: rebuilding the index from the database")
        return False

    def capture(self) -> tuple[MihIndex, list[tuple[int, str]], int]:
        """A consistent copy of the index (MIH only), the MD5 signals and their change position."""
        with self._lock:
            index = self._index
            if not isinstance(index, MihIndex):
                raise TypeError("only an MIH index can be snapshotted")
            state = index._state
            frozen = MihIndex._restore(state.segments, state.delta)
            return frozen, sorted(self._md5_of.items()), self.seq

    def _load_database(self) -> None:
        """Fill the index from the database (one snapshot) and remember the change position."""
        with self._db.read(snapshot=True) as session:
            head = session.get(ChainHead, 1)
            seq = head.change_seq if head is not None else 0
            stmt = (
                select(Signal.id, Signal.type, Signal.value)
                .where(Signal.status == SignalStatus.ACTIVE)
                .order_by(Signal.id)
                .execution_options(yield_per=LOAD_BATCH)
            )
            md5: defaultdict[str, set[int]] = defaultdict(set)
            md5_of: dict[int, str] = {}
            hash_parts, id_parts = [], []
            for part in session.execute(stmt).partitions():
                pdq = [(r[0], r[2]) for r in part if r[1] is SignalType.PDQ]
                for r in part:
                    if r[1] is SignalType.MD5:
                        md5[r[2]].add(r[0])
                        md5_of[r[0]] = r[2]
                if pdq:
                    hashes, ids = _rows_to_arrays(pdq)
                    hash_parts.append(hashes)
                    id_parts.append(ids)
        index = make_index(
            self._kind,
            np.concatenate(hash_parts) if hash_parts else np.empty((0, 32), dtype=np.uint8),
            np.concatenate(id_parts) if id_parts else np.empty(0, dtype=np.int64),
        )
        with self._lock:
            self._index, self._md5, self._md5_of, self.seq = index, md5, md5_of, seq
            self._search_lock = self._guard(index)
            self.source = "database"

    def sync(self) -> int:
        """Apply the changes made since the last call; returns how many were applied."""
        with self._db.read(snapshot=True) as session:
            changes = session.execute(
                select(IndexChange.seq, IndexChange.op, IndexChange.signal_id)
                .where(IndexChange.seq > self.seq)
                .order_by(IndexChange.seq)
                .limit(SYNC_BATCH)
            ).all()
            if not changes:
                return 0
            last: dict[int, ChangeOp] = {sid: op for _, op, sid in changes}
            removed = [sid for _, op, sid in changes if op is ChangeOp.REMOVE]
            adds = [sid for sid, op in last.items() if op is ChangeOp.ADD]
            stmt = select(Signal.id, Signal.type, Signal.value).where(
                Signal.id.in_(adds), Signal.status == SignalStatus.ACTIVE
            )
            rows = [(r[0], r[1], r[2]) for r in session.execute(stmt)] if adds else []
        self._apply(list(last), rows, changes[-1][0], removed)
        return len(changes)

    def _apply(
        self,
        touched: list[int],
        rows: list[tuple[int, SignalType, str]],
        seq: int,
        removed: list[int],
    ) -> None:
        with self._lock:
            rows = [r for r in rows if r[0] not in self._forgotten]
            self._forgotten.difference_update(removed)
            pdq = [(r[0], r[2]) for r in rows if r[1] is SignalType.PDQ]
            self._drop(touched)
            if pdq:
                self._index.add(*_rows_to_arrays(pdq))
            for sid, kind, value in rows:
                if kind is SignalType.MD5:
                    self._md5[value].add(sid)
                    self._md5_of[sid] = value
            self.seq = max(self.seq, seq)

    def lookup(self, signal: SignalIn) -> list[int]:
        """Ids of the stored signals that match, closest first (ties: lowest id)."""
        if signal.type is SignalType.MD5:
            with self._lock:
                return sorted(self._md5.get(signal.value, ()))
        query = np.frombuffer(bytes.fromhex(signal.value), dtype=np.uint8).reshape(1, 32)
        with self._search_lock:
            found = self._index.search(query, self.radius)
        return [m.id for m in sorted(found, key=lambda m: (m.distance, m.id))]

    def forget(self, signal_ids: list[int]) -> None:
        """Drop signals at once in this process (withdrawal); other processes poll."""
        with self._lock:
            self._drop(signal_ids)
            self._forgotten.update(signal_ids)

    def _drop(self, signal_ids: list[int]) -> None:
        """Remove from the index and the MD5 map; the caller holds the lock."""
        self._index.remove(np.asarray(signal_ids, dtype=np.int64))
        for sid in signal_ids:
            value = self._md5_of.pop(sid, None)
            if value is not None:
                self._md5[value].discard(sid)
                if not self._md5[value]:
                    del self._md5[value]
