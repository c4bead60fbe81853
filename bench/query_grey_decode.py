#!/usr/bin/env python3
"""Bits moved by decoding query JPEGs straight to grey (issue 14), on DEV photos.

    .venv/bin/python bench/query_grey_decode.py --corpus corpus --photos 200

Each seeded DEV photo is saved as a JPEG (q90, its own size) and its query signals are
computed from the file's bytes twice: decoded as RGB (the query path before) and as a
server now does (``hashing.query.query_signals``: libjpeg's Y straight out). Reported: per
query variant, the PDQ bits between the two (mean, p95, max, share identical), variants
kept by one and not the other, and for the keypoints, the inliers of the query's sets
against the photo's own enrolled set (``extract_keypoints`` of the original) both ways.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import statistics
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

from stopspread.hashing.keypoints import extract_keypoints, query_keypoint_sets
from stopspread.hashing.query import query_signals
from stopspread.hashing.signals import SS_IMG_1, compute_variants
from stopspread.matching.keypoint_verify import DEFAULT_VERIFY_RULE, verify_any


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("corpus"))
    ap.add_argument("--photos", type=int, default=200)
    ap.add_argument("--quality", type=int, default=90)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    rows = list(csv.DictReader((args.corpus / "manifest.csv").open()))
    rng = np.random.default_rng(20261207)
    picks = [rows[i]["file"] for i in rng.permutation(len(rows))[: args.photos]]
    moved: dict[str, list[int]] = defaultdict(list)
    kept_one_side = 0
    inliers: dict[str, list[int]] = {"rgb": [], "grey": []}
    verified = {"rgb": 0, "grey": 0}
    for file in picks:
        original = Image.open(args.corpus / file).convert("RGB")
        buffer = io.BytesIO()
        original.save(buffer, "JPEG", quality=args.quality)
        data = buffer.getvalue()
        rgb = Image.open(io.BytesIO(data)).convert("RGB")
        before = {h.tag: h for h in compute_variants(rgb, SS_IMG_1.query)}
        now = query_signals(data)
        after = {h.tag: h for h in now.hashes}
        kept_one_side += len(set(before) ^ set(after))
        for tag in set(before) & set(after):
            moved[tag].append(before[tag].hash.distance(after[tag].hash))
        enrolled = extract_keypoints(original)
        for side, sets in (("rgb", query_keypoint_sets(rgb)), ("grey", now.keypoints)):
            check = verify_any(sets, enrolled, DEFAULT_VERIFY_RULE)
            inliers[side].append(check.inliers)
            verified[side] += check.verified
    every = [d for v in moved.values() for d in v]
    summary = {
        "photos": len(picks),
        "jpeg quality": args.quality,
        "pdq bits moved per variant": {
            tag: {
                "n": len(v),
                "mean": round(statistics.mean(v), 2),
                "p95": float(np.percentile(v, 95)),
                "max": max(v),
                "identical %": round(100 * sum(d == 0 for d in v) / len(v), 1),
            }
            for tag, v in sorted(moved.items())
        },
        "pdq all variants": {
            "n": len(every),
            "mean": round(statistics.mean(every), 2),
            "max": max(every),
            "identical %": round(100 * sum(d == 0 for d in every) / len(every), 1),
        },
        "variants kept on one side only": kept_one_side,
        "keypoints vs the photo's enrolled set": {
            side: {
                "verified": verified[side],
                "inliers p50": statistics.median(v),
                "inliers min": min(v),
            }
            for side, v in inliers.items()
        },
        "load average": [round(x, 1) for x in os.getloadavg()],
    }
    text = json.dumps(summary, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
