#!/usr/bin/env python3
"""Server query hashing, every signal of one upload, this tree against an older one (issue 14).

Run by hand, not in CI (budget: <= 60 ms per upload on a quiet machine)::

    .venv/bin/python bench/query_set_timing.py --base OLD_TREE [--corpus corpus] [--rounds 3]

What a platform's ``/v1/hash`` computes for one upload, from the file's bytes: open, decode,
the default signal set's query hashes and the ``ss-kp-1`` query keypoint sets (with the
photo blocks). ``OLD_TREE`` is a checkout of an older commit (its ``src`` goes first on
``PYTHONPATH``; there the two are computed one after the other on the same image, as its
``/v1/hash`` did). Inputs, made from seeded DEV photos into ``bench/out/query_set_timing``
(never committed): 12 MP phone-sized JPEGs (4032x3024, q90, with grain), 1920x1080 JPEGs,
and screenshots (the feed screenshot and the chat, gallery and story design generators)
as PNG and as JPEG q90.

Each round runs one worker process per tree, alternating which goes first; a worker warms
up on one file, then times every file in this thread's CPU time (``time.thread_time``: on
a shared machine, wall time mostly measures the wait for a core), per stage where the
stage's function exists in that tree (exclusive time), and the anchor ``pdqhash.compute``
of the 1920x1080 JPEGs (decode included) in CPU and wall time. Quiet figures are scaled by
the anchor: ``ms x 116 / anchor`` (116 ms: the anchor on the idle machine,
``docs/hashing.md``). Load averages are printed beside every round.
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
QUIET_ANCHOR_MS = 116.0
KINDS = ("12MP.jpg", "1080p.jpg", "shot.png", "shot.jpg")


def make_inputs(corpus: Path, photos: int, out: Path) -> dict[str, list[Path]]:
    from PIL import Image

    import robust_screens
    import robust_transforms as rt
    from query_hashing import cover

    rows = list(csv.DictReader((corpus / "manifest.csv").open()))
    rng = np.random.default_rng(20261207)
    picks = [rows[i]["file"] for i in rng.permutation(len(rows))[:photos]]
    shots = [rt.screenshot, robust_screens.chat, robust_screens.gallery, robust_screens.story]
    out.mkdir(parents=True, exist_ok=True)
    result: dict[str, list[Path]] = {k: [] for k in KINDS}
    for i, file in enumerate(picks):
        paths = {k: out / f"{i:02d}-{k}" for k in KINDS}
        result = {k: [*result[k], paths[k]] for k in KINDS}
        if all(p.exists() for p in paths.values()):
            continue
        img = Image.open(corpus / file).convert("RGB")
        big = np.asarray(cover(img, 4032, 3024)).astype(np.int16)
        grain = rng.normal(0, 3, (3024, 4032, 1)).astype(np.int16)
        Image.fromarray(np.clip(big + grain, 0, 255).astype(np.uint8)).save(
            paths["12MP.jpg"], quality=90
        )
        cover(img, 1920, 1080).save(paths["1080p.jpg"], quality=90)
        shot = shots[i % len(shots)](img, rng)
        shot.save(paths["shot.png"])
        shot.save(paths["shot.jpg"], quality=90)
    return result


# (module, attribute, stage): wrapped where the module and attribute exist in a tree
STAGES = [
    ("stopspread.hashing.signals", "load", "decode"),
    ("stopspread.hashing.keypoints", "load", "decode"),
    ("stopspread.hashing._shared_image", "load", "decode"),
    ("stopspread.hashing.keypoints", "content_box", "border boxes"),
    ("stopspread.hashing._regions", "working_copy", "box resize 512"),
    ("stopspread.hashing._regions", "small_from_copy", "border luma"),
    ("stopspread.hashing._regions", "trim_box", "border boxes"),
    ("stopspread.hashing._regions", "content_box", "border boxes"),
    ("stopspread.hashing._regions", "sample_box", "PDQ sampling + core"),
    ("stopspread.hashing._regions", "pdq_pixels", "PDQ sampling + core"),
    ("stopspread.hashing.signals", "dct_from_pixels", "PDQ sampling + core"),
    ("stopspread.hashing.keypoints", "_scaled", "grey 640 copies"),
    ("stopspread.hashing.keypoints", "_from_grey", "ORB sets"),
    ("stopspread.hashing.keypoints", "photo_blocks", "photo blocks"),
]


def _wrap(totals: dict[str, float], stack: list[float], stage: str, fn: Any) -> Any:
    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        stack.append(0.0)
        start = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            took = time.thread_time() - start
            nested = stack.pop()
            totals[stage] = totals.get(stage, 0.0) + took - nested
            if stack:
                stack[-1] += took

    return timed


def _upload_fn() -> Callable[[bytes], object]:
    """What ``/v1/hash`` computes in this tree (``hashing.query`` where it exists)."""
    from stopspread.hashing.decode import DEFAULT_LIMITS, open_source

    try:
        from stopspread.hashing.query import query_signals
    except ImportError:
        from stopspread.hashing.keypoints import query_keypoint_sets
        from stopspread.hashing.signals import query_hashes

        def before(data: bytes) -> object:
            image, _ = open_source(data, DEFAULT_LIMITS)
            return query_hashes(image), query_keypoint_sets(image)

        return before
    return lambda data: query_signals(data)


def _anchor(paths: list[Path]) -> tuple[list[float], list[float]]:
    """``pdqhash.compute`` of each file (decode included): CPU and wall ms."""
    import pdqhash
    from PIL import Image

    cpu, wall = [], []
    for path in paths:
        data = path.read_bytes()
        c0, w0 = time.thread_time(), time.perf_counter()
        with Image.open(io.BytesIO(data)) as img:
            pdqhash.compute(np.asarray(img.convert("RGB")))
        cpu.append((time.thread_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    return cpu, wall


def worker(files: list[Path], anchors: list[Path]) -> dict[str, Any]:
    import importlib

    totals: dict[str, float] = {}
    stack: list[float] = []
    modules = {}
    for module, name, stage in STAGES:
        try:
            mod = modules.setdefault(module, importlib.import_module(module))
        except ImportError:  # a module this tree does not have
            continue
        if hasattr(mod, name):
            setattr(mod, name, _wrap(totals, stack, stage, getattr(mod, name)))
    upload = _upload_fn()
    blobs = {f.name: f.read_bytes() for f in files}
    upload(next(iter(blobs.values())))  # warm
    per_file: dict[str, dict[str, float]] = {}
    cpu, wall = _anchor(anchors)
    for name, blob in blobs.items():
        totals.clear()
        start = time.thread_time()
        upload(blob)
        total = (time.thread_time() - start) * 1000
        per_file[name] = {k: v * 1000 for k, v in totals.items()} | {"total": total}
    more_cpu, more_wall = _anchor(anchors)  # before and after the files
    cpu, wall = cpu + more_cpu, wall + more_wall
    return {"files": per_file, "anchor cpu": cpu, "anchor wall": wall}


def run_worker(tree: Path, files: list[Path], anchors: list[Path]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": f"{tree / 'src'}{os.pathsep}{ROOT / 'bench'}"}
    args = [sys.executable, __file__, "--worker", json.dumps([str(f) for f in files])]
    args.append(json.dumps([str(a) for a in anchors]))
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        files = [Path(f) for f in json.loads(sys.argv[2])]
        print(json.dumps(worker(files, [Path(a) for a in json.loads(sys.argv[3])])))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, required=True, help="an older checkout")
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--photos", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "query_set_timing")
    ap.add_argument("--json", type=Path, help="write the summary here too")
    args = ap.parse_args()
    inputs = make_inputs(args.corpus, args.photos, args.out)
    files = [p for k in KINDS for p in inputs[k]]
    trees = {"before": args.base.resolve(), "now": ROOT}
    runs: dict[str, list[dict[str, Any]]] = {t: [] for t in trees}
    loads = []
    for r in range(args.rounds):
        order = list(trees) if r % 2 == 0 else list(trees)[::-1]
        for name in order:
            runs[name].append(run_worker(trees[name], files, inputs["1080p.jpg"]))
        loads.append([round(x, 1) for x in os.getloadavg()])
        print(f"round {r + 1}: load average {loads[-1]}", file=sys.stderr)
    # one anchor per round, pooled over both trees' workers (run back to back)
    anchors = [
        statistics.median(runs["before"][r]["anchor cpu"] + runs["now"][r]["anchor cpu"])
        for r in range(args.rounds)
    ]
    summary: dict[str, Any] = {
        "load averages after each round": loads,
        "anchor cpu ms per round (both trees)": [round(a, 1) for a in anchors],
        "quiet anchor ms": QUIET_ANCHOR_MS,
    }
    for tree, results in runs.items():
        row: dict[str, Any] = {
            f"anchor {clock} ms": round(
                statistics.median(statistics.median(r[f"anchor {clock}"]) for r in results), 1
            )
            for clock in ("cpu", "wall")
        }
        for kind in KINDS:
            names = [p.name for p in inputs[kind]]

            def quiet(name: str, stage: str = "total", rs: list[Any] = results) -> float:
                """Median over rounds of the time scaled by that round's anchor."""
                return statistics.median(
                    r["files"][name].get(stage, 0.0) * QUIET_ANCHOR_MS / anchors[i]
                    for i, r in enumerate(rs)
                )

            totals = [quiet(n) for n in names]
            stages = sorted({s for r in results for n in names for s in r["files"][n]})
            row[kind] = {
                "cpu ms p50": round(statistics.median(
                    statistics.median(r["files"][n]["total"] for r in results) for n in names
                ), 1),
                "quiet ms p50": round(statistics.median(totals), 1),
                "quiet ms p95": round(float(np.percentile(totals, 95)), 1),
                "quiet ms per stage (p50)": {
                    s: round(statistics.median(quiet(n, s) for n in names), 1)
                    for s in stages if s != "total"
                },
            }  # fmt: skip
        summary[tree] = row
    for kind in KINDS:
        ratios = [
            statistics.median(
                runs["now"][r]["files"][p.name]["total"]
                / runs["before"][r]["files"][p.name]["total"]
                for r in range(args.rounds)
            )
            for p in inputs[kind]
        ]
        summary.setdefault("now / before (cpu, same round), p50 over files", {})[kind] = round(
            statistics.median(ratios), 2
        )
    text = json.dumps(summary, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
