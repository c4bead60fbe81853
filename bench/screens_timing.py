#!/usr/bin/env python3
"""Query extraction cost of the photo blocks, paired (issue 14).

    .venv/bin/python bench/screens_timing.py --corpus corpus --photos 40

Seeded DEV photos, as they are and in each phone screenshot design generator; for each
image, in one process and alternating, ``query_keypoint_sets`` without photo blocks and
with the shipped limit, and ``photo_blocks`` (with the ``content_box`` it is told about)
alone. Milliseconds p50 / p95, the load average beside them (the machine is shared:
compare the pair, not the absolute figures).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

import robust_screens
import robust_transforms as rt
from stopspread.hashing._photo_blocks import photo_blocks
from stopspread.hashing._regions import content_box
from stopspread.hashing.keypoints import PHOTO_BLOCKS, query_keypoint_sets

SEED = 20261207


def _ms(call: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    call()
    return (time.perf_counter() - t0) * 1000


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(values), 1),
        "p95": round(float(np.percentile(values, 95)), 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("corpus"))
    ap.add_argument("--photos", type=int, default=40)
    args = ap.parse_args()
    rows = list(csv.DictReader((args.corpus / "manifest.csv").open()))
    rng = np.random.default_rng(SEED + 1)
    picks = [rows[i]["file"] for i in rng.permutation(len(rows))[: args.photos]]
    kinds: dict[str, dict[str, list[float]]] = {}
    for file in picks:
        img = Image.open(args.corpus / file).convert("RGB")
        shots = {"original": img, "feed (design)": rt.screenshot(img, rng)}
        shots |= {name: gen(img, rng) for name, gen in robust_screens.FAMILIES.items()}
        for kind, shot in shots.items():
            row = kinds.setdefault(
                kind, {"before": [], "now": [], "photo_blocks + content_box": []}
            )
            row["before"].append(_ms(lambda s=shot: query_keypoint_sets(s, photo_block_limit=0)))
            row["now"].append(_ms(lambda s=shot: query_keypoint_sets(s)))
            row["photo_blocks + content_box"].append(
                _ms(lambda s=shot: photo_blocks(s, PHOTO_BLOCKS, besides=content_box(s)))
            )
    out: dict[str, object] = {
        kind: {k: _stats(v) for k, v in row.items()} for kind, row in kinds.items()
    }
    out["photos"] = len(picks)
    out["load average"] = [round(x, 1) for x in os.getloadavg()]
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
