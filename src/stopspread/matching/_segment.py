"""Immutable segments: hashes, their ids, optional multi-index tables, a tombstone bitmap.

A segment never changes after it is built; removing a hash makes a new segment
object that shares every array except a fresh copy of the tombstone bitmap.
Readers that hold the old object keep a consistent view.

Rows of a segment with tables are sorted by id, so the rows of one id are found
by binary search. The tables (see ``_mihcore.c``) split the 256 bits into
chunks; each chunk has a CSR table: ``offsets`` per key and row numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Final

import numpy as np
import numpy.typing as npt

from stopspread.matching import _mihcore
from stopspread.matching.base import HASH_BYTES, HashArray, IdArray

__all__ = [
    "Hits",
    "SearchMode",
    "Segment",
    "build_segment",
    "chunk_widths",
    "default_chunks",
    "flat_segment",
]

HASH_BITS: Final = 256
MAX_ROWS_3_BYTES: Final = 1 << 24  # row numbers fit 3 bytes up to here: 12 B/hash less than uint32
MAX_SEGMENT_ROWS: Final = (1 << 32) - 1  # offsets are uint32
# Key width in bits per chunk, chosen by bench/index.py --sweep (docs/matching.md): about
# floor(log2(rows)) - 1 balances probes (more chunks, more keys) against rows per probed key,
# and keeps the offsets tables near 10-15 B/hash.
KEY_BITS_BELOW_LOG2_ROWS: Final = 1
MIN_KEY_BITS: Final = 10  # below ~1k rows a linear scan wins anyway
MAX_KEY_BITS: Final = 24  # offsets table of 2^24 uint32 = 64 MiB per chunk: the memory cap

Hits = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]
_EMPTY_U8: Final = np.empty(0, dtype=np.uint8)


class SearchMode(IntEnum):
    """How a segment with tables is searched (the values are the C kernel's)."""

    AUTO = 0  # probe the tables unless reading every hash is cheaper (the default)
    PROBE = 1  # always probe: tests use it to exercise the tables on small segments
    SCAN = 2  # always scan linearly: the benchmark's C linear-scan baseline


def default_chunks(n_rows: int) -> int:
    """Chunk count for a segment of ``n_rows``: keys of about log2(n_rows) - 1 bits."""
    log2 = math.floor(math.log2(max(n_rows, 2)))
    key_bits = min(MAX_KEY_BITS, max(MIN_KEY_BITS, log2 - KEY_BITS_BELOW_LOG2_ROWS))
    return math.ceil(HASH_BITS / key_bits)


def chunk_widths(n_rows: int, chunks: int | None = None) -> tuple[int, ...]:
    """Widths of ``chunks`` near-equal consecutive chunks covering the 256 bits."""
    m = default_chunks(n_rows) if chunks is None else chunks
    if not 10 <= m <= 64:
        raise ValueError("chunks must be between 10 and 64 (keys of 4 to 26 bits)")
    base, extra = divmod(HASH_BITS, m)
    return tuple([base + 1] * extra + [base] * (m - extra))


def _empty_dead(n: int) -> npt.NDArray[np.uint8]:
    return np.zeros((n + 7) // 8, dtype=np.uint8)


@dataclass(frozen=True, slots=True, eq=False)
class Segment:
    """Rows ``hashes[i]`` stored under ``ids[i]``; ``dead`` bit i set once removed.

    ``widths`` empty means no tables: searched by a linear scan (the small
    mutable delta is such a segment, and so are its ids: not sorted).
    """

    hashes: HashArray
    ids: IdArray
    widths: tuple[int, ...]
    row_bytes: int
    offsets: npt.NDArray[np.uint32]
    rows: npt.NDArray[np.uint8]
    dead: npt.NDArray[np.uint8]
    n_dead: int

    @property
    def n_rows(self) -> int:
        return int(self.ids.shape[0])

    @property
    def n_live(self) -> int:
        return self.n_rows - self.n_dead

    @property
    def has_tables(self) -> bool:
        return bool(self.widths)

    @property
    def nbytes(self) -> int:
        arrays = (self.hashes, self.ids, self.offsets, self.rows, self.dead)
        return sum(int(a.nbytes) for a in arrays)

    def search(self, queries: HashArray, radius: int, mode: SearchMode = SearchMode.AUTO) -> Hits:
        """(query index, id, distance) of every live row within ``radius``."""
        raw = _mihcore.search(
            self.hashes,
            self.offsets if self.has_tables else _EMPTY_U8,
            self.rows,
            bytes(self.widths),
            self.row_bytes,
            self.dead if self.n_dead else _EMPTY_U8,
            queries,
            radius,
            int(mode),
        )
        triples = np.frombuffer(raw, dtype=np.uint32).reshape(-1, 3)
        q = triples[:, 0].astype(np.int64)
        return q, self.ids[triples[:, 1]], triples[:, 2].astype(np.int64)

    def rows_of(self, ids: IdArray) -> npt.NDArray[np.int64]:
        """Row numbers (live or dead) stored under any of ``ids`` (sorted, unique)."""
        if not self.has_tables:
            return np.flatnonzero(np.isin(self.ids, ids)).astype(np.int64)
        lo = np.searchsorted(self.ids, ids, side="left")
        hi = np.searchsorted(self.ids, ids, side="right")
        counts = hi - lo
        if not counts.any():
            return np.empty(0, dtype=np.int64)
        starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
        return (starts + np.arange(int(counts.sum()))).astype(np.int64)

    def is_live(self, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Whether each of ``rows`` is live (reads only their tombstone bits)."""
        bits = (self.dead[rows >> 3] >> (rows & 7).astype(np.uint8)) & 1
        live: npt.NDArray[np.bool_] = bits == 0
        return live

    def live_mask(self) -> npt.NDArray[np.bool_]:
        bits = np.unpackbits(self.dead, count=self.n_rows, bitorder="little")
        return np.logical_not(bits.astype(np.bool_))

    def without(self, ids: IdArray) -> tuple[Segment, int]:
        """This segment with every row under ``ids`` dead, and how many newly died."""
        rows = self.rows_of(ids)
        if rows.size == 0:
            return self, 0
        rows = rows[self.is_live(rows)]
        if rows.size == 0:
            return self, 0
        dead = self.dead.copy()
        np.bitwise_or.at(dead, rows >> 3, np.left_shift(1, rows & 7).astype(np.uint8))
        return replace(self, dead=dead, n_dead=self.n_dead + int(rows.size)), int(rows.size)

    def live(self) -> tuple[HashArray, IdArray]:
        """Copies of the live rows' hashes and ids."""
        if self.n_dead == 0:
            return self.hashes.copy(), self.ids.copy()
        mask = self.live_mask()
        return self.hashes[mask], self.ids[mask]


def flat_segment(hashes: HashArray, ids: IdArray) -> Segment:
    """A segment without tables (rows in the given order), for the delta."""
    return Segment(
        hashes=hashes,
        ids=ids,
        widths=(),
        row_bytes=4,
        offsets=np.empty(0, dtype=np.uint32),
        rows=_EMPTY_U8,
        dead=_empty_dead(int(ids.shape[0])),
        n_dead=0,
    )


def build_segment(hashes: HashArray, ids: IdArray, chunks: int | None = None) -> Segment:
    """Sort rows by id and build the multi-index tables (the C build releases the GIL)."""
    n = int(ids.shape[0])
    if n > MAX_SEGMENT_ROWS:
        raise ValueError("a segment holds at most 2^32 - 1 rows")
    order = np.argsort(ids, kind="stable")
    sorted_hashes = np.empty((n, HASH_BYTES), dtype=np.uint8)
    sorted_ids = np.empty(n, dtype=np.int64)
    if np.all(order[1:] > order[:-1]):
        sorted_hashes[:], sorted_ids[:] = hashes, ids
    else:
        np.take(hashes, order, axis=0, out=sorted_hashes)
        np.take(ids, order, out=sorted_ids)
    widths = chunk_widths(n, chunks)
    row_bytes = 3 if n <= MAX_ROWS_3_BYTES else 4
    offsets = np.empty(sum((1 << w) + 1 for w in widths), dtype=np.uint32)
    rows = np.empty(len(widths) * n * row_bytes, dtype=np.uint8)
    _mihcore.build(sorted_hashes, bytes(widths), row_bytes, offsets, rows)
    dead = _empty_dead(n)
    return Segment(sorted_hashes, sorted_ids, widths, row_bytes, offsets, rows, dead, 0)
