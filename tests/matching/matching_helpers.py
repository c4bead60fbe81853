"""Shared helpers for the matching tests: random hashes, bit flips, the oracle comparison."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from tests.conftest import TESTDATA

from stopspread.hashing import PdqHash
from stopspread.matching import BruteForceIndex, MihIndex

PDQ_TESTDATA = TESTDATA / "pdq"


def random_hashes(rng: np.random.Generator, n: int) -> npt.NDArray[np.uint8]:
    return rng.integers(0, 256, size=(n, 32), dtype=np.uint8)


def flip_bits(h: npt.NDArray[np.uint8], positions: npt.ArrayLike) -> npt.NDArray[np.uint8]:
    """A copy of one 32-byte hash with the given bit positions (0..255) flipped."""
    bits = np.unpackbits(h.reshape(32))
    bits[np.asarray(positions, dtype=np.int64)] ^= 1
    return np.packbits(bits).reshape(1, 32)


def at_distance(
    rng: np.random.Generator, h: npt.NDArray[np.uint8], d: int
) -> npt.NDArray[np.uint8]:
    return flip_bits(h, rng.choice(256, size=d, replace=False))


def assert_same(
    fast: MihIndex, oracle: BruteForceIndex, queries: npt.NDArray[np.uint8], radius: int
) -> None:
    got = fast.search_arrays(queries, radius)
    want = oracle.search_arrays(queries, radius)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)


def load_hex_list(name: str) -> npt.NDArray[np.uint8]:
    lines = [ln.strip() for ln in (PDQ_TESTDATA / name).read_text().splitlines() if ln.strip()]
    raw = b"".join(PdqHash.from_hex(ln.split(",")[0]).value for ln in lines)
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, 32).copy()
