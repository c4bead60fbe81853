"""The in-memory index replica each API process holds, kept current from the change log.

At start-up :meth:`IndexReplica.load` reads every active signal and the change log's last
sequence number in one snapshot. Afterwards :meth:`IndexReplica.sync` (called every
``index_poll_interval_s`` by a background thread) applies the changes after that number,
so an enrolment or a withdrawal made by any process is live everywhere within a second.
Each signal type keeps its own index (``matching.signal_types``: PDQ signals in a
:class:`~stopspread.matching.HashIndex`, MD5 signals in a dict); nothing here branches on a type.

With a hash key (sealing on, the default) every value is cloaked before it enters an index
and every query before it is looked up (``matching/cloak.py``: PDQ XOR a mask derived from the
key, MD5 keyed): the indexes, and so the snapshots written from them, hold no enrolled hash.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any, Final

from sqlalchemy import select

from stopspread.config import IndexKind
from stopspread.errors import IndexFormatError
from stopspread.matching import BruteForceIndex, HashIndex, MihIndex
from stopspread.matching.base import HashArray, IdArray
from stopspread.matching.cloak import IndexCloak
from stopspread.matching.policy import MatchPolicy
from stopspread.matching.signal_types import (
    MD5,
    PDQ,
    SIGNAL_TYPES,
    SignalIndex,
    md5_rows,
    pdq_hash_index,
    pdq_query_near,
)
from stopspread.services.signal_input import SignalIn
from stopspread.services.snapshots import LoadedSnapshot, SnapshotStore
from stopspread.storage.db import Database
from stopspread.storage.models import (
    ChainHead,
    ChangeOp,
    IndexChange,
    Signal,
    SignalStatus,
    SignalType,
)

__all__ = ["CLOAK_PURPOSE", "LOAD_BATCH", "IndexReplica", "index_cloak", "make_index"]

log = logging.getLogger("stopspread.replica")

LOAD_BATCH: Final = 100_000  # signals read and added per step at start-up
SYNC_BATCH: Final = 10_000  # changes applied per poll
CLOAK_PURPOSE: Final = b"stopspread index cloak"  # the hash key's derived secret for it


def index_cloak(db: Database) -> IndexCloak | None:
    """The cloak of ``db``'s hash key; None when hash values are not sealed (no key)."""
    sealer = db.hash_sealer
    return None if sealer is None else IndexCloak(sealer.derive(CLOAK_PURPOSE))


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

    def __init__(self, db: Database, kind: IndexKind, policy: MatchPolicy) -> None:
        # holds only the signals the policy lets match (enrolled quality), so snapshots too
        self._db, self._kind, self.policy = db, kind, policy
        self.cloak = index_cloak(db)
        self._indexes: dict[str, SignalIndex] = {
            name: t.index_builder(self._factory).build() for name, t in SIGNAL_TYPES.items()
        }
        # withdrawn here before the poller saw the removal: a poll that read the rows just
        # before the withdrawal committed must not put them back
        self._forgotten: set[int] = set()
        self._lock = threading.Lock()
        # set once a removal (withdrawal, quarantine) is applied, here or replayed at start:
        # the snapshot writer then replaces every snapshot that may still hold it
        self.erased = threading.Event()
        self.seq = 0
        self.source = ""  # where the last load came from: "snapshot <file>" or "database"
        self.loaded_at: float | None = None  # time.monotonic() when load() finished

    def _factory(self, hashes: HashArray | None, ids: IdArray | None) -> HashIndex:
        """A bulk build (start-up from the database): the clear arrays cloaked in one step."""
        if self.cloak is not None and hashes is not None:
            hashes = self.cloak.pdq_array(hashes)
        return make_index(self._kind, hashes, ids)

    def __len__(self) -> int:
        return sum(len(index) for index in self._indexes.values())

    @property
    def cloak_id(self) -> str | None:
        """The cloak's fingerprint (a snapshot records it), or None: values in the clear."""
        return None if self.cloak is None else self.cloak.fingerprint

    def _by_type(
        self, rows: Iterable[Sequence[Any]], *, bulk: bool = False
    ) -> dict[str, list[tuple[int, str]]]:
        """Rows grouped by type and cloaked; ``bulk``: PDQ rows left for :meth:`_factory`."""
        grouped = _by_type(rows, self.policy)
        if self.cloak is None:
            return grouped
        cloak = self.cloak
        return {
            kind: typed if bulk and kind == PDQ.name else cloak.rows(kind, typed)
            for kind, typed in grouped.items()
        }

    def load(self, store: SnapshotStore | None = None) -> None:
        """Fill the indexes and catch up with the change log; then the replica is ready.

        With a ``store`` (and the MIH index kind) the newest valid snapshot is memory-mapped
        and the change log replayed from its position; a damaged or stale snapshot is logged
        with the reason and the next older one tried, then the database rebuilt from.
        """
        if store is None or self._kind is not IndexKind.MIH or not self._load_snapshot(store):
            self._load_database()
            if store is not None and store.sequences():
                self.erased.set()  # snapshots not used may hold withdrawn hashes: replace them
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
                snap = store.load(seq, db_seq=db_seq, cloak=self.cloak_id)
            except (IndexFormatError, OSError) as exc:
                log.warning("index snapshot at change %d not used: %s", seq, exc)
                continue
            self._install(snap)
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

    def _install(self, snap: LoadedSnapshot) -> None:
        """The snapshot's mapped PDQ index and MD5 signals become this replica's indexes."""
        builders = {name: t.index_builder(self._factory) for name, t in SIGNAL_TYPES.items()}
        builders[MD5.name].add(snap.md5)
        indexes = {name: builder.build() for name, builder in builders.items()}
        indexes[PDQ.name] = PDQ.index_builder(lambda _h, _i: snap.index).build()
        with self._lock:
            self._indexes, self.seq = indexes, snap.seq

    def capture(self) -> tuple[MihIndex, list[tuple[int, str]], int]:
        """A consistent copy of the index (MIH only), the MD5 signals and their change position."""
        with self._lock:
            index = pdq_hash_index(self._indexes[PDQ.name])
            if not isinstance(index, MihIndex):
                raise TypeError("only an MIH index can be snapshotted")
            state = index._state
            frozen = MihIndex._restore(state.segments, state.delta)
            return frozen, sorted(md5_rows(self._indexes[MD5.name])), self.seq

    def _load_database(self) -> None:
        """Fill the indexes from the database (one snapshot) and remember the change position."""
        builders = {name: t.index_builder(self._factory) for name, t in SIGNAL_TYPES.items()}
        with self._db.read(snapshot=True) as session:
            head = session.get(ChainHead, 1)
            seq = head.change_seq if head is not None else 0
            stmt = (
                select(Signal.id, Signal.type, Signal.value, Signal.quality)
                .where(Signal.status == SignalStatus.ACTIVE)
                .order_by(Signal.id)
                .execution_options(yield_per=LOAD_BATCH)
            )
            for part in session.execute(stmt).partitions():
                for name, rows in self._by_type(part, bulk=True).items():
                    builders[name].add(rows)
        indexes = {name: builder.build() for name, builder in builders.items()}
        with self._lock:
            self._indexes, self.seq = indexes, seq
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
            stmt = select(Signal.id, Signal.type, Signal.value, Signal.quality).where(
                Signal.id.in_(adds), Signal.status == SignalStatus.ACTIVE
            )
            rows = [(r[0], r[1], r[2], r[3]) for r in session.execute(stmt)] if adds else []
        self._apply(list(last), rows, changes[-1][0], removed)
        return len(changes)

    def _apply(
        self,
        touched: list[int],
        rows: list[tuple[int, SignalType, str, int | None]],
        seq: int,
        removed: list[int],
    ) -> None:
        with self._lock:
            rows = [r for r in rows if r[0] not in self._forgotten]
            self._forgotten.difference_update(removed)
            self._drop(touched)
            for name, typed in self._by_type(rows).items():
                self._indexes[name].add(typed)
            self.seq = max(self.seq, seq)
            if removed:
                self.erased.set()  # under the lock: a capture after it includes this removal

    def lookup(self, signal: SignalIn) -> list[int]:
        """Ids of the stored signals that match under the policy, closest first (ties: lowest
        id); none for a query hash under the policy's query quality floor."""
        query = self._query(signal)
        if query is None:
            return []
        index, value, radius = query
        with contextlib.nullcontext() if index.lock_free else self._lock:
            return index.query(value, radius)

    def lookup_near(self, signal: SignalIn) -> list[tuple[int, int]]:
        """As :meth:`lookup`, with each id's distance in bits (the same one search; ``-1``
        for an exact type such as MD5, which has no edge to walk)."""
        query = self._query(signal)
        if query is None:
            return []
        index, value, radius = query
        with contextlib.nullcontext() if index.lock_free else self._lock:
            near = pdq_query_near(index, value, radius)
            if near is None:
                return [(signal_id, -1) for signal_id in index.query(value, radius)]
            return near

    def _query(self, signal: SignalIn) -> tuple[SignalIndex, str, int] | None:
        """The index, the (cloaked) value and the radius a query uses; None under the
        policy's query quality floor."""
        rule = self.policy.rule(signal.type)
        if not rule.query_ok(signal.quality):
            return None
        value = signal.value if self.cloak is None else self.cloak.value(signal.type, signal.value)
        return self._indexes[signal.type], value, rule.radius

    def forget(self, signal_ids: list[int]) -> None:
        """Drop signals at once in this process (withdrawal); other processes poll."""
        with self._lock:
            self._drop(signal_ids)
            self._forgotten.update(signal_ids)

    def _drop(self, signal_ids: list[int]) -> None:
        """Remove from every type's index; the caller holds the lock."""
        for index in self._indexes.values():
            index.remove(signal_ids)


def _by_type(
    rows: Iterable[Sequence[Any]], policy: MatchPolicy
) -> dict[str, list[tuple[int, str]]]:
    """(id, type, value, quality) rows grouped by signal type, in their order, without the
    ones under the policy's enrolled quality floor (they never match)."""
    grouped: dict[str, list[tuple[int, str]]] = {}
    for sid, kind, value, quality in rows:
        if policy.enrolled_ok(kind, quality):
            grouped.setdefault(kind, []).append((sid, value))
    return grouped
