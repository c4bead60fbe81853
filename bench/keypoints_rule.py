#!/usr/bin/env python3
"""What each check of ``ss-kp-1``'s verification costs in recall, on the DEV corpus (issue 14).

Run by hand (not in CI), a few minutes on one core:

    .venv/bin/python bench/keypoints_rule.py --corpus corpus --photos 30 \\
        --out bench/results/keypoints_rule_design.json

A seeded sample of ``--photos`` originals, one seeded edit each per DESIGN family
(``bench/robust_transforms.py``); each edit's query sets (``query_keypoint_sets``: the
upload, its mirror, its content block) are verified against its own original (no
shortlist: the rule alone) under the shipped rule and under the same rule without the
overlap checks (``min_cover``, ``min_layout``), the rule before them. Also: the lowest
cover and layout among the verified copies (the margin on the copies' side) and the query
extraction time (every set of one upload, decoded image in).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

import robust_transforms as rt
from stopspread.hashing.keypoints import extract_keypoints, query_keypoint_sets
from stopspread.matching.keypoint_verify import DEFAULT_VERIFY_RULE, verify_any

SEED = 20261208
BEFORE = replace(DEFAULT_VERIFY_RULE, min_cover=0.0, min_layout=0.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("corpus"))
    ap.add_argument("--photos", type=int, default=30)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    rows = list(csv.DictReader((args.corpus / "manifest.csv").open()))
    rng = np.random.default_rng(SEED)
    found: dict[str, list[tuple[bool, bool]]] = {}
    covers: list[float] = []
    layouts: list[float] = []
    extract_ms: list[float] = []
    for i in rng.permutation(len(rows))[: args.photos]:
        img = Image.open(args.corpus / rows[i]["file"]).convert("RGB")
        enrolled = extract_keypoints(img)
        for family, edit in rt.FAMILIES.items():
            edited = edit(img, rng)
            t0 = time.perf_counter()
            sets = query_keypoint_sets(edited)
            extract_ms.append((time.perf_counter() - t0) * 1000)
            now = verify_any(sets, enrolled)
            before = verify_any(sets, enrolled, BEFORE)
            found.setdefault(family, []).append((before.verified, now.verified))
            if now.verified:
                covers.append(now.cover)
                layouts.append(now.layout)
    table = {
        f: {
            "n": len(got),
            "before": round(100 * sum(b for b, _ in got) / len(got), 1),
            "shipped": round(100 * sum(n for _, n in got) / len(got), 1),
        }
        for f, got in found.items()
    }
    summary = {
        "photos": args.photos,
        "rule": {"shipped": str(DEFAULT_VERIFY_RULE), "before": str(BEFORE)},
        "recall (verification alone)": table,
        "mean": {
            k: round(statistics.mean(t[k] for t in table.values()), 1)
            for k in ("before", "shipped")
        },
        "verified copies": {
            "n": len(covers),
            "cover min / p1": [round(min(covers), 3), round(float(np.percentile(covers, 1)), 3)],
            "layout min / p1": [round(min(layouts), 3), round(float(np.percentile(layouts, 1)), 3)],
        },
        "query extraction ms (every set)": {
            "p50": round(statistics.median(extract_ms), 1),
            "p95": round(float(np.percentile(extract_ms, 95)), 1),
        },
    }
    text = json.dumps(summary, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
