#!/usr/bin/env python3
"""Why do phone-screenshot copies fail ``ss-kp-1``? (issue 14, DEV photos, design generators)

Run by hand (not in CI), a few minutes on one core:

    .venv/bin/python bench/screens_diagnose.py --corpus corpus --photos 40

Seeded DEV photos are enrolled (``extract_keypoints``); each is put in every phone
screenshot design generator (``robust_screens.py`` and ``robust_transforms.screenshot``)
and checked against its own original only (no shortlist: the rule alone). Per copy:

- the photo's share of the frame, and whether the query's content block was found
  (``_regions.content_box``; IoU with the photo's true box) and which candidate blocks
  (``keypoints.content_blocks``) were used;
- each query set's check (``keypoint_verify.measure``) and, when none verified, the rule
  checks the best one failed;
- ``oracle``: the set of the true photo box at 640 px (what a perfect block finder gives).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

import robust_screens
import robust_transforms as rt
from stopspread.hashing._regions import content_box
from stopspread.hashing.keypoints import (
    PHOTO_BLOCKS,
    _from_grey,
    _scaled,
    extract_keypoints,
    query_keypoint_sets,
)
from stopspread.matching.keypoint_verify import DEFAULT_VERIFY_RULE, Verification, measure

SEED = 20261207


def _failed(v: Verification) -> list[str]:
    r = DEFAULT_VERIFY_RULE
    out = []
    if v.inliers < r.min_inliers:
        out.append("inliers")
    if v.inliers < r.min_inlier_ratio * v.matches:
        out.append("ratio")
    if not r.min_scale <= v.scale <= r.max_scale:
        out.append("scale")
    if abs((v.rotation + 45.0) % 90.0 - 45.0) > r.max_tilt_degrees:
        out.append("tilt")
    if v.spread < r.min_spread_cells:
        out.append("spread")
    if v.cover < r.min_cover:
        out.append("cover")
    if v.layout < r.min_layout:
        out.append("layout")
    return out


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area if area else 0.0


def _as_is(img: Image.Image, rng: np.random.Generator) -> tuple[Image.Image, None]:
    return img, None


def _design_screenshot(img: Image.Image, rng: np.random.Generator) -> tuple[Image.Image, None]:
    return rt.screenshot(img, rng), None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("corpus"))
    ap.add_argument("--photos", type=int, default=40)
    ap.add_argument("--blocks", type=int, default=PHOTO_BLOCKS, help="photo blocks a query adds")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    rows = list(csv.DictReader((args.corpus / "manifest.csv").open()))
    rng = np.random.default_rng(SEED)
    picks = [rows[i]["file"] for i in rng.permutation(len(rows))[: args.photos]]
    gens = {
        "original": _as_is,
        **robust_screens.WITH_BOX,
        "feed (design)": _design_screenshot,
    }
    records = []
    for file in picks:
        img = Image.open(args.corpus / file).convert("RGB")
        enrolled = extract_keypoints(img)
        for family, gen in gens.items():
            shot, box = gen(img, rng)
            t0 = time.perf_counter()
            sets = query_keypoint_sets(shot, photo_block_limit=args.blocks)
            ms = (time.perf_counter() - t0) * 1000
            checks = [measure(s, enrolled) for s in sets]
            found = content_box(shot)
            rec: dict[str, object] = {
                "file": file,
                "family": family,
                "sets": len(sets),
                "ms": round(ms, 1),
                "inliers": [c.inliers for c in checks],
                "verified": any(c.verified for c in checks),
                "via": next((i for i, c in enumerate(checks) if c.verified), None),
                "box found": found is not None,
            }
            if box is not None:
                rec["share"] = round(
                    (box[2] - box[0]) * (box[3] - box[1]) / (shot.width * shot.height), 3
                )
                rec["iou"] = round(_iou(found, box), 3) if found else 0.0
                grey = np.asarray(shot.convert("L"), dtype=np.uint8)
                oracle = _from_grey(_scaled(grey[box[1] : box[3], box[0] : box[2]]), 400)
                rec["oracle"] = measure(oracle, enrolled).verified
            if not rec["verified"]:
                best = max(checks, key=lambda c: c.inliers)
                rec["failed"] = _failed(best)
                rec["best"] = {
                    "inliers": best.inliers,
                    "matches": best.matches,
                    "cover": round(best.cover, 3),
                    "layout": round(best.layout, 2),
                    "spread": best.spread,
                    "scale": round(best.scale, 2),
                }
            records.append(rec)
        print(file, file=sys.stderr)
    summary: dict[str, object] = {}
    by: dict[str, list[dict[str, object]]] = defaultdict(list)
    for r in records:
        by[str(r["family"])].append(r)
    for family, rs in by.items():
        n = len(rs)
        fails = Counter(f for r in rs if not r["verified"] for f in r.get("failed", []))  # type: ignore[attr-defined]
        summary[family] = {
            "n": n,
            "verified %": round(100 * sum(bool(r["verified"]) for r in rs) / n, 1),
            "oracle %": round(100 * sum(bool(r.get("oracle")) for r in rs) / n, 1)
            if "oracle" in rs[0]
            else None,
            "block found %": round(100 * sum(bool(r["box found"]) for r in rs) / n, 1),
            "block IoU>=0.8 %": round(
                100 * sum(float(r.get("iou", 0)) >= 0.8 for r in rs) / n,
                1,  # type: ignore[arg-type]
            ),
            "share median": statistics.median(float(r.get("share", 0)) for r in rs),  # type: ignore[arg-type]
            "failed checks": dict(fails),
            "ms p50": round(statistics.median(float(r["ms"]) for r in rs), 1),  # type: ignore[arg-type]
            "ms p95": round(float(np.percentile([float(r["ms"]) for r in rs], 95)), 1),  # type: ignore[arg-type]
            "sets mean": round(statistics.mean(int(r["sets"]) for r in rs), 2),  # type: ignore[call-overload]
        }
    summary["load average"] = [round(x, 1) for x in os.getloadavg()]
    summary["photo blocks"] = args.blocks
    text = json.dumps({"summary": summary, "records": records}, indent=1)
    print(json.dumps(summary, indent=1))
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
