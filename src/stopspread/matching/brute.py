"""The brute-force index: compare the query with every stored hash.

Slow (linear in the number of hashes) and obviously correct; the oracle for
every fast index's tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from stopspread.matching.base import (
    DEFAULT_RADIUS,
    HASH_BYTES,
    HashArray,
    IdArray,
    Match,
    as_hash_array,
)

__all__ = ["BruteForceIndex", "popcount_rows"]

_POPCOUNT16: Final = np.array([bin(i).count("1") for i in range(1 << 16)], dtype=np.uint8)


def popcount_rows(xor: HashArray) -> npt.NDArray[np.int64]:
    """Bits set in each row of an ``(n, 32)`` uint8 array (16 bits per table lookup)."""
    halves = np.ascontiguousarray(xor).view(np.uint16)
    counts: npt.NDArray[np.int64] = _POPCOUNT16[halves].sum(axis=1, dtype=np.int64)
    return counts


class BruteForceIndex:
    """Linear scan. Adds append; removes filter. Not for production sizes."""

    def __init__(self) -> None:
        self._hashes: HashArray = np.empty((0, HASH_BYTES), dtype=np.uint8)
        self._ids: IdArray = np.empty(0, dtype=np.int64)

    def __len__(self) -> int:
        return int(self._ids.shape[0])

    def add(self, hashes: HashArray, ids: IdArray) -> None:
        arr = as_hash_array(hashes)
        id_arr = np.asarray(ids, dtype=np.int64).reshape(-1)
        if arr.shape[0] != id_arr.shape[0]:
            raise ValueError("hashes and ids must have the same length")
        self._hashes = np.concatenate([self._hashes, arr])
        self._ids = np.concatenate([self._ids, id_arr])

    def remove(self, ids: IdArray | Sequence[int]) -> int:
        drop = np.isin(self._ids, np.asarray(ids, dtype=np.int64))
        self._hashes = self._hashes[~drop]
        self._ids = self._ids[~drop]
        return int(drop.sum())

    def __contains__(self, item: object) -> bool:
        return isinstance(item, int | np.integer) and self.contains(int(item))

    def contains(self, id_: int) -> bool:
        """Whether any hash is stored under ``id_``."""
        return bool(np.any(self._ids == id_))

    def search_arrays(
        self, queries: HashArray, radius: int = DEFAULT_RADIUS
    ) -> tuple[npt.NDArray[np.int64], IdArray, npt.NDArray[np.int64]]:
        """(query row, id, distance) of every match, sorted by all three."""
        q_out, id_out, d_out = [], [], []
        for i, row in enumerate(self.search_batch(queries, radius)):
            for m in row:
                q_out.append(i)
                id_out.append(m.id)
                d_out.append(m.distance)
        return (
            np.array(q_out, dtype=np.int64),
            np.array(id_out, dtype=np.int64),
            np.array(d_out, dtype=np.int64),
        )

    def search(self, query: HashArray, radius: int = DEFAULT_RADIUS) -> list[Match]:
        q = as_hash_array(query)
        if q.shape[0] != 1:
            raise ValueError("search takes exactly one query; use search_batch")
        if radius < 0:
            raise ValueError("radius must be >= 0")
        dist = popcount_rows(self._hashes ^ q[0])
        hit = np.nonzero(dist <= radius)[0]
        return sorted(Match(int(self._ids[i]), int(dist[i])) for i in hit)

    def search_batch(self, queries: HashArray, radius: int = DEFAULT_RADIUS) -> list[list[Match]]:
        return [self.search(row.reshape(1, HASH_BYTES), radius) for row in as_hash_array(queries)]
