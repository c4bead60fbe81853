"""The fast exact index: multi-index-hashing segments, a small delta, atomic state swaps.

Layout (see docs/matching.md):

- **segments** — immutable; each holds hashes sorted by id and one CSR table per
  chunk of the 256 bits (``_segment.py``, kernel in ``_mihcore.c``);
- **delta** — the newest rows, scanned linearly; appended in place beyond what
  any reader can see, then published;
- **tombstones** — a bitmap per segment; a removal publishes new bitmaps.

Concurrency: every reader takes ``self._state`` once (one attribute read, atomic
in CPython) and searches that immutable object; the C kernels release the GIL,
so readers run in parallel. One writer at a time (a lock) builds the next state
and publishes it by one assignment. An ``add`` or ``remove`` is visible to every
search that starts after it returns. ``compact`` builds outside the writer lock and
carries over the writes made meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

import numpy as np
import numpy.typing as npt

from stopspread.matching._segment import Hits, SearchMode, Segment, build_segment, flat_segment
from stopspread.matching.base import (
    DEFAULT_RADIUS,
    HASH_BYTES,
    HashArray,
    IdArray,
    Match,
    as_hash_array,
)

__all__ = ["DELTA_MAX_ROWS", "IndexStats", "MihIndex", "SearchMode", "hits_to_lists"]

DELTA_MAX_ROWS: Final = 16_384  # scanned linearly by every query: 512 KiB, tens of microseconds
TIER_FANOUT: Final = 4  # a new segment absorbs the one before it while that one is < 4x larger
# Merges above this many rows wait for compact(): an automatic merge holds the writer lock
# (not readers) for about 0.5 s per million rows, and new hashes must match within a second.
AUTO_MERGE_MAX_ROWS: Final = 1_000_000


@dataclass(frozen=True, slots=True)
class IndexStats:
    """Sizes of an index: ``nbytes`` counts every array it holds (hashes, ids, tables)."""

    segments: int
    rows: int
    live: int
    delta_rows: int
    nbytes: int

    @property
    def bytes_per_hash(self) -> float:
        return self.nbytes / max(self.live, 1)


@dataclass(frozen=True, slots=True)
class _State:
    segments: tuple[Segment, ...]
    delta: Segment

    def all(self) -> tuple[Segment, ...]:
        return (*self.segments, self.delta)

    def search(self, queries: HashArray, radius: int, mode: SearchMode) -> Hits:
        parts = [seg.search(queries, radius, mode) for seg in self.all() if seg.n_live]
        parts = [p for p in parts if p[0].size]
        if not parts:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty
        if len(parts) == 1:
            q, ids, dist = parts[0]
        else:
            q, ids, dist = (np.concatenate([p[i] for p in parts]) for i in range(3))
        order = np.lexsort((dist, ids, q))
        return q[order], ids[order], dist[order]


_NO_HASHES: Final = np.empty((0, HASH_BYTES), dtype=np.uint8)
_NO_IDS: Final = np.empty(0, dtype=np.int64)


def _empty_delta(capacity: int) -> tuple[HashArray, IdArray, Segment]:
    hashes = np.empty((capacity, HASH_BYTES), dtype=np.uint8)
    ids = np.empty(capacity, dtype=np.int64)
    return hashes, ids, flat_segment(hashes[:0], ids[:0])


def _check_radius(radius: int) -> None:
    if not isinstance(radius, int | np.integer) or radius < 0:
        raise ValueError("radius must be an integer >= 0")


def hits_to_lists(n_queries: int, hits: Hits) -> list[list[Match]]:
    """Split sorted (query, id, distance) arrays into one Match list per query."""
    q, ids, dist = hits
    bounds = np.searchsorted(q, np.arange(n_queries + 1))
    id_list, dist_list = ids.tolist(), dist.tolist()
    return [
        [Match(id_list[j], dist_list[j]) for j in range(bounds[i], bounds[i + 1])]
        for i in range(n_queries)
    ]


class MihIndex:
    """Exact radius search over 256-bit hashes by multi-index hashing. See the module doc."""

    def __init__(
        self,
        *,
        chunks: int | None = None,
        delta_max_rows: int = DELTA_MAX_ROWS,
        mode: SearchMode = SearchMode.AUTO,
    ) -> None:
        if delta_max_rows < 1:
            raise ValueError("delta_max_rows must be >= 1")
        self._chunks = chunks
        self._mode = mode
        self._delta_max = delta_max_rows
        self._lock = threading.Lock()  # one writer at a time
        self._compact_lock = threading.Lock()  # one compaction at a time
        self._removed_during_compaction: list[IdArray] | None = None
        self._dh, self._di, delta = _empty_delta(delta_max_rows)
        self._state = _State((), delta)

    @classmethod
    def from_arrays(
        cls,
        hashes: HashArray,
        ids: IdArray,
        *,
        chunks: int | None = None,
        mode: SearchMode = SearchMode.AUTO,
    ) -> MihIndex:
        """Bulk build: one segment holding every row (fastest to build and to search)."""
        index = cls(chunks=chunks, mode=mode)
        arr, id_arr = _checked_rows(hashes, ids)
        if id_arr.size:
            index._state = replace(index._state, segments=(build_segment(arr, id_arr, chunks),))
        return index

    @classmethod
    def _restore(cls, segments: tuple[Segment, ...], delta: Segment) -> MihIndex:
        """An index over loaded segments; the delta is copied into writable buffers."""
        index = cls(delta_max_rows=max(DELTA_MAX_ROWS, delta.n_rows))
        n = delta.n_rows
        index._dh[:n], index._di[:n] = delta.hashes, delta.ids
        dead = delta.dead.copy()
        restored = replace(delta, hashes=index._dh[:n], ids=index._di[:n], dead=dead)
        index._state = _State(segments, restored)
        return index

    # ---- reading -------------------------------------------------------------------------

    def __len__(self) -> int:
        return sum(seg.n_live for seg in self._state.all())

    def __contains__(self, item: object) -> bool:
        return isinstance(item, int | np.integer) and self.contains(int(item))

    def contains(self, id_: int) -> bool:
        """Whether any live hash is stored under ``id_``."""
        ids = np.array([id_], dtype=np.int64)
        for seg in self._state.all():
            rows = seg.rows_of(ids)
            if rows.size and seg.is_live(rows).any():
                return True
        return False

    def search(self, query: HashArray, radius: int = DEFAULT_RADIUS) -> list[Match]:
        """All stored hashes within ``radius`` bits of one query, sorted by (id, distance)."""
        q = as_hash_array(query)
        if q.shape[0] != 1:
            raise ValueError("search takes exactly one query; use search_batch")
        _check_radius(radius)
        return hits_to_lists(1, self._state.search(q, int(radius), self._mode))[0]

    def search_batch(self, queries: HashArray, radius: int = DEFAULT_RADIUS) -> list[list[Match]]:
        """``search`` for each row of ``queries``."""
        q = as_hash_array(queries)
        return hits_to_lists(q.shape[0], self.search_arrays(q, radius))

    def search_arrays(
        self, queries: HashArray, radius: int = DEFAULT_RADIUS
    ) -> tuple[npt.NDArray[np.int64], IdArray, npt.NDArray[np.int64]]:
        """(query row, id, distance) of every match, sorted; the fastest way to read results."""
        q = as_hash_array(queries)
        _check_radius(radius)
        return self._state.search(q, int(radius), self._mode)

    def stats(self) -> IndexStats:
        state = self._state
        segs = state.all()
        return IndexStats(
            segments=len(state.segments),
            rows=sum(s.n_rows for s in segs),
            live=sum(s.n_live for s in segs),
            delta_rows=state.delta.n_rows,
            nbytes=sum(s.nbytes for s in state.segments) + state.delta.nbytes,
        )

    # ---- writing -------------------------------------------------------------------------

    def add(self, hashes: HashArray, ids: IdArray) -> None:
        """Store ``hashes[i]`` under ``ids[i]``; searchable as soon as this returns."""
        arr, id_arr = _checked_rows(hashes, ids)
        if id_arr.size == 0:
            return
        with self._lock:
            state = self._state
            n, k = state.delta.n_rows, int(id_arr.size)
            if n + k <= self._delta_max:
                self._dh[n : n + k], self._di[n : n + k] = arr, id_arr
                dead = np.zeros((n + k + 7) // 8, dtype=np.uint8)
                dead[: state.delta.dead.size] = state.delta.dead
                delta = replace(
                    state.delta, hashes=self._dh[: n + k], ids=self._di[: n + k], dead=dead
                )
                self._state = replace(state, delta=delta)
                return
            old_h, old_i = state.delta.live()
            merged = build_segment(np.concatenate([old_h, arr]), np.concatenate([old_i, id_arr]))
            self._dh, self._di, delta = _empty_delta(self._delta_max)
            self._state = _State(self._tiered(state.segments, merged), delta)

    def remove(self, ids: IdArray | Sequence[int]) -> int:
        """Remove every hash stored under these ids; returns how many were removed."""
        wanted = np.unique(_checked_ids(ids))
        with self._lock:
            state = self._state
            total = 0
            new_segs = []
            for seg in state.all():
                new_seg, removed = seg.without(wanted)
                new_segs.append(new_seg)
                total += removed
            if total:
                self._state = _State(tuple(new_segs[:-1]), new_segs[-1])
                if self._removed_during_compaction is not None:
                    self._removed_during_compaction.append(wanted)
            return total

    def compact(self) -> None:
        """Merge every segment and the delta into one segment without removed rows.

        The build (about 0.5 s per million rows) runs without the writer lock: adds and
        removals go on meanwhile and are carried over when the result is swapped in.
        """
        with self._compact_lock:
            with self._lock:  # the old delta joins the inputs; new rows go to a fresh one
                state = self._state
                inputs = (*state.segments, state.delta) if state.delta.n_rows else state.segments
                self._dh, self._di, delta = _empty_delta(self._delta_max)
                self._state = _State(inputs, delta)
                self._removed_during_compaction = []
            try:
                merged = _merge_live(inputs, self._chunks)
            except BaseException:
                with self._lock:  # the inputs stay searchable as they are: still exact
                    self._removed_during_compaction = None
                raise
            with self._lock:
                removed, self._removed_during_compaction = self._removed_during_compaction, None
                self._swap_in(len(inputs), merged, removed)

    def _swap_in(self, n_inputs: int, merged: Segment | None, removed: list[IdArray]) -> None:
        """Replace the first ``n_inputs`` segments by ``merged``; call with the writer lock."""
        state = self._state
        if merged is not None and removed:
            merged, _ = merged.without(np.unique(np.concatenate(removed)))
        head = (merged,) if merged is not None and merged.n_live else ()
        self._state = _State((*head, *state.segments[n_inputs:]), state.delta)

    def _tiered(self, segments: tuple[Segment, ...], new: Segment) -> tuple[Segment, ...]:
        if self._removed_during_compaction is not None:
            return (*segments, new)  # a compaction owns the existing segments' positions
        segs = [s for s in segments if s.n_live]
        while (
            segs
            and segs[-1].n_live < TIER_FANOUT * new.n_live
            and segs[-1].n_live + new.n_live <= AUTO_MERGE_MAX_ROWS
        ):
            prev_h, prev_i = segs.pop().live()
            new_h, new_i = new.live()
            new = build_segment(np.concatenate([prev_h, new_h]), np.concatenate([prev_i, new_i]))
        return (*segs, new)


def _merge_live(segments: tuple[Segment, ...], chunks: int | None) -> Segment | None:
    parts = [seg.live() for seg in segments]
    hashes = np.concatenate([p[0] for p in parts]) if parts else _NO_HASHES
    ids = np.concatenate([p[1] for p in parts]) if parts else _NO_IDS
    return build_segment(hashes, ids, chunks) if ids.size else None


def _checked_ids(ids: IdArray | Sequence[int]) -> IdArray:
    """Ids as int64; refuses floats (1.5 must not silently remove id 1) and values > 2^63 - 1."""
    arr = np.asarray(ids).reshape(-1)
    if arr.size == 0:
        return np.empty(0, dtype=np.int64)
    if arr.dtype.kind not in "iu":
        raise ValueError("ids must be integers")
    if arr.dtype.kind == "u" and int(arr.max()) > np.iinfo(np.int64).max:
        raise ValueError("ids must fit in int64")
    return arr.astype(np.int64)


def _checked_rows(hashes: HashArray, ids: IdArray) -> tuple[HashArray, IdArray]:
    arr = as_hash_array(hashes)
    id_arr = _checked_ids(ids)
    if arr.shape[0] != id_arr.shape[0]:
        raise ValueError("hashes and ids must have the same length")
    return arr, id_arr
