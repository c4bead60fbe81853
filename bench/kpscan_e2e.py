"""ss-kp-1 in the product, end to end (issue 14): ``case create --center`` from DEV photos,
then a folder scan of their edited copies and of unrelated photos, through the CLI.

Run by hand, not in CI::

    .venv/bin/python bench/kpscan_e2e.py --corpus corpus --out bench/results/kpscan_e2e.json

``--photos`` DEV photos (seeded sample) are enrolled by ``stopspread case create --center``
(ss-img-1 hashes, MD5 and the ss-kp-1 keypoints of each, as a center does). The folder holds
one seeded edit of each enrolled photo per family of BOTH generator sets (the design
generators of ``robust_transforms.py`` and the reporting generators of
``robust_edits_report.py``), saved as JPEG q90, and ``--unrelated`` other DEV photos as they
are. One ``stopspread scan run`` reads it. A copy counts as found *before* when its sighting
came from ss-img-1 or MD5 (the scan checks those first; ss-kp-1 is verified only where they
found nothing), and *now* when it has any sighting — naming its own photo. A false flag is a
sighting of an unrelated photo, or one naming another enrolled photo.

``--cost`` measures instead what ss-kp-1 adds to a scan for each download that ``ss-img-1``
does not match (the unrelated photos): ``CaseMatcher.match_image`` with and without the
enrolled photos' keypoints, median and p95 over the unrelated photos.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from PIL import Image

import robust_edits_report
import robust_transforms as rt
from stopspread.cli import cli
from stopspread.hashing import digest_bytes, enrolment_hashes
from stopspread.hashing.decode import open_image
from stopspread.hashing.keypoints import extract_keypoints
from stopspread.matching.policy import DEFAULT_POLICY
from stopspread.services.keypoint_records import EnrolledKeypoints
from stopspread.services.scans.matcher import CaseMatcher, EnrolledSignal

SEED = 20261207


def _sample(corpus: Path, n: int, unrelated: int) -> tuple[list[str], list[str]]:
    rows = list(csv.DictReader((corpus / "manifest.csv").open()))
    order = np.random.default_rng(SEED).permutation(len(rows))
    files = [rows[i]["file"] for i in order]
    return files[:n], files[n : n + unrelated]


def _owners(photos: list[Path]) -> dict[str, int]:
    """Every hash value the CLI enrols for each photo -> the photo's number."""
    owner: dict[str, int] = {}
    for i, path in enumerate(photos):
        body = path.read_bytes()
        for h in enrolment_hashes(body):
            owner.setdefault(h.hash.hex, i)
        owner.setdefault(digest_bytes(body).md5, i)
    return owner


def _cli(env: dict[str, str], *args: str) -> str:
    ran = CliRunner().invoke(cli, list(args), env=env)
    if ran.exit_code != 0:
        raise SystemExit(f"stopspread {' '.join(args[:2])} failed: {ran.output}")
    return ran.stdout


def _write_copies(folder: Path, photos: list[Path]) -> dict[str, tuple[str, int]]:
    """name -> (family, photo number); one edit per family and photo."""
    rng = np.random.default_rng(SEED)
    sets = {"D": rt.FAMILIES, "R": robust_edits_report.FAMILIES}
    planted: dict[str, tuple[str, int]] = {}
    for i, path in enumerate(photos):
        img = Image.open(path).convert("RGB")
        for prefix, families in sets.items():
            for family, edit in families.items():
                name = f"copy-{i:03d}-{len(planted):05d}.jpg"
                edit(img, rng).convert("RGB").save(folder / name, "JPEG", quality=90)
                label = family if family.startswith(prefix + " ") else f"{prefix} {family}"
                planted[name] = (label, i)
    return planted


