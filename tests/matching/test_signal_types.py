"""Signal types: one registry; each type parses, indexes and matches its own values."""

from __future__ import annotations

import numpy as np
import pytest
from tests.matching.matching_helpers import at_distance, random_hashes

from stopspread.errors import HashFormatError
from stopspread.hashing import PdqHash
from stopspread.matching import BruteForceIndex, HashIndex, MihIndex
from stopspread.matching.base import HashArray, IdArray
from stopspread.matching.signal_types import MD5, PDQ, SIGNAL_TYPES, Md5Signal, PdqSignal


def brute(hashes: HashArray | None, ids: IdArray | None) -> HashIndex:
    index = BruteForceIndex()
    if hashes is not None and ids is not None:
        index.add(hashes, ids)
    return index


def mih(hashes: HashArray | None, ids: IdArray | None) -> HashIndex:
    if hashes is not None and ids is not None:
        return MihIndex.from_arrays(hashes, ids)
    return MihIndex()


def test_registry_holds_each_type_under_its_stored_name() -> None:
    assert dict(SIGNAL_TYPES) == {"pdq": PDQ, "md5": MD5}
    assert isinstance(PDQ, PdqSignal)
    assert isinstance(MD5, Md5Signal)


def test_values_are_canonicalised_or_refused() -> None:
    pdq = "AB" * 32
    assert PDQ.validate(f"  {pdq} ") == pdq.lower()
    assert MD5.validate(" " + "F" * 32 + "\n") == "f" * 32
    for bad in ("ab" * 31, "zz" * 32, ""):
        with pytest.raises(HashFormatError):
            PDQ.validate(bad)
    for bad in ("f" * 31, "g" * 32, "ab" * 32):
        with pytest.raises(HashFormatError):
            MD5.validate(bad)


def test_match_hook_takes_the_callers_threshold() -> None:
    a = PdqHash(bytes(32)).hex
    b = PdqHash(b"\xff" + bytes(31)).hex
    assert PDQ.distance(a, b) == 8
    assert PDQ.is_match(PDQ.distance(a, b), 8)
    assert not PDQ.is_match(PDQ.distance(a, b), 7)
    assert MD5.distance("a" * 32, "a" * 32) == 0
    assert MD5.is_match(0, 0)
    assert not MD5.is_match(MD5.distance("a" * 32, "b" * 32), 31)  # exact only


@pytest.mark.parametrize("factory", [brute, mih])
def test_pdq_index_agrees_with_the_oracle(factory: object) -> None:
    rng = np.random.default_rng(20)
    base = random_hashes(rng, 1)
    near = [at_distance(rng, base[0], d) for d in (3, 10, 10, 40)]
    stored = np.concatenate([*near, random_hashes(rng, 50)])
    rows = [(i + 1, row.tobytes().hex()) for i, row in enumerate(stored)]
    builder = PDQ.index_builder(factory)  # type: ignore[arg-type]
    builder.add(rows[:30])
    builder.add(rows[30:])
    index = builder.build()
    assert len(index) == len(rows)
    assert index.lock_free is (factory is mih)
    query = base.tobytes().hex()
    assert index.query(query, 31) == [1, 2, 3]  # closest first, ties by lowest id
    index.remove([2])
    index.add([(99, near[0].tobytes().hex())])
    assert index.query(query, 31) == [1, 99, 3]


def test_md5_index_is_exact() -> None:
    index = MD5.index_builder(brute).build()
    index.add([(5, "a" * 32), (2, "a" * 32), (7, "b" * 32)])
    assert len(index) == 3
    assert index.query("a" * 32, 31) == [2, 5]
    index.remove([2, 5, 1000])
    assert index.query("a" * 32, 31) == []
    assert len(index) == 1
