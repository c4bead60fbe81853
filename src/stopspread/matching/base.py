"""The contract every hash index keeps.

Hashes are 256-bit PDQ values held as rows of 32 uint8 (the bytes of
:attr:`stopspread.hashing.PdqHash.value`). Ids are caller-chosen int64 values
(stable: an index never renumbers them). Results are exact: every stored hash
within ``radius`` bits is returned, and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from stopspread.hashing import PDQ_MATCH_DISTANCE, PdqHash

__all__ = ["DEFAULT_RADIUS", "HashArray", "HashIndex", "IdArray", "Match", "as_hash_array"]

DEFAULT_RADIUS: Final = PDQ_MATCH_DISTANCE  # Meta's recommended PDQ threshold, 31 bits
HASH_BYTES: Final = 32

HashArray = npt.NDArray[np.uint8]  # shape (n, 32)
IdArray = npt.NDArray[np.int64]  # shape (n,)


@dataclass(frozen=True, slots=True, order=True)
class Match:
    """One stored hash within the radius: its id and its distance in bits."""

    id: int
    distance: int


def as_hash_array(hashes: PdqHash | Iterable[PdqHash] | HashArray | bytes) -> HashArray:
    """Normalise hashes to a C-contiguous ``(n, 32)`` uint8 array."""
    if isinstance(hashes, PdqHash):
        return np.frombuffer(hashes.value, dtype=np.uint8).reshape(1, HASH_BYTES).copy()
    if isinstance(hashes, bytes):
        if len(hashes) % HASH_BYTES:
            raise ValueError("hash bytes must be a multiple of 32 long")
        return np.frombuffer(hashes, dtype=np.uint8).reshape(-1, HASH_BYTES).copy()
    if isinstance(hashes, np.ndarray):
        arr = np.ascontiguousarray(hashes, dtype=np.uint8)
        if arr.ndim == 1 and arr.shape[0] == HASH_BYTES:
            arr = arr.reshape(1, HASH_BYTES)
        if arr.ndim != 2 or arr.shape[1] != HASH_BYTES:
            raise ValueError(f"hash array must have shape (n, 32), got {arr.shape}")
        return arr
    values = [h.value for h in hashes]
    if not values:
        return np.empty((0, HASH_BYTES), dtype=np.uint8)
    return np.frombuffer(b"".join(values), dtype=np.uint8).reshape(-1, HASH_BYTES).copy()


class HashIndex(Protocol):
    """Exact radius search over 256-bit hashes, with adds and removals."""

    def __len__(self) -> int:
        """Number of live (not removed) hashes."""
        ...

    def add(self, hashes: HashArray, ids: IdArray) -> None:
        """Store ``hashes[i]`` under ``ids[i]``. Several hashes may share one id."""
        ...

    def remove(self, ids: IdArray | Sequence[int]) -> int:
        """Remove every hash stored under these ids; returns how many were removed."""
        ...

    def search(self, query: HashArray, radius: int = DEFAULT_RADIUS) -> list[Match]:
        """All stored hashes within ``radius`` bits of one query, sorted by (id, distance)."""
        ...

    def search_batch(self, queries: HashArray, radius: int = DEFAULT_RADIUS) -> list[list[Match]]:
        """``search`` for each row of ``queries``."""
        ...