def _cost(corpus: Path, chosen: list[str], others: list[str]) -> dict[str, object]:
    signals, keypoints = [], []
    for i, file in enumerate(chosen):
        body = (corpus / file).read_bytes()
        for h in enrolment_hashes(body):
            signals.append(EnrolledSignal(len(signals), "pdq", h.hash.hex, h.quality))
        keypoints.append(EnrolledKeypoints(i, None, extract_keypoints(open_image(body))))
    plain = CaseMatcher(signals, policy=DEFAULT_POLICY)
    with_kp = CaseMatcher(signals, policy=DEFAULT_POLICY, keypoints=keypoints)
    times: dict[str, list[float]] = {"ss-img-1": [], "ss-img-1 + ss-kp-1": []}
    for file in others:
        body = (corpus / file).read_bytes()
        for name, matcher in (("ss-img-1", plain), ("ss-img-1 + ss-kp-1", with_kp)):
            t0 = time.perf_counter()
            matcher.match_image(body)
            times[name].append((time.perf_counter() - t0) * 1000)
    return {
        "enrolled_photos": len(chosen),
        "downloads": len(others),
        **{
            f"{name} ms p50/p95": [
                round(float(np.percentile(t, 50)), 1),
                round(float(np.percentile(t, 95)), 1),
            ]
            for name, t in times.items()
        },
        "load_average": [round(x, 1) for x in os.getloadavg()],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("corpus"))
    ap.add_argument("--photos", type=int, default=12)
    ap.add_argument("--unrelated", type=int, default=60)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--cost", action="store_true", help="time a download's check instead")
    args = ap.parse_args()
    chosen, others = _sample(args.corpus, args.photos, args.unrelated)
    if args.cost:
        text = json.dumps(_cost(args.corpus, chosen, others), indent=2)
        print(text)
        if args.out:
            args.out.write_text(text + "\n")
        return 0
    with tempfile.TemporaryDirectory(prefix="kpscan-") as tmp_name:
        tmp = Path(tmp_name)
        env = {
            "STOPSPREAD_DATA_DIR": str(tmp / "data"),
            "STOPSPREAD_ARGON2_MEMORY_KIB": "1024",
            "STOPSPREAD_ARGON2_TIME_COST": "1",
        }
        photos_dir, folder = tmp / "photos", tmp / "found"
        photos_dir.mkdir()
        folder.mkdir()
        photos = []
        for i, file in enumerate(chosen):
            target = photos_dir / f"{i:03d}{Path(file).suffix}"
            target.write_bytes((args.corpus / file).read_bytes())
            photos.append(target)
        owner = _owners(photos)
        planted = _write_copies(folder, photos)
        for j, file in enumerate(others):
            Image.open(args.corpus / file).convert("RGB").save(folder / f"unrelated-{j:03d}.jpg")
        _cli(env, "center", "create", "Bench Center")
        t0 = time.perf_counter()
        made = _cli(env, "case", "create", "--center", "Bench Center", str(photos_dir))
        enrol_s = time.perf_counter() - t0
        code = made.split("code: ")[1].split()[0]
        source = _cli(env, "source", "add", code, "folder", str(folder)).strip()
        items = len(planted) + len(others)
        t0 = time.perf_counter()
        _cli(env, "scan", "run", source)
        scan_s = time.perf_counter() - t0
        with sqlite3.connect(tmp / "data" / "stopspread.db") as conn:
            rows = conn.execute(
                "select s.media_url, s.signal_type, g.value from sightings s"
                " left join signals g on g.id = s.signal_id"
            ).fetchall()
    found: dict[str, tuple[str, int | None]] = {}
    for url, kind, value in rows:
        found[Path(str(url)).name] = (str(kind), owner.get(str(value)) if value else None)
    table: dict[str, dict[str, float]] = {}
    tally: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    false_flags = 0
    for name, (_kind, photo) in found.items():
        if name not in planted or photo != planted[name][1]:
            false_flags += 1
    for name, (family, photo) in planted.items():
        kind, named = found.get(name, ("", None))
        right = named == photo
        tally[family].append((right and kind in ("pdq", "md5"), right))
    for family, got in sorted(tally.items()):
        n = len(got)
        table[family] = {
            "n": n,
            "ss-img-1": round(100 * sum(a for a, _ in got) / n, 1),
            "now": round(100 * sum(b for _, b in got) / n, 1),
        }
    totals = {
        prefix: (
            sum(a for f, g in tally.items() if f.startswith(prefix) for a, _ in g),
            sum(b for f, g in tally.items() if f.startswith(prefix) for _, b in g),
            sum(len(g) for f, g in tally.items() if f.startswith(prefix)),
        )
        for prefix in ("D ", "R ")
    }
    result = {
        "photos": len(photos),
        "copies": len(planted),
        "unrelated": len(others),
        "families": table,
        "found_before": {p.strip(): t[0] for p, t in totals.items()},
        "found_now": {p.strip(): t[1] for p, t in totals.items()},
        "copies_per_set": {p.strip(): t[2] for p, t in totals.items()},
        "false_flags": false_flags,
        "enrol_s": round(enrol_s, 1),
        "scan_s": round(scan_s, 1),
        "scan_ms_per_item": round(1000 * scan_s / items, 1),
        "load_average": [round(x, 1) for x in os.getloadavg()],
    }
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
