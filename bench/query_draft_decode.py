#!/usr/bin/env python3
"""What decoding a large query JPEG at a reduced size moves (issue 14), on DEV photos.

    .venv/bin/python bench/query_draft_decode.py --corpus corpus --photos 200 \
        --out bench/results/query_draft_decode.json

Each seeded DEV photo is made into a 12 MP phone-sized JPEG (4032x3024, q90, sensor-like
grain, as ``bench/query_set_timing.py`` makes them; cached in ``bench/out``) and its query
signals (``hashing.query.query_signals``, from the file's bytes) are computed with the
full-size grey decode (before) and with libjpeg's reduced decode at each ``--sides`` short
side (``_shared_image.decode_query(draft_side=...)``; 1280: 1/2 scale, 640: 1/4).
Reported per side: PDQ bits moved per query variant (mean, p95, max, identical), variants
kept by one side only, the trimmed / content boxes and photo blocks (edges moved, in 1/512
of the side), the keypoint sets against the photo's own enrolled set
(``extract_keypoints`` of the original: verified, inliers) and this thread's CPU ms per
upload (p50; the load average is printed beside).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from stopspread.hashing._photo_blocks import photo_blocks
from stopspread.hashing._shared_image import SharedImage, decode_query
from stopspread.hashing.keypoints import extract_keypoints
from stopspread.hashing.query import query_signals
from stopspread.matching.keypoint_verify import DEFAULT_VERIFY_RULE, verify_any

ROOT = Path(__file__).resolve().parent.parent
SIZE = (4032, 3024)


def twelve_mp(original: Image.Image, rng: np.random.Generator, path: Path) -> bytes:
    from query_hashing import cover

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        big = np.asarray(cover(original, *SIZE)).astype(np.int16)
        grain = rng.normal(0, 3, (SIZE[1], SIZE[0], 1)).astype(np.int16)
        Image.fromarray(np.clip(big + grain, 0, 255).astype(np.uint8)).save(path, quality=90)
    return path.read_bytes()


def _boxes(shared: SharedImage) -> dict[str, list[tuple[float, ...]]]:
    """Trimmed box, content box and photo blocks in 1/512 of each side."""
    w, h = shared.image.size

    def rel(box: tuple[int, int, int, int]) -> tuple[float, ...]:
        return (box[0] * 512 / w, box[1] * 512 / h, box[2] * 512 / w, box[3] * 512 / h)

    blocks = photo_blocks(shared.image, 2, besides=shared.content, small=shared.small)
    return {
        "trim": [rel(shared.trim)] if shared.trim else [],
        "content": [rel(shared.content)] if shared.content else [],
        "blocks": [rel(b) for b in blocks],
    }


def _measure(data: bytes, side: int | None) -> tuple[Any, dict[str, Any], float]:
    t0 = time.thread_time()
    shared = decode_query(Image.open(io.BytesIO(data)), draft_side=side)
    signals = query_signals(shared)
    ms = (time.thread_time() - t0) * 1000
    return signals, _boxes(shared), ms


def _stats(v: list[float]) -> dict[str, float]:
    return {
        "n": len(v),
        "mean": round(statistics.mean(v), 2),
        "p95": float(np.percentile(v, 95)),
        "max": max(v),
        "identical %": round(100 * sum(d == 0 for d in v) / len(v), 1),
    }


def main() -> int:
    sys.path.insert(0, str(ROOT / "bench"))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("corpus"))
    ap.add_argument("--photos", type=int, default=200)
    ap.add_argument("--sides", type=int, nargs="+", default=[1280, 640])
    ap.add_argument("--cache", type=Path, default=ROOT / "bench" / "out" / "query_draft_decode")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    rows = list(csv.DictReader((args.corpus / "manifest.csv").open()))
    rng = np.random.default_rng(20261208)
    picks = [rows[i]["file"] for i in rng.permutation(len(rows))[: args.photos]]
    sides: list[int | None] = [None, *args.sides]
    name = {s: "full" if s is None else f"short {s}" for s in sides}
    moved: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    one_side: dict[str, int] = defaultdict(int)
    box_moved: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    box_count_changed: dict[str, int] = defaultdict(int)
    inliers: dict[str, list[int]] = defaultdict(list)
    verified: dict[str, int] = defaultdict(int)
    cpu: dict[str, list[float]] = defaultdict(list)
    for i, file in enumerate(picks):
        original = Image.open(args.corpus / file).convert("RGB")
        data = twelve_mp(original, rng, args.cache / f"{i:03d}.jpg")
        enrolled = extract_keypoints(original)
        base: dict[str, Any] = {}
        for side in sides:
            signals, boxes, ms = _measure(data, side)
            key = name[side]
            cpu[key].append(ms)
            check = verify_any(signals.keypoints, enrolled, DEFAULT_VERIFY_RULE)
            inliers[key].append(check.inliers)
            verified[key] += check.verified
            hashes = {h.tag: h for h in signals.hashes}
            if side is None:
                base = {"hashes": hashes, "boxes": boxes}
                continue
            one_side[key] += len(set(hashes) ^ set(base["hashes"]))
            for tag in set(hashes) & set(base["hashes"]):
                moved[key][tag].append(hashes[tag].hash.distance(base["hashes"][tag].hash))
            for kind, found in boxes.items():
                was = base["boxes"][kind]
                if len(found) != len(was):
                    box_count_changed[key] += 1
                    continue
                for a, b in zip(found, was, strict=True):
                    box_moved[key][kind].append(max(abs(x - y) for x, y in zip(a, b, strict=True)))
        print(f"{i + 1}/{len(picks)}", file=sys.stderr)
    summary: dict[str, Any] = {
        "photos": len(picks),
        "upload": "4032x3024 JPEG q90 with grain, from the file's bytes",
        "cpu ms per upload p50 (thread)": {
            k: round(statistics.median(v), 1) for k, v in cpu.items()
        },
        "keypoints vs the photo's enrolled set": {
            k: {
                "verified": verified[k],
                "inliers p50": statistics.median(v),
                "inliers p5": float(np.percentile(v, 5)),
                "inliers min": min(v),
            }
            for k, v in inliers.items()
        },
    }
    for side in args.sides:
        key = name[side]
        every = [d for v in moved[key].values() for d in v]
        summary[key] = {
            "pdq bits moved per variant": {t: _stats(v) for t, v in sorted(moved[key].items())},
            "pdq all variants": _stats(every),
            "variants kept on one side only": one_side[key],
            "box edges moved (1/512 of the side)": {
                k: _stats(v) for k, v in sorted(box_moved[key].items()) if v
            },
            "images whose number of boxes changed": box_count_changed[key],
        }
    summary["load average"] = [round(x, 1) for x in os.getloadavg()]
    text = json.dumps(summary, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
