#!/usr/bin/env python3
"""The ``ss-kp-1`` shortlist at scale: descriptor votes in the exact Hamming index (issue 14).

Run by hand (a few minutes, ~2 GB of memory at the largest size):

    .venv/bin/python bench/keypoints_lookup.py --corpus corpus

Design measured: each enrolled photo puts its ``--per-photo`` strongest descriptors into one
``MihIndex`` (256-bit rows, as PDQ hashes) under the photo's id; an upload looks up its 400
descriptors and its mirror's 400 within ``--radius`` bits; photos hit by the most query
descriptors form the shortlist the geometric check verifies (``bench/keypoints.py`` measures
recall and false matches of that path).

The bank is a synthetic scale-up of real descriptors: ORB descriptors of corpus photos, each
copied with about ``--flip`` random bits changed per copy (so the rows keep ORB's bit statistics
and never equal a query's). Queries: JPEG q40 copies of corpus photos. The true photo is
added under its own id: the table also says whether it is still in the top ``--shortlist``.
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from stopspread.hashing.keypoints import extract_keypoints, query_keypoint_sets
from stopspread.matching.index import MihIndex

SEED = 20261207


def _flip(rows: np.ndarray, bits: int, rng: np.random.Generator) -> np.ndarray:
    """Each row with about ``bits`` random bits changed (each bit with p = bits / 256)."""
    out = np.empty_like(rows)
    for start in range(0, len(rows), 200_000):
        part = rows[start : start + 200_000]
        mask = np.packbits(rng.random((len(part), 256)) < bits / 256, axis=1)
        out[start : start + len(part)] = part ^ mask
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("corpus"))
    ap.add_argument("--photos", type=int, nargs="+", default=[125_000, 250_000, 500_000])
    ap.add_argument("--per-photo", type=int, default=8)
    ap.add_argument("--radius", type=int, default=24)
    ap.add_argument("--query-top", type=int, default=400, help="query descriptors looked up")
    ap.add_argument("--shortlist", type=int, default=8)
    ap.add_argument("--flip", type=int, default=40)
    ap.add_argument("--seed-photos", type=int, default=200)
    ap.add_argument("--queries", type=int, default=20)
    args = ap.parse_args()
    rng = np.random.default_rng(SEED)
    rows = list(csv.DictReader((args.corpus / "manifest.csv").open()))
    picks = [rows[int(i)] for i in rng.permutation(len(rows))[: args.seed_photos]]
    real = [extract_keypoints(Image.open(args.corpus / r["file"]).convert("RGB")) for r in picks]
    pool = np.concatenate([k.descriptors for k in real])
    print(f"{len(pool)} real descriptors from {len(real)} photos", file=sys.stderr)
    queries = []
    for r in picks[: args.queries]:
        buf = io.BytesIO()
        Image.open(args.corpus / r["file"]).convert("RGB").save(buf, "JPEG", quality=40)
        queries.append(query_keypoint_sets(Image.open(io.BytesIO(buf.getvalue()))))
    print("| enrolled photos | indexed rows | p50 ms | p95 ms | true photo in shortlist |")
    print("|---:|---:|---:|---:|---:|")
    for n_photos in args.photos:
        n_rows = n_photos * args.per_photo
        base = pool[rng.integers(0, len(pool), n_rows)]
        bank = _flip(base, args.flip, rng)
        ids = np.repeat(np.arange(n_photos, dtype=np.int64) + 1_000_000, args.per_photo)
        true = np.concatenate([k.descriptors[: args.per_photo] for k in real[: args.queries]])
        true_ids = np.repeat(np.arange(args.queries, dtype=np.int64), args.per_photo)
        index = MihIndex.from_arrays(
            np.concatenate([bank, true]), np.concatenate([ids[: len(bank)], true_ids])
        )
        times, first = [], 0
        for qi, sets in enumerate(queries):
            t0 = time.perf_counter()
            votes: dict[int, int] = {}
            for s in sets:
                hit_rows, hit_ids, _ = index.search_arrays(
                    s.descriptors[: args.query_top], args.radius
                )
                for photo in set(zip(hit_rows.tolist(), hit_ids.tolist(), strict=True)):
                    votes[photo[1]] = votes.get(photo[1], 0) + 1
            times.append((time.perf_counter() - t0) * 1000)
            ranked = sorted(votes, key=lambda p: -votes[p])[: args.shortlist]
            first += qi in ranked
        p50 = statistics.median(times)
        p95 = float(np.percentile(times, 95))
        print(
            f"| {n_photos:,} | {len(bank) + len(true):,} | {p50:.1f} | {p95:.1f} | "
            f"{first}/{len(queries)} |",
            flush=True,
        )
        del index, bank, base
    return 0


if __name__ == "__main__":
    sys.exit(main())
