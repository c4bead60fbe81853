"""MihIndex against the brute-force oracle: every result identical, at every radius."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching_helpers import assert_same, at_distance, load_hex_list, random_hashes

from stopspread.matching import (
    BruteForceIndex,
    HashIndex,
    MihIndex,
    load_snapshot,
    save_snapshot,
)
from stopspread.matching import index as index_module
from stopspread.matching._segment import Segment
from stopspread.matching.index import SearchMode

MODES = [SearchMode.AUTO, SearchMode.PROBE, SearchMode.SCAN]


def test_keeps_the_hash_index_contract() -> None:
    index: HashIndex = MihIndex()
    assert len(index) == 0
    assert index.search(np.zeros(32, dtype=np.uint8)) == []


@pytest.fixture(scope="module")
def seeded_100k() -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, tuple[np.ndarray, ...]]]:
    """100k random hashes, queries at every distance 0-40 plus random ones, oracle answers."""
    rng = np.random.default_rng(20261125)
    n = 100_000
    hashes = random_hashes(rng, n)
    ids = rng.permutation(n).astype(np.int64) * 3  # not in row order, not contiguous
    oracle = BruteForceIndex()
    oracle.add(hashes, ids)
    src = rng.integers(0, n, size=41)
    near = np.concatenate([at_distance(rng, hashes[s], d) for d, s in enumerate(src)])
    queries = np.concatenate([near, random_hashes(rng, 8)])
    # One oracle pass at the largest radius; smaller radii are its rows within them.
    q63, id63, d63 = oracle.search_arrays(queries, 63)
    want = {r: (q63[d63 <= r], id63[d63 <= r], d63[d63 <= r]) for r in (0, 31, 40, 63)}
    return hashes, ids, queries, want


@pytest.mark.parametrize("mode", [SearchMode.AUTO, SearchMode.PROBE])
def test_seeded_100k_matches_brute_force_at_every_distance(
    mode: SearchMode,
    seeded_100k: tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, tuple[np.ndarray, ...]]],
) -> None:
    hashes, ids, queries, want = seeded_100k
    fast = MihIndex.from_arrays(hashes, ids, mode=mode)
    for radius, expected in want.items():
        got = fast.search_arrays(queries, radius)
        for g, w in zip(got, expected, strict=True):
            np.testing.assert_array_equal(g, w)
    assert want[31][0].size >= 32  # queries at distance 0-31 from a stored hash all match
    gone = np.unique(want[31][1])[:10]
    fast.remove(gone)
    _q, found, _ = fast.search_arrays(queries, 31)
    assert not np.isin(found, gone).any()
    keep = ~np.isin(want[31][1], gone)
    np.testing.assert_array_equal(found, want[31][1][keep])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 400),
    dup_share=st.floats(0, 0.5),
    radius=st.integers(0, 80),
    delta_max=st.sampled_from([1, 7, 64, 100_000]),
    mode=st.sampled_from(MODES),
)
def test_property_same_as_brute_force(
    seed: int, n: int, dup_share: float, radius: int, delta_max: int, mode: SearchMode
) -> None:
    rng = np.random.default_rng(seed)
    base = random_hashes(rng, max(1, n // 4))
    # Stored hashes are near-duplicates of a few bases; some rows repeat exactly.
    hashes = np.concatenate([at_distance(rng, base[i % len(base)], int(rng.integers(0, 45)))
                             for i in range(n)])  # fmt: skip
    dups = rng.random(n) < dup_share
    hashes[dups] = hashes[0]
    ids = rng.integers(0, max(2, n // 2), size=n).astype(np.int64)  # ids shared by several rows
    fast = MihIndex(delta_max_rows=delta_max, mode=mode)
    oracle = BruteForceIndex()
    for part in np.array_split(np.arange(n), int(rng.integers(1, 6))):
        fast.add(hashes[part], ids[part])
        oracle.add(hashes[part], ids[part])
    gone = rng.choice(ids, size=min(3, n), replace=False)
    assert fast.remove(gone) == oracle.remove(gone)
    queries = np.concatenate([hashes[: min(n, 12)], base[:4], random_hashes(rng, 3)])
    assert_same(fast, oracle, queries, radius)
    assert len(fast) == len(oracle)


@pytest.mark.parametrize("radius", [0, 8, 31, 45, 63])
def test_pdq_haystack_and_needles(radius: int) -> None:
    haystack = load_hex_list("haystack.txt")
    needles = load_hex_list("needles.txt")
    ids = np.arange(len(haystack), dtype=np.int64)
    oracle = BruteForceIndex()
    oracle.add(haystack, ids)
    for mode in MODES:
        fast = MihIndex.from_arrays(haystack, ids, mode=mode)
        assert_same(fast, oracle, needles, radius)
        assert_same(fast, oracle, haystack[::50], radius)


def test_removed_hashes_never_match_and_ids_come_back() -> None:
    rng = np.random.default_rng(7)
    hashes = random_hashes(rng, 3000)
    ids = np.arange(3000, dtype=np.int64) % 1000  # three hashes per id
    index = MihIndex(delta_max_rows=500)
    index.add(hashes[:2000], ids[:2000])  # flushed into segments
    index.add(hashes[2000:], ids[2000:])  # partly in the delta
    assert index.remove([5, 998, 999]) == 9
    for row in (5, 1005, 2005, 998, 1998, 2998, 999, 1999, 2999):
        assert index.search(hashes[row], 63) == []
    assert 5 not in index
    assert 6 in index
    index.add(hashes[5:6], np.array([5]))
    assert [m.id for m in index.search(hashes[5], 0)] == [5]
    assert index.remove([5]) == 1
    assert index.remove([5]) == 0


def test_compact_keeps_results_and_drops_removed_rows() -> None:
    rng = np.random.default_rng(8)
    hashes = random_hashes(rng, 2500)
    ids = np.arange(2500, dtype=np.int64)
    index = MihIndex(delta_max_rows=300)
    for part in np.array_split(np.arange(2500), 9):
        index.add(hashes[part], ids[part])
    index.remove(ids[::3])
    before = index.search_batch(hashes[:50], 31)
    index.compact()
    stats = index.stats()
    assert stats.segments == 1
    assert stats.rows == stats.live == len(index) == 2500 - 834
    assert index.search_batch(hashes[:50], 31) == before


def test_duplicate_hashes_under_many_ids() -> None:
    h = random_hashes(np.random.default_rng(9), 1)
    index = MihIndex.from_arrays(np.repeat(h, 5, axis=0), np.array([4, 2, 2, 9, 1]))
    assert [(m.id, m.distance) for m in index.search(h)] == [(1, 0), (2, 0), (2, 0), (4, 0), (9, 0)]


def test_readers_see_consistent_states_while_one_writer_changes_it() -> None:
    rng = np.random.default_rng(10)
    stable = random_hashes(rng, 2000)
    index = MihIndex.from_arrays(stable, np.arange(2000, dtype=np.int64))
    index = MihIndex(delta_max_rows=256)
    index.add(stable, np.arange(2000, dtype=np.int64))
    churn = random_hashes(rng, 4000)
    errors: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            _q, found, _ = index.search_arrays(stable[:20], 0)
            if not np.array_equal(found, np.arange(20)):
                errors.append("a stable hash went missing")

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for i in range(0, 4000, 100):
        index.add(churn[i : i + 100], np.arange(10_000 + i, 10_100 + i))
        index.remove(np.arange(10_000 + i, 10_050 + i))
        assert index.search(churn[i + 60], 0)[0].id == 10_060 + i
        assert index.search(churn[i + 10], 0) == []
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert len(index) == 2000 + 2000


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda ix: ix.search(np.zeros((2, 32), np.uint8)), "exactly one query"),
        (lambda ix: ix.search(np.zeros(32, np.uint8), -1), "radius"),
        (lambda ix: ix.add(np.zeros((2, 32), np.uint8), np.arange(3)), "same length"),
        (lambda ix: ix.add(np.zeros((1, 31), np.uint8), np.arange(1)), "shape"),
        (lambda ix: ix.add(np.zeros((1, 32), np.uint8), np.array([0.5])), "integers"),
        (lambda ix: ix.remove([1.5]), "integers"),
        (lambda ix: ix.add(np.zeros((1, 32), np.uint8), np.array([2**64 - 1], np.uint64)), "int64"),
    ],
)
def test_rejects_bad_input(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(MihIndex())  # type: ignore[operator]


def test_radius_above_256_matches_everything() -> None:
    hashes = random_hashes(np.random.default_rng(11), 50)
    index = MihIndex.from_arrays(hashes, np.arange(50), mode=SearchMode.PROBE)
    assert len(index.search(hashes[0], 300)) == 50


def test_writes_during_a_compaction_are_carried_over(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real_merge = index_module._merge_live
    started, release = threading.Event(), threading.Event()

    def held_merge(segments: tuple[Segment, ...], chunks: int | None) -> Segment | None:
        started.set()
        release.wait(10)
        return real_merge(segments, chunks)

    monkeypatch.setattr(index_module, "_merge_live", held_merge)
    rng = np.random.default_rng(12)
    hashes = random_hashes(rng, 3000)
    ids = np.arange(3000, dtype=np.int64)
    fast, oracle = MihIndex(delta_max_rows=400), BruteForceIndex()
    for part in np.array_split(np.arange(2500), 5):
        fast.add(hashes[part], ids[part])
        oracle.add(hashes[part], ids[part])
    compaction = threading.Thread(target=fast.compact)
    compaction.start()
    assert started.wait(10)
    # While the merge is held: adds and removals go on, and are visible at once.
    for part in np.array_split(np.arange(2500, 3000), 3):
        fast.add(hashes[part], ids[part])
        oracle.add(hashes[part], ids[part])
    for gone in ([3, 1200, 2999], [2600]):
        assert fast.remove(gone) == oracle.remove(gone)
    queries = np.concatenate([hashes[::25], hashes[[3, 1200, 2999, 2600]]])
    assert_same(fast, oracle, queries, 31)
    save_snapshot(fast, tmp_path / "mid.ssmih")  # a snapshot taken mid-compaction loads
    assert_same(load_snapshot(tmp_path / "mid.ssmih"), oracle, queries, 31)
    release.set()
    compaction.join()
    assert_same(fast, oracle, queries, 31)
    assert fast.stats().segments <= 2
    assert len(fast) == len(oracle)
