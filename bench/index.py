"""Exact Hamming index benchmark: MihIndex against FAISS's flat and multi-hash binary indexes.

Run by hand (not in CI), one thread for every index:

    .venv/bin/python bench/index.py                    # N = 1 M and 10 M
    .venv/bin/python bench/index.py --n 1000000 --sweep
    .venv/bin/python bench/index.py --quick            # N = 100 k, a few hundred queries

Data: random balanced hashes (exactly 128 one-bits, as PDQ makes them); queries are
stored hashes with 0-31 random bits flipped (near duplicates, all must match) and
random balanced hashes (misses, like most real upload traffic). Ground truth is
FAISS IndexBinaryFlat.range_search on a subset of the queries. Every number in one
table comes from the same run; the machine is shared, so read the ratios.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

try:
    import faiss
except ImportError:
    sys.exit("faiss is missing: .venv/bin/pip install -e '.[bench]'")

from stopspread.matching import MihIndex, load_snapshot, save_snapshot
from stopspread.matching.index import SearchMode

RADIUS = 31  # PDQ's match threshold; FAISS's range_search is strict, so it gets RADIUS + 1
GEN_ROWS = 250_000  # rows generated per step (keeps the float keys near 256 MiB)
U8 = npt.NDArray[np.uint8]


def balanced_hashes(rng: np.random.Generator, n: int) -> U8:
    """n random 256-bit hashes with exactly 128 ones each (a random permutation per row)."""
    out = np.empty((n, 32), dtype=np.uint8)
    pattern = np.repeat(np.array([0, 1], dtype=np.uint8), 128)
    for start in range(0, n, GEN_ROWS):
        k = min(GEN_ROWS, n - start)
        bits = rng.permuted(np.broadcast_to(pattern, (k, 256)), axis=1)
        out[start : start + k] = np.packbits(bits, axis=1)
    return out


def stored_hashes(n: int, cache: Path | None) -> U8:
    """The N stored hashes for seed N, from the cache folder when generated before (slow)."""
    path = cache / f"balanced-{n}.npy" if cache else None
    if path and path.is_file():
        return np.load(path)
    hashes = balanced_hashes(np.random.default_rng(n), n)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, hashes)
    return hashes


def near_duplicates(rng: np.random.Generator, stored: U8, n: int) -> U8:
    """Stored hashes with a uniform 0-31 random bits flipped each."""
    bits = np.unpackbits(stored[rng.integers(0, len(stored), n)], axis=1)
    for row, k in enumerate(rng.integers(0, RADIUS + 1, n)):
        bits[row, rng.choice(256, size=int(k), replace=False)] ^= 1
    return np.packbits(bits, axis=1)


def rss_bytes() -> int:
    with Path("/proc/self/status").open() as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


@dataclass
class Row:
    name: str
    build_s: float
    bytes_per_hash: float
    load_s: float
    p50_ms: float
    p99_ms: float
    batch_qps: float
    recall: float
    note: str = ""


Search = Callable[[U8], list[set[int]]]  # a batch of queries -> ids matched per query


def latencies_ms(search: Search, queries: U8) -> tuple[float, float]:
    times = []
    for i in range(len(queries)):
        t = time.perf_counter_ns()
        search(queries[i : i + 1])
        times.append((time.perf_counter_ns() - t) / 1e6)
    return statistics.median(times), float(np.percentile(times, 99))


def throughput(search: Search, queries: U8) -> float:
    t = time.perf_counter()
    search(queries)
    return len(queries) / (time.perf_counter() - t)


def recall(search: Search, queries: U8, truth: list[set[int]]) -> float:
    got = search(queries)
    want = sum(len(t) for t in truth)
    hit = sum(len(g & t) for g, t in zip(got, truth, strict=True))
    extra = sum(len(g - t) for g, t in zip(got, truth, strict=True))
    if extra:
        print(f"  !! {extra} results beyond the radius", flush=True)
    return hit / max(want, 1)


def faiss_search(index: object, radius: int) -> Search:
    def run(q: U8) -> list[set[int]]:
        lims, _, ids = index.range_search(q, radius + 1)  # type: ignore[attr-defined]
        return [set(ids[lims[i] : lims[i + 1]].tolist()) for i in range(len(q))]

    return run


def ours_search(index: MihIndex, radius: int) -> Search:
    def run(q: U8) -> list[set[int]]:
        if len(q) == 1:
            return [{m.id for m in index.search(q, radius)}]
        qi, ids, _ = index.search_arrays(q, radius)
        bounds = np.searchsorted(qi, np.arange(len(q) + 1))
        return [set(ids[bounds[i] : bounds[i + 1]].tolist()) for i in range(len(q))]

    return run


def measure(name: str, search: Search, lat_q: U8, batch_q: U8, truth_q: U8,
            truth: list[set[int]]) -> tuple[float, float, float, float]:  # fmt: skip
    p50, p99 = latencies_ms(search, lat_q)
    qps = throughput(search, batch_q)
    rec = recall(search, truth_q, truth)
    print(f"  {name}: p50 {p50:.3f} ms, p99 {p99:.3f} ms, {qps:,.0f} q/s, recall {rec:.4%}",
          flush=True)  # fmt: skip
    return p50, p99, qps, rec


def bench_ours(hashes: U8, queries: dict[str, U8], truth: list[set[int]], tmp: Path,
               chunks: int | None = None, mode: SearchMode = SearchMode.AUTO,
               label: str = "MihIndex (ours)", use_mmap: bool = True) -> Row:  # fmt: skip
    n = len(hashes)
    gc.collect()
    t = time.perf_counter()
    index = MihIndex.from_arrays(hashes, np.arange(n, dtype=np.int64), chunks=chunks, mode=mode)
    build = time.perf_counter() - t
    stats = index.stats()
    path = tmp / "ours.ssmih"
    save_snapshot(index, path)
    del index
    gc.collect()
    t = time.perf_counter()
    other = load_snapshot(path, use_mmap=not use_mmap)
    load_other = time.perf_counter() - t
    del other
    t = time.perf_counter()
    index = load_snapshot(path, use_mmap=use_mmap)  # the queries below run on this one
    load = time.perf_counter() - t
    index._mode = mode
    k = len(queries["latency"]) if mode != SearchMode.SCAN else max(20, 100_000_000 // (n * 4))
    p50, p99, qps, rec = measure(label, ours_search(index, RADIUS), queries["latency"][:k],
                                 queries["batch"][:k], queries["truth"], truth)  # fmt: skip
    widths = mih_widths(index)
    del index
    path.unlink()
    how, other_how = ("mmap", "read into RAM") if use_mmap else ("read into RAM", "mmap")
    note = f"{len(widths)} chunks; load = {how}; {other_how} {load_other:.2f} s"
    return Row(label, build, stats.bytes_per_hash, load, p50, p99, qps, rec, note)


def mih_widths(index: MihIndex) -> tuple[int, ...]:
    segs = index._state.segments
    return segs[0].widths if segs else ()


def bench_faiss(name: str, make: Callable[[], object], hashes: U8, queries: dict[str, U8],
                truth: list[set[int]], tmp: Path, n_lat: int) -> Row:  # fmt: skip
    gc.collect()
    rss0 = rss_bytes()
    t = time.perf_counter()
    index = make()
    index.add(hashes)  # type: ignore[attr-defined]
    build = time.perf_counter() - t
    per_hash = (rss_bytes() - rss0) / len(hashes)
    if isinstance(index, faiss.IndexBinaryFlat):
        per_hash = float(index.code_size)  # exact; RSS growth misses reused memory
    path = str(tmp / "faiss.index")
    faiss.write_index_binary(index, path)
    t = time.perf_counter()
    loaded = faiss.read_index_binary(path)
    load = time.perf_counter() - t
    del loaded
    os.unlink(path)
    p50, p99, qps, rec = measure(name, faiss_search(index, RADIUS), queries["latency"][:n_lat],
                                 queries["batch"][: n_lat], queries["truth"], truth)  # fmt: skip
    note = f"{n_lat} latency queries; bytes from RSS growth"
    return Row(name, build, per_hash, load, p50, p99, qps, rec, note)


def make_queries(rng: np.random.Generator, hashes: U8, n_lat: int, n_batch: int,
                 n_truth: int) -> dict[str, U8]:  # fmt: skip
    def mix(k: int) -> U8:
        q = np.concatenate([near_duplicates(rng, hashes, k // 2),
                            balanced_hashes(rng, k - k // 2)])  # fmt: skip
        return q[rng.permutation(k)]

    return {"latency": mix(n_lat), "batch": mix(n_batch), "truth": mix(n_truth)}


def print_table(n: int, rows: list[Row]) -> None:
    flat = next((r for r in rows if r.name.startswith("faiss.IndexBinaryFlat")), None)
    mh = next((r for r in rows if r.name.startswith("faiss.IndexBinaryMultiHash")), None)
    print(f"\n### N = {n:,} (radius {RADIUS}, one thread)\n")
    print("| index | build s | bytes/hash | load s | p50 ms | p99 ms | batch q/s | recall | "
          "p50 vs Flat | p50 vs MultiHash | note |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        vs_flat = f"{flat.p50_ms / r.p50_ms:.1f}x" if flat else "-"
        vs_mh = f"{mh.p50_ms / r.p50_ms:.1f}x" if mh else "-"
        print(f"| {r.name} | {r.build_s:.2f} | {r.bytes_per_hash:.1f} | {r.load_s:.2f} | "
              f"{r.p50_ms:.3f} | {r.p99_ms:.3f} | {r.batch_qps:,.0f} | {r.recall:.2%} | "
              f"{vs_flat} | {vs_mh} | {r.note} |")  # fmt: skip
    print(flush=True)


def run_size(n: int, args: argparse.Namespace, tmp: Path) -> None:
    t = time.perf_counter()
    hashes = stored_hashes(n, args.cache)
    print(f"N = {n:,}: hashes ready in {time.perf_counter() - t:.1f} s", flush=True)
    rng = np.random.default_rng(n + 1)
    queries = make_queries(rng, hashes, args.queries, args.batch, args.truth)
    flat_lat = max(20, min(args.queries, args.queries * 1_000_000 // (4 * n)))
    faiss.omp_set_num_threads(1)
    ground = faiss.IndexBinaryFlat(256)
    ground.add(hashes)
    truth = faiss_search(ground, RADIUS)(queries["truth"])
    del ground
    rows = [bench_ours(hashes, queries, truth, tmp)]
    if args.sweep:
        for chunks in args.sweep_chunks:
            rows.append(bench_ours(hashes, queries, truth, tmp, chunks=chunks,
                                   label=f"MIH, {chunks} chunks"))  # fmt: skip
        rows.append(bench_ours(hashes, queries, truth, tmp, mode=SearchMode.SCAN,
                               label="C linear scan (ours)"))  # fmt: skip
        rows.append(bench_ours(hashes, queries, truth, tmp, use_mmap=False,
                               label="MihIndex, read into RAM"))  # fmt: skip
    rows.append(bench_faiss("faiss.IndexBinaryFlat", lambda: faiss.IndexBinaryFlat(256),
                            hashes, queries, truth, tmp, flat_lat))  # fmt: skip

    def multihash() -> object:
        index = faiss.IndexBinaryMultiHash(256, 16, 16)
        index.nflip = 1
        return index

    rows.append(bench_faiss("faiss.IndexBinaryMultiHash(256,16,16) nflip=1", multihash, hashes,
                            queries, truth, tmp, max(20, args.queries // 5)))  # fmt: skip
    print_table(n, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--quick", action="store_true", help="N = 100 k and fewer queries")
    parser.add_argument("--queries", type=int, default=2000, help="single-query latency sample")
    parser.add_argument("--batch", type=int, default=2000, help="queries in the batch run")
    parser.add_argument("--truth", type=int, default=500, help="queries checked for recall")
    parser.add_argument("--sweep", action="store_true", help="also other chunk counts, a scan")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(__file__).parent / "out",
        help="folder for generated hashes (git-ignored); '' to disable",
    )
    parser.add_argument("--sweep-chunks", type=int, nargs="+", default=[12, 14, 16, 20])
    args = parser.parse_args()
    args.cache = Path(args.cache) if args.cache else None
    if args.quick:
        args.n, args.queries, args.batch, args.truth = [100_000], 300, 300, 100
    print(f"bench/index.py  {time.strftime('%Y-%m-%d %H:%M:%S %Z')}  cpus={os.cpu_count()}  "
          f"faiss {faiss.__version__}  numpy {np.__version__}", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.n:
            run_size(n, args, Path(tmp))


if __name__ == "__main__":
    main()
