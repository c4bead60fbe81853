#!/usr/bin/env python3
"""False (and true) matches of the platform API's rule, old vs new (issue 14), on the corpus.

Run by hand (minutes, not in CI):

    .venv/bin/python bench/policy_false_matches.py --corpus corpus --per-slice 60

Rules compared, each as ``/v1/match`` applies it to one upload:

- **old**: plain PDQ, 31 bits, no quality rule (the platform API before issue 14);
- **new, plain PDQ**: the one match policy's defaults — 29 bits, enrolled quality >= 70,
  query quality >= 50 — on a platform sending only the plain PDQ hash;
- **new, signal set**: the same policy on a platform sending the ``ss-img-1`` query signals,
  against each photo's ``ss-img-1`` enrolment hashes (what survivors enrol).

Part A: every original of the corpus, plain PDQ, every ordered pair of different originals.
Part B: ``--per-slice`` originals per slice (seeded), each enrolled; queries are the original
and one seeded edit per family in ``FAMILIES``; a false match is a query matching a
*different* original, a true match an edit matching its own.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing as mp
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

import robust_transforms as rt
from stopspread.hashing import hash_image
from stopspread.hashing.signals import SS_IMG_1, compute_variants
from stopspread.matching.policy import DEFAULT_POLICY

SEED = 20261207
FAMILIES = ("jpeg", "caption", "border_light", "crop_light", "flip")
OLD_RADIUS = 31
NEW = DEFAULT_POLICY.pdq


def _bits(hexes: list[str]) -> np.ndarray:
    if not hexes:
        return np.empty((0, 4), dtype=np.uint64)
    raw = np.frombuffer(bytes.fromhex("".join(hexes)), dtype=">u8").astype(np.uint64)
    return raw.reshape(-1, 4)


def _min_distance(q: np.ndarray, e: np.ndarray) -> int:
    if len(q) == 0 or len(e) == 0:
        return 256
    x = q[:, None, :] ^ e[None, :, :]
    return int(np.bitwise_count(x).sum(axis=2).min())


def plain(path: str) -> tuple[str, int]:
    h = hash_image(path)
    return h.pdq.hex, h.quality


def enrol_and_query(task: tuple[int, str]) -> dict:
    idx, path = task
    rng = np.random.default_rng(SEED + idx)
    image = Image.open(path).convert("RGB")
    enrolled = compute_variants(image, SS_IMG_1.enrolment, SS_IMG_1.min_enrolled_quality)
    queries = {"original": image}
    for family in FAMILIES:
        queries[family] = getattr(rt, family)(image, rng)
    out: dict = {"idx": idx, "enrolled": [(h.hash.hex, h.quality) for h in enrolled], "q": {}}
    for name, img in queries.items():
        hashes = compute_variants(img.convert("RGB"), SS_IMG_1.query, SS_IMG_1.min_query_quality)
        out["q"][name] = [(h.hash.hex, h.quality) for h in hashes]
    return out


def part_a(rows: list[dict], corpus: Path, jobs: int) -> dict:
    paths = [str(corpus / r["file"]) for r in rows]
    with mp.get_context("fork").Pool(jobs) as pool:
        hashed = pool.map(plain, paths, chunksize=8)
    bits = _bits([h for h, _ in hashed])
    quality = np.array([q for _, q in hashed])
    dist = np.bitwise_count(bits[:, None, :] ^ bits[None, :, :]).sum(axis=2)
    np.fill_diagonal(dist, 256)
    ok_e = quality >= NEW.min_enrolled_quality
    ok_q = quality >= NEW.min_query_quality
    old = int((dist <= OLD_RADIUS).sum())
    new = int(((dist <= NEW.radius) & ok_q[:, None] & ok_e[None, :]).sum())
    slices = defaultdict(int)
    for i, j in zip(*np.nonzero(dist <= OLD_RADIUS), strict=True):
        slices[f"{rows[i]['category']}->{rows[j]['category']}"] += 1
    return {
        "originals": len(rows),
        "pairs": len(rows) * (len(rows) - 1),
        "old_false": old,
        "old_false_by_slice": dict(slices),
        "new_plain_false": new,
        "min_cross_distance": int(dist.min()),
    }


def part_b(rows: list[dict], corpus: Path, jobs: int) -> dict:
    tasks = [(i, str(corpus / r["file"])) for i, r in enumerate(rows)]
    results: list[dict] = []
    t0 = time.perf_counter()
    with mp.get_context("fork").Pool(jobs) as pool:
        for k, res in enumerate(pool.imap_unordered(enrol_and_query, tasks, chunksize=1)):
            results.append(res)
            if (k + 1) % 20 == 0:
                print(
                    f"  B: {k + 1}/{len(tasks)} in {time.perf_counter() - t0:.0f} s",
                    file=sys.stderr,
                )
    results.sort(key=lambda r: r["idx"])
    n = len(results)
    enrolled_all = [
        _bits([h for h, q in r["enrolled"] if q >= NEW.min_enrolled_quality]) for r in results
    ]
    plain_e = [r["q"]["original"][0] for r in results]  # the whole image's PDQ: plain PDQ
    counts: dict[str, dict[str, int]] = {
        rule: {"false": 0, "queries": 0} for rule in ("old", "new_plain", "new_signal_set")
    }
    recall: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for i, r in enumerate(results):
        for family, hashes in r["q"].items():
            full_hex, full_q = hashes[0]
            full = _bits([full_hex])
            good = _bits([h for h, q in hashes if q >= NEW.min_query_quality])
            for j in range(n):
                e_hex, e_q = plain_e[j]
                d_plain = _min_distance(full, _bits([e_hex]))
                old = d_plain <= OLD_RADIUS
                new_plain = (
                    d_plain <= NEW.radius
                    and full_q >= NEW.min_query_quality
                    and e_q >= NEW.min_enrolled_quality
                )
                new_set = _min_distance(good, enrolled_all[j]) <= NEW.radius
                if i == j:
                    if family != "original":
                        recall[family]["old"] += old
                        recall[family]["new_plain"] += new_plain
                        recall[family]["new_signal_set"] += new_set
                        recall[family]["n"] += 1
                    continue
                for rule, hit in (
                    ("old", old),
                    ("new_plain", new_plain),
                    ("new_signal_set", new_set),
                ):
                    counts[rule]["false"] += hit
                    counts[rule]["queries"] += 1
    return {"originals": n, "families": list(FAMILIES), "false": counts, "recall": recall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--per-slice", type=int, default=60)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("bench/results/policy_false_matches.json"))
    args = ap.parse_args()
    with (args.corpus / "manifest.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    t0 = time.perf_counter()
    a = part_a(rows, args.corpus, args.jobs)
    print(json.dumps({"A": a}), file=sys.stderr)
    rng = np.random.default_rng(SEED)
    per: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        per[r["category"]].append(r)
    sample = [
        per[s][i]
        for s in sorted(per)
        for i in sorted(rng.permutation(len(per[s]))[: args.per_slice])
    ]
    b = part_b(sample, args.corpus, args.jobs)
    report = {"A": a, "B": b, "seconds": round(time.perf_counter() - t0)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
