"""Snapshots: a round trip keeps every answer; a damaged file raises IndexFormatError."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from matching_helpers import random_hashes

from stopspread.errors import IndexFormatError, StopSpreadError
from stopspread.matching import MihIndex, load_snapshot, save_snapshot
from stopspread.matching.snapshot import MAGIC


@pytest.fixture
def index() -> MihIndex:
    rng = np.random.default_rng(3)
    hashes = random_hashes(rng, 6000)
    ix = MihIndex(delta_max_rows=1000)
    ix.add(hashes[:5000], np.arange(5000))  # a segment with tables
    ix.add(hashes[5000:5400], np.arange(5000, 5400))  # rows in the delta
    ix.remove([1, 2, 5001])
    return ix


@pytest.mark.parametrize("use_mmap", [False, True])
def test_round_trip_keeps_results(index: MihIndex, tmp_path: Path, use_mmap: bool) -> None:
    path = tmp_path / "index.ssmih"
    save_snapshot(index, path)
    loaded = load_snapshot(path, use_mmap=use_mmap, verify=True)
    queries = np.concatenate(
        [index._state.segments[0].hashes[:40], random_hashes(np.random.default_rng(4), 5)]
    )
    for radius in (0, 31, 63):
        assert loaded.search_batch(queries, radius) == index.search_batch(queries, radius)
    assert len(loaded) == len(index)
    assert 1 not in loaded
    assert 3 in loaded
    assert 5001 not in loaded
    assert 5002 in loaded
    # A loaded index keeps serving writes.
    new = random_hashes(np.random.default_rng(5), 2)
    loaded.add(new, np.array([9000, 9001]))
    loaded.remove([3])
    assert [m.id for m in loaded.search(new[1], 0)] == [9001]
    assert 3 not in loaded
    assert not list(tmp_path.glob("*.tmp"))


def test_empty_index_round_trip(tmp_path: Path) -> None:
    save_snapshot(MihIndex(), tmp_path / "e")
    assert len(load_snapshot(tmp_path / "e")) == 0


def _damage(path: Path, offset: int, data: bytes) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset : offset + len(data)] = data
    path.write_bytes(bytes(raw))


def _array_offset(path: Path, name: str, segment: int = 0) -> int:
    size = struct.unpack("<I", path.read_bytes()[12:16])[0]
    header = json.loads(path.read_bytes()[16 : 16 + size])
    return int(header["segments"][segment]["arrays"][name][0])


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b"not a snapshot at all"),
        lambda p: p.write_bytes(b""),
        lambda p: _damage(p, 0, b"XXXX"),
        lambda p: _damage(p, 8, struct.pack("<I", 99)),
        lambda p: _damage(p, 16, b"{{{{"),
        lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
        lambda p: _damage(p, _array_offset(p, "rows"), b"\xff\xff\xff"),  # row out of bounds
        lambda p: _damage(p, _array_offset(p, "offsets") + 40, b"\xff\xff\xff\x7f"),
        lambda p: _damage(p, _array_offset(p, "ids"), struct.pack("<q", 2**62)),  # unsorted
        lambda p: _damage(p, _array_offset(p, "dead"), b"\xff"),  # tombstone count
    ],
)
def test_damaged_snapshots_raise_a_typed_error(
    index: MihIndex, tmp_path: Path, damage: object
) -> None:
    path = tmp_path / "index.ssmih"
    save_snapshot(index, path)
    damage(path)  # type: ignore[operator]
    with pytest.raises(IndexFormatError):
        load_snapshot(path)


def test_verify_catches_a_flipped_hash_bit(index: MihIndex, tmp_path: Path) -> None:
    path = tmp_path / "index.ssmih"
    save_snapshot(index, path)
    _damage(path, _array_offset(path, "hashes") + 5, b"\x5a")
    load_snapshot(path)  # structurally fine: only the checksum can tell
    with pytest.raises(IndexFormatError, match="checksum") as err:
        load_snapshot(path, verify=True)
    assert isinstance(err.value, StopSpreadError)


def test_magic_is_eight_bytes() -> None:
    assert len(MAGIC) == 8
