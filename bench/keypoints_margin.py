#!/usr/bin/env python3
"""How far ``ss-kp-1``'s verification is from a false match, over a whole corpus (issue 14).

Run by hand (not in CI), minutes on one core:

    # design: the DEV photos, their originals and design edits of 30 of them
    .venv/bin/python bench/keypoints_margin.py --corpus corpus --edits 30 \\
        --dump margin-dev.json
    # every pair of the whole corpus: both splits enrolled, every original looked up
    .venv/bin/python bench/keypoints_margin.py --corpus corpus --corpus corpus-holdout \\
        --out bench/results/keypoints_margin_all.json

Only ``ss-kp-1`` (``ss-img-1``'s false matches are measured by ``bench/keypoints.py`` over
every pair). Every photo of every ``--corpus`` is enrolled; queries are every original as
it is (the hardest non-matches: a near-duplicate photo of another file) and, with
``--edits N``, one seeded edit per design family of N photos of the first ``--corpus``.
Each query goes through the shortlist of ``bench/keypoints.py`` (descriptor votes in the
exact Hamming index, top ``--shortlist`` photos) and each shortlisted photo through
``measure`` with every query set (the upload, its mirror, its content block). The report:
pairs verified, false matches under the shipped rule, the closest non-matches (most
inliers among those with a sane transform), i.e. the margin, and recall of the edits per
family. A file and its ``_mirror`` file count as one picture (``keypoints.picture``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
from PIL import Image

import robust_transforms as rt
from keypoints import SEED, _shortlist, picture
from stopspread.hashing.keypoints import KeypointSet, query_keypoint_sets
from stopspread.matching.index import MihIndex
from stopspread.matching.keypoint_verify import DEFAULT_VERIFY_RULE, Verification, measure


def _photos(corpora: list[Path]) -> list[tuple[Path, str, str]]:
    out = []
    for corpus in corpora:
        for row in csv.DictReader((corpus / "manifest.csv").open()):
            out.append((corpus, row["file"], row["category"]))
    return out


def _sane(v: Verification) -> bool:
    """A transform the rule would accept, whatever the counts."""
    rule = DEFAULT_VERIFY_RULE
    tilt = abs((v.rotation + 45.0) % 90.0 - 45.0)
    return rule.min_scale <= v.scale <= rule.max_scale and tilt <= rule.max_tilt_degrees


def _check(sets: list[KeypointSet], enrolled: KeypointSet) -> Verification:
    results = [measure(s, enrolled) for s in sets]
    return max(results, key=lambda v: (v.verified, _sane(v), v.inliers))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, action="append", required=True)
    ap.add_argument("--edits", type=int, default=0, help="photos edited once per design family")
    ap.add_argument("--vote-radius", type=int, default=24)
    ap.add_argument("--shortlist", type=int, default=8)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--dump", type=Path, help="every measured pair, for choosing thresholds")
    ap.add_argument("--limit", type=int, help="only the first N photos (a smoke run)")
    args = ap.parse_args()
    photos = _photos(args.corpus)[: args.limit]
    rng = np.random.default_rng(SEED)

    t0 = time.perf_counter()
    queries: list[tuple[int, str, list[KeypointSet]]] = []
    bank: list[KeypointSet] = []
    extract_ms: list[float] = []
    for i, (corpus, file, _) in enumerate(photos):
        img = Image.open(corpus / file).convert("RGB")
        t1 = time.perf_counter()
        sets = query_keypoint_sets(img)
        extract_ms.append((time.perf_counter() - t1) * 1000)
        bank.append(sets[0])  # the query's own set is the enrolled set of the same image
        queries.append((i, "original", sets))
    first = sum(p[0] == args.corpus[0] for p in photos)  # edits: the first corpus only
    order = rng.permutation(first)[: args.edits]
    for i in order:
        corpus, file, _ = photos[i]
        img = Image.open(corpus / file).convert("RGB")
        for family, edit in rt.FAMILIES.items():
            queries.append((int(i), family, query_keypoint_sets(edit(img, rng))))
    print(
        f"{len(bank)} enrolled, {len(queries)} queries in {time.perf_counter() - t0:.0f} s",
        file=sys.stderr,
    )

    desc = np.concatenate([k.descriptors for k in bank])
    owner = np.concatenate([np.full(len(k), i, np.int64) for i, k in enumerate(bank)])
    index = MihIndex.from_arrays(desc, owner)
    dump = []
    found: dict[str, list[bool]] = {}
    for qi, (photo, family, sets) in enumerate(queries):
        short = _shortlist(index, sets, args.vote_radius, args.shortlist)
        hit = False
        for other in short:
            v = _check(sets, bank[other])
            same = other == photo
            hit = hit or (same and v.verified)
            dump.append(
                {
                    "query": qi,
                    "photo": photo,
                    "other": other,
                    "family": family,
                    "same": same,
                    "same picture": picture(photos[other][1]) == picture(photos[photo][1]),
                    "slice": photos[photo][2],
                    **asdict(v),
                }
            )
        found.setdefault(family, []).append(hit)
        if qi % 200 == 0:
            print(f"{qi} queries checked, {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    others = [d for d in dump if not d["same"]]
    sane = [
        d
        for d in others
        if not d["same picture"]
        and _sane(Verification(**{k: d[k] for k in Verification.__dataclass_fields__}))
    ]

    def closest(key: str) -> list[dict[str, object]]:
        top = sorted(sane, key=lambda d: -float(d[key]))[:5]
        keep = (
            "inliers",
            "inlier_ratio",
            "spread",
            "query_cover",
            "enrolled_cover",
            "inlier_bits",
            "scale",
            "rotation",
            "slice",
        )
        return [
            {
                "query": photos[int(d["photo"])][1],
                "enrolled": photos[int(d["other"])][1],
                **{k: round(float(d[k]), 3) if k != "slice" else d[k] for k in keep if k in d},
            }
            for d in top
        ]

    for d in others:
        d["inlier_ratio"] = d["inliers"] / d["matches"] if d["matches"] else 0.0
    summary = {
        "corpora": [c.name for c in args.corpus],
        "enrolled": len(bank),
        "queries": len(queries),
        "rule": asdict(DEFAULT_VERIFY_RULE),
        "pairs verified (query, other photo)": len(others),
        "false matches": sum(d["verified"] and not d["same picture"] for d in others),
        "verified pairs of a file and its _mirror file (one picture)": sum(
            d["verified"] and d["same picture"] for d in others
        ),
        "false matches as the corpus labels files": sum(d["verified"] for d in others),
        "false matches by slice": {
            s: sum(d["verified"] and not d["same picture"] for d in others if d["slice"] == s)
            for s in sorted({d["slice"] for d in others})
        },
        "sane-transform non-matches": len(sane),
        "closest non-matches by inliers": closest("inliers"),
        "recall by family": {f: round(100 * sum(h) / len(h), 1) for f, h in found.items()},
        "load average": [round(x, 1) for x in os.getloadavg()],
        "query extraction ms (every set)": {
            "p50": round(statistics.median(extract_ms), 1),
            "p95": round(float(np.percentile(extract_ms, 95)), 1),
        },
    }
    text = json.dumps(summary, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    if args.dump:
        args.dump.write_text(json.dumps(dump))
    return 0


if __name__ == "__main__":
    sys.exit(main())
