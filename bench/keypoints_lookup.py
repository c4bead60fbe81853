#!/usr/bin/env python3
"""The ``ss-kp-1`` shortlist at scale: three designs of the lookup (issue 14).

Run by hand (minutes; up to ~7 GB of memory at 1 M photos; the first run trains and saves
the vocabulary, 2-15 minutes), on one core. The figures in ``docs/robustness.md``:

    taskset -c 0 .venv/bin/python bench/keypoints_lookup.py --corpus corpus \\
        --depth 6 --train-features 1200 --vocab bench/out/kp-vocab6.npz \\
        --cache bench/out/kp-cache-dev.npz --per-photo 200 --max-words 0 \\
        --photos 125000 1000000 --kernels numpy native --profile
    ... --enrolled-corpus corpus-holdout --cache bench/out/kp-cache-holdout.npz  (held out;
        the vocabulary still from --corpus)
    ... --depth 5 --vocab bench/out/kp-vocab.npz --min-idf 4.0  (10^5 words, stop words)
    ... --design faiss-ivf --per-photo 32 --nlist 1024 --radius 40  (pip install faiss-cpu)
    ... --design votes --per-photo 8
    ... --vocab-dir src/stopspread/matching/vocab/ss-kp-vocab-1 --depth 4 --signature-bits 8 \
        --probe-radius 1 2 --train-cache bench/out/kp-train-dev.npz  (Hamming-embedding
        sub-lists: each word's bits trained on the DEV training photos, as ss-kp-vocab-2's)

Designs:

- ``vocabulary`` (``matching.keypoint_index``): descriptors quantised to the words of a
  k-majority tree (``--branching`` x ``--depth``) trained on ``--corpus`` photos that are
  *not* the bench's seed photos, never on ``--enrolled-corpus``; an inverted file of each
  photo's ``--per-photo`` strongest descriptors' words, tf-idf scores, top ``--shortlist``.
- ``votes``: each photo's ``--per-photo`` descriptors in the exact Hamming index
  (``MihIndex``); query descriptors within ``--radius`` bits vote for their photos.
- ``faiss-ivf``: the same votes from faiss's ``IndexBinaryIVF`` (``--nlist`` lists,
  ``--nprobe`` probed, ``--knn`` neighbours a query descriptor), if faiss is installed.

Every design looks up the query's ``--query-top`` strongest descriptors and its mirror's.

The bank is a synthetic scale-up of real descriptors: the ``--seed-photos`` photos of the
enrolled corpus give a pool; each synthetic photo holds ``--per-photo`` pool descriptors drawn
at random, each with about ``--flip`` random bits changed. (For ``vocabulary`` the rows are
drawn from ``--word-pool`` such noisy rows quantised once: same distribution, far faster.)
The first ``--queries`` seed photos are enrolled as they are, under their own ids; queries are
their edits by ``--families`` (``bench/robust_transforms.py``, the design generators).
Recall: the true photo among the top 4 (the platform API's shortlist) and the top
``--shortlist``. ``--vocab-dir`` compares saved vocabularies (the shipped
``ss-kp-vocab-1``, or 10^5 / 10^6 words built by ``bench/keypoints_vocabulary.py --depth``):
the seed photos are then drawn from the DEV rows those vocabularies were not trained on.
Latency: one lookup, one thread.
``--kernels numpy native`` runs every query on the numpy reference and on the C core in
turn (a same-run anchor on a shared machine); ``--profile`` prints, to stderr, where a numpy
lookup's time goes phase by phase and the postings a lookup walks.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import csv
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

import robust_transforms as rt
from stopspread.hashing.keypoints import extract_keypoints, query_keypoint_sets
from stopspread.matching.index import MihIndex
from stopspread.matching.keypoint_index import (
    Kernel,
    KeypointIndex,
    Vocabulary,
    load_vocabulary,
    train_signature_bits,
    train_vocabulary,
)

SEED = 20261207
HOLD_EVERY = 4  # bench/keypoints_vocabulary.py trains on every manifest row but each 4th
TOP_API = 4  # the platform API's shortlist (services.keypoint_bank.DEFAULT_SHORTLIST)
FAMILIES = ("jpeg", "crop>=80", "crop70-80", "border<=30", "border30-40", "screenshot")
Lookup = Callable[[list[np.ndarray]], list[int]]


def _flip(rows: np.ndarray, bits: int, rng: np.random.Generator) -> np.ndarray:
    """Each row with about ``bits`` random bits changed (each bit with p = bits / 256)."""
    out = np.empty_like(rows)
    for start in range(0, len(rows), 200_000):
        part = rows[start : start + 200_000]
        mask = np.packbits(rng.random((len(part), 256)) < bits / 256, axis=1)
        out[start : start + len(part)] = part ^ mask
    return out


def _keypoints(corpus: Path, files: list[str], n_features: int = 400) -> list[np.ndarray]:
    return [
        extract_keypoints(Image.open(corpus / f).convert("RGB"), n_features).descriptors
        for f in files
    ]


def _vocabulary(args: argparse.Namespace, train_files: list[str]) -> Vocabulary:
    vocab = _tree(args, train_files)
    if not args.signature_bits:
        return vocab
    if args.train_cache and args.train_cache.exists():
        c = np.load(args.train_cache)
        train = _split(c["rows"], c["counts"])
    else:
        train = _keypoints(args.corpus, train_files, args.train_features)
        if args.train_cache:
            np.savez(
                args.train_cache,
                rows=np.concatenate(train),
                counts=np.array([len(t) for t in train]),
            )
    return train_signature_bits(vocab, train, args.signature_bits, not args.global_bits)


def _tree(args: argparse.Namespace, train_files: list[str]) -> Vocabulary:
    if args.vocab_dir:  # the shipped ss-kp-vocab-1 or -2, or one built like them
        return load_vocabulary(args.vocab_dir)
    if args.vocab and args.vocab.exists():
        saved = np.load(args.vocab)
        return Vocabulary(args.branching, args.depth, saved["centres"], saved["idf"])
    t0 = time.perf_counter()
    train = _keypoints(args.corpus, train_files, args.train_features)
    vocab = train_vocabulary(train, args.branching, args.depth)
    print(
        f"vocabulary of {len(train_files)} photos: {time.perf_counter() - t0:.0f} s",
        file=sys.stderr,
    )
    if args.vocab:
        args.vocab.parent.mkdir(parents=True, exist_ok=True)
        np.savez(args.vocab, centres=vocab.centres, idf=vocab.idf)
    return vocab


def _quantised(vocab: Vocabulary, rows: np.ndarray) -> np.ndarray:
    return np.concatenate([vocab.quantise(rows[i : i + 4096]) for i in range(0, len(rows), 4096)])


def _vocabulary_lookup(args, vocab, pool, true, n_photos, rng) -> tuple[Lookup, int]:
    noisy = _flip(pool[rng.integers(0, len(pool), args.word_pool)], args.flip, rng)
    word_pool = _quantised(vocab, noisy)
    sig_pool = vocab.signatures(noisy, word_pool).astype(np.uint8)
    n_rows = n_photos * args.per_photo
    drawn = rng.integers(0, len(word_pool), n_rows)
    true_words = [_quantised(vocab, t) for t in true]
    words = np.concatenate([word_pool[drawn], *true_words])
    sigs = np.concatenate(
        [sig_pool[drawn]] + [vocab.signatures(t, w) for t, w in zip(true, true_words, strict=True)]
    )
    del drawn
    owners = np.concatenate(
        [np.repeat(np.arange(len(true), n_photos + len(true)), args.per_photo)]
        + [np.full(len(t), i) for i, t in enumerate(true)]
    )
    ids = np.arange(n_photos + len(true), dtype=np.int64)
    index = KeypointIndex.from_words(vocab, ids, owners, words, args.min_idf, sigs)
    del words, sigs, owners

    def lookup(sets: list[np.ndarray]) -> list[int]:
        found = index.search(
            sets,
            args.shortlist,
            args.words_now,
            kernel=args.kernel_now,
            max_postings=args.postings_now,
            radius=args.radius_now,
        )
        return found.ids.tolist()

    if args.profile:
        _profile(index, args)
    return lookup, index.nbytes


def _profile(index: KeypointIndex, args: argparse.Namespace) -> None:
    """Where a numpy-reference lookup's time goes, phase by phase (CPU ms, mean over queries)."""
    phases: dict[str, list[float]] = defaultdict(list)
    walked = []
    for _, _, sets in args.query_list:
        c = time.thread_time()

        def lap(name: str) -> None:
            nonlocal c
            now = time.thread_time()
            phases[name].append((now - c) * 1000)
            c = now

        words = [index.vocabulary.quantise(s, Kernel.NUMPY) for s in sets]
        lap("quantise (numpy)")
        words_c = [index.vocabulary.quantise(s) for s in sets]
        lap("quantise (C)")
        assert all(np.array_equal(a, b) for a, b in zip(words, words_c, strict=True))
        vecs = [index._query_lists(s, Kernel.NATIVE, args.radius_now, None, None) for s in sets]
        w = np.concatenate([v[0] for v in vecs])
        q = np.concatenate([v[1] for v in vecs])
        lap("query vectors")
        starts, ends = index.offsets[w], index.offsets[w + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        at = np.arange(total, dtype=np.int64) + shift
        lap("posting positions")
        contrib = index.weights[at].astype(np.float32) * np.repeat(q, lengths)
        lap("gather weights")
        scores = np.bincount(index.postings[at], contrib, minlength=len(index.ids))
        lap("scatter scores")
        best = np.argpartition(-scores, args.shortlist - 1)[: args.shortlist]
        best = best[np.argsort(-scores[best], kind="stable")]
        lap("top 8")
        index.search(sets, args.shortlist, args.words_now)
        lap("whole lookup (C)")
        walked.append(total)
    cells = " | ".join(f"{k} {statistics.mean(v):.2f}" for k, v in phases.items())
    print(
        f"profile {len(index.ids):,} photos: postings walked mean {statistics.mean(walked):,.0f}"
        f" (p50 {statistics.median(walked):,.0f}) | {cells}",
        file=sys.stderr,
        flush=True,
    )


def _votes(hit_ids: list[np.ndarray], top: int) -> list[int]:
    votes: dict[int, int] = defaultdict(int)
    for ids in hit_ids:
        for photo in set(ids.tolist()):
            votes[photo] += 1
    return sorted(votes, key=lambda p: -votes[p])[:top]


def _bank(args, pool, true, n_photos, rng) -> tuple[np.ndarray, np.ndarray]:
    base = pool[rng.integers(0, len(pool), n_photos * args.per_photo)]
    rows = np.concatenate([_flip(base, args.flip, rng), *true])
    ids = np.concatenate(
        [np.repeat(np.arange(len(true), n_photos + len(true)), args.per_photo)]
        + [np.full(len(t), i) for i, t in enumerate(true)]
    ).astype(np.int64)
    return rows, ids


def _votes_lookup(args, vocab, pool, true, n_photos, rng) -> tuple[Lookup, int]:
    rows, ids = _bank(args, pool, true, n_photos, rng)
    index = MihIndex.from_arrays(rows, ids)

    def lookup(sets: list[np.ndarray]) -> list[int]:
        hits = []
        for s in sets:
            hit_rows, hit_ids, _ = index.search_arrays(s, args.radius)
            hits += [hit_ids[hit_rows == r] for r in np.unique(hit_rows)]
        return _votes(hits, args.shortlist)

    return lookup, index.stats().nbytes


def _faiss_lookup(args, vocab, pool, true, n_photos, rng) -> tuple[Lookup, int]:
    import faiss  # optional: pip install faiss-cpu

    faiss.omp_set_num_threads(1)
    rows, ids = _bank(args, pool, true, n_photos, rng)
    quantiser = faiss.IndexBinaryFlat(256)
    index = faiss.IndexBinaryIVF(quantiser, 256, args.nlist)
    index.train(pool)
    index.add_with_ids(rows, ids)
    index.nprobe = args.nprobe

    def lookup(sets: list[np.ndarray]) -> list[int]:
        hits = []
        for s in sets:
            dist, got = index.search(np.ascontiguousarray(s), args.knn)
            hits += [row[(d <= args.radius) & (row >= 0)] for d, row in zip(dist, got, strict=True)]
        return _votes(hits, args.shortlist)

    return lookup, rows.nbytes + ids.nbytes  # codes and ids; faiss adds list overhead


DESIGNS = {"vocabulary": _vocabulary_lookup, "votes": _votes_lookup, "faiss-ivf": _faiss_lookup}


Query = tuple[int, str, list[np.ndarray]]
Variant = tuple[Kernel, int | None, int]  # a lookup: kernel, --max-postings, --probe-radius


def _split(rows: np.ndarray, counts: np.ndarray) -> list[np.ndarray]:
    return np.split(rows, np.cumsum(counts)[:-1]) if len(counts) else []


def _seeds_and_queries(
    args: argparse.Namespace, corpus: Path, seeds: list[str], rng: np.random.Generator
) -> tuple[list[np.ndarray], list[Query]]:
    """The seed photos' descriptors and the edited queries, from ``--cache`` if it exists."""
    if args.cache and args.cache.exists():
        c = np.load(args.cache)
        sets = _split(c["query_rows"], c["query_counts"])
        first = np.concatenate([[0], np.cumsum(c["query_sets"])])  # a query has 2 or 3 sets
        queries = [
            (int(p), str(f), sets[first[i] : first[i + 1]])
            for i, (p, f) in enumerate(zip(c["query_photo"], c["query_family"], strict=True))
        ]
        return _split(c["real_rows"], c["real_counts"]), queries
    real = _keypoints(corpus, seeds)
    queries: list[Query] = []
    for i, file in enumerate(seeds[: args.queries]):
        img = Image.open(corpus / file).convert("RGB")
        for family in args.families:
            sets = query_keypoint_sets(rt.FAMILIES[family](img, rng))
            queries.append((i, family, [s.descriptors[: args.query_top] for s in sets]))
    if args.cache:
        args.cache.parent.mkdir(parents=True, exist_ok=True)
        flat = [s for _, _, sets in queries for s in sets]
        np.savez(
            args.cache,
            real_rows=np.concatenate(real),
            real_counts=np.array([len(r) for r in real]),
            query_rows=np.concatenate(flat),
            query_counts=np.array([len(s) for s in flat]),
            query_sets=np.array([len(sets) for _, _, sets in queries]),
            query_photo=np.array([q[0] for q in queries]),
            query_family=np.array([q[1] for q in queries]),
        )
    return real, queries


def _measure(
    args: argparse.Namespace, lookup: Lookup, queries: list[Query], n_photos: int, per: float
) -> None:
    """One row per ``--kernels`` x ``--max-postings`` variant; with several, each query runs
    on every variant in turn (the order rotating), so that all of them see the same load: a
    same-run anchor."""
    variants = [
        (Kernel(k), p or None, r)
        for k in args.kernels
        for p in (args.max_postings or [None])
        for r in args.probe_radius
    ]
    times: dict[Variant, list[float]] = defaultdict(list)
    cpu: dict[Variant, list[float]] = defaultdict(list)
    found: dict[Variant, dict[str, list[bool]]] = {v: defaultdict(list) for v in variants}
    found4: dict[Variant, int] = defaultdict(int)
    for args.kernel_now, args.postings_now, args.radius_now in variants:
        lookup(queries[0][2])  # warm
    for n, (photo, family, sets) in enumerate(queries):
        for v in variants[n % len(variants) :] + variants[: n % len(variants)]:
            args.kernel_now, args.postings_now, args.radius_now = v
            t0, c0 = time.perf_counter(), time.thread_time()
            top = lookup(sets)
            times[v].append((time.perf_counter() - t0) * 1000)
            cpu[v].append((time.thread_time() - c0) * 1000)
            found[v][family].append(photo in top)
            found4[v] += photo in top[:TOP_API]
    for v in variants:
        _row(args, n_photos, per, v, times[v], cpu[v], found[v], found4[v], len(queries))


def _row(args, n_photos, per, variant, times, cpu, found, found4, n_queries) -> None:
    kernel, max_postings, radius = variant
    total = sum(sum(v) for v in found.values())
    per_family = " | ".join(f"{sum(found[f])}/{len(found[f])}" for f in args.families)
    words = f" ({args.words_now} words)" if getattr(args, "words_now", None) else ""
    if max_postings:
        words += f" (lists ≤ {max_postings:,})"
    if args.signature_bits:
        kind = "global" if args.global_bits else "per-word"
        words += f" ({args.signature_bits} {kind} bits, r={radius})"
    design = f"{args.design} {kernel.value}" if args.design == "vocabulary" else args.design
    print(
        f"| {design}{words} | {args.per_photo} | {n_photos:,} | {per:,.0f} | "
        f"{statistics.median(times):.1f} | {np.percentile(times, 95):.1f} | "
        f"{statistics.median(cpu):.1f} | {np.percentile(cpu, 95):.1f} | {found4}/{n_queries} | "
        f"{total}/{n_queries} | "
        f"{per_family} | {os.getloadavg()[0]:.1f} |",
        flush=True,
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("corpus"), help="the dev corpus")
    ap.add_argument("--enrolled-corpus", type=Path, help="seed photos from here (held out)")
    ap.add_argument("--design", choices=tuple(DESIGNS), default="vocabulary")
    ap.add_argument("--vocab", type=Path, help="vocabulary cache (.npz): read, or trained+saved")
    ap.add_argument(
        "--vocab-dir",
        type=Path,
        help="a vocabulary folder (bench/keypoints_vocabulary.py); seeds from the rows it left out",
    )
    ap.add_argument("--branching", type=int, default=10)
    ap.add_argument("--depth", type=int, default=5)
    ap.add_argument("--train-features", type=int, default=400, help="descriptors a dev photo")
    ap.add_argument("--photos", type=int, nargs="+", default=[31_250, 125_000, 500_000, 1_000_000])
    ap.add_argument("--per-photo", type=int, default=100, help="descriptors indexed a photo")
    ap.add_argument("--query-top", type=int, default=400, help="query descriptors looked up")
    ap.add_argument("--min-idf", type=float, default=0.0, help="vocabulary: stop words")
    ap.add_argument("--max-words", type=int, nargs="*", help="vocabulary: words a set, each")
    ap.add_argument(
        "--max-postings", type=int, nargs="*", help="vocabulary: skip longer lists, each"
    )
    ap.add_argument("--radius", type=int, default=16, help="votes, faiss-ivf: bits")
    ap.add_argument("--nlist", type=int, default=4096)
    ap.add_argument("--nprobe", type=int, default=8)
    ap.add_argument("--knn", type=int, default=8)
    ap.add_argument("--shortlist", type=int, default=8)
    ap.add_argument("--flip", type=int, default=40)
    ap.add_argument("--word-pool", type=int, default=2_000_000)
    ap.add_argument("--seed-photos", type=int, default=200)
    ap.add_argument("--queries", type=int, default=20, help="seed photos edited as queries")
    ap.add_argument("--families", nargs="+", default=list(FAMILIES))
    ap.add_argument("--cache", type=Path, help="seed descriptors and queries (.npz): read/saved")
    ap.add_argument(
        "--kernels",
        nargs="+",
        choices=[k.value for k in Kernel],
        default=[Kernel.NATIVE.value],
        help="vocabulary: the C core and/or the numpy reference, alternating per query",
    )
    ap.add_argument(
        "--signature-bits", type=int, default=0, help="vocabulary: sub-lists by signature"
    )
    ap.add_argument("--global-bits", action="store_true", help="the same bits for every word")
    ap.add_argument("--probe-radius", type=int, nargs="+", default=[1], help="signature bits")
    ap.add_argument("--train-cache", type=Path, help="dev training descriptors (.npz)")
    ap.add_argument("--profile", action="store_true", help="vocabulary: time each phase")
    ap.add_argument("--cache-only", action="store_true", help="write --cache, measure nothing")
    args = ap.parse_args()
    rng = np.random.default_rng(SEED)
    dev = [r["file"] for r in csv.DictReader((args.corpus / "manifest.csv").open())]
    enrolled_corpus = args.enrolled_corpus or args.corpus
    if args.enrolled_corpus:
        seeds = [r["file"] for r in csv.DictReader((enrolled_corpus / "manifest.csv").open())]
        seeds = [seeds[int(i)] for i in rng.permutation(len(seeds))[: args.seed_photos]]
        train = dev
    elif args.vocab_dir:  # the vocabulary saw every row but each 4th: seeds among those
        left_out = [f for i, f in enumerate(dev) if i % HOLD_EVERY == 0]
        order = rng.permutation(len(left_out))
        seeds = [left_out[int(i)] for i in order[: args.seed_photos]]
        train = [f for i, f in enumerate(dev) if i % HOLD_EVERY]
    else:
        order = rng.permutation(len(dev))
        seeds = [dev[int(i)] for i in order[: args.seed_photos]]
        train = [dev[int(i)] for i in order[args.seed_photos :]]
    vocab = _vocabulary(args, train) if args.design == "vocabulary" else None
    real, queries = _seeds_and_queries(args, enrolled_corpus, seeds, rng)
    if args.cache_only:
        return 0
    pool = np.concatenate(real)
    true = [r[: args.per_photo] for r in real[: args.queries]]
    print(f"{len(pool)} pool descriptors, {len(queries)} queries", file=sys.stderr)
    args.query_list = queries
    args.words_now = None
    args.postings_now = None
    args.radius_now = args.probe_radius[0]
    if args.design != "vocabulary":
        args.kernels = [Kernel.NATIVE.value]
    print(
        "| design | a photo | enrolled photos | bytes a photo | p50 ms | p95 ms | CPU p50 ms | "
        f"CPU p95 ms | true photo in top {TOP_API} | true photo in top {args.shortlist} | "
        + " | ".join(args.families)
        + " | load |"
    )
    print(
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        + "---:|" * len(args.families)
        + "---:|"
    )
    for n_photos in args.photos:
        t0 = time.perf_counter()
        lookup, nbytes = DESIGNS[args.design](args, vocab, pool, true, n_photos, rng)
        print(f"built {n_photos:,} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        for max_words in args.max_words or [None]:
            args.words_now = max_words or None  # 0: every word
            _measure(args, lookup, queries, n_photos, nbytes / (n_photos + len(true)))
        del lookup
    return 0


if __name__ == "__main__":
    sys.exit(main())
