"""The in-memory index replica each API process holds, kept current from the change log.

At start-up :meth:`IndexReplica.load` reads every active signal and the change log's last
sequence number in one snapshot. Afterwards :meth:`IndexReplica.sync` (called every
``index_poll_interval_s`` by a background thread) applies the changes after that number,
so an enrolment or a withdrawal made by any process is live everywhere within a second.
Each signal type keeps its own index (``matching.signal_types``: PDQ signals in a
:class:`~stopspread.matching.HashIndex`, MD5 signals in a dict); nothing here branches on a type.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Sequence
from typing import Any, Final

from sqlalchemy import select

from stopspread.config import IndexKind
from stopspread.matching import BruteForceIndex, HashIndex, MihIndex
from stopspread.matching.base import HashArray, IdArray
from stopspread.matching.signal_types import SIGNAL_TYPES, SignalIndex
from stopspread.services.signal_input import SignalIn
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


class IndexReplica:
    """The signals this process matches against; thread-safe.

    ``_lock`` serialises writers (the poller, a withdrawal) and guards every index that is
    not ``lock_free`` (the MD5 map, the brute-force index). Searches of a :class:`MihIndex`
    take no lock at all (it publishes immutable states, so a long segment merge never stalls
    a match).
    """

    def __init__(self, db: Database, kind: IndexKind, radius: int) -> None:
        self._db, self._kind, self.radius = db, kind, radius
        self._indexes: dict[str, SignalIndex] = {
            name: t.index_builder(self._factory).build() for name, t in SIGNAL_TYPES.items()
        }
        # withdrawn here before the poller saw the removal: a poll that read the rows just
        # before the withdrawal committed must not put them back
        self._forgotten: set[int] = set()
        self._lock = threading.Lock()
        self.seq = 0

    def _factory(self, hashes: HashArray | None, ids: IdArray | None) -> HashIndex:
        return make_index(self._kind, hashes, ids)

    def __len__(self) -> int:
        return sum(len(index) for index in self._indexes.values())

    def load(self) -> None:
        """Fill the indexes from the database (one snapshot) and remember the change position."""
        builders = {name: t.index_builder(self._factory) for name, t in SIGNAL_TYPES.items()}
        with self._db.read(snapshot=True) as session:
            head = session.get(ChainHead, 1)
            seq = head.change_seq if head is not None else 0
            stmt = (
                select(Signal.id, Signal.type, Signal.value)
                .where(Signal.status == SignalStatus.ACTIVE)
                .order_by(Signal.id)
                .execution_options(yield_per=LOAD_BATCH)
            )
            for part in session.execute(stmt).partitions():
                for name, rows in _by_type(part).items():
                    builders[name].add(rows)
        indexes = {name: builder.build() for name, builder in builders.items()}
        with self._lock:
            self._indexes, self.seq = indexes, seq

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
            self._drop(touched)
            for name, typed in _by_type(rows).items():
                self._indexes[name].add(typed)
            self.seq = max(self.seq, seq)

    def lookup(self, signal: SignalIn) -> list[int]:
        """Ids of the stored signals that match, closest first (ties: lowest id)."""
        index = self._indexes[signal.type]
        with contextlib.nullcontext() if index.lock_free else self._lock:
            return index.query(signal.value, self.radius)

    def forget(self, signal_ids: list[int]) -> None:
        """Drop signals at once in this process (withdrawal); other processes poll."""
        with self._lock:
            self._drop(signal_ids)
            self._forgotten.update(signal_ids)

    def _drop(self, signal_ids: list[int]) -> None:
        """Remove from every type's index; the caller holds the lock."""
        for index in self._indexes.values():
            index.remove(signal_ids)


def _by_type(rows: Iterable[Sequence[Any]]) -> dict[str, list[tuple[int, str]]]:
    """(id, type, value) rows grouped by signal type, in their order."""
    grouped: dict[str, list[tuple[int, str]]] = {}
    for sid, kind, value in rows:
        grouped.setdefault(kind, []).append((sid, value))
    return grouped
