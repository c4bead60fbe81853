#!/usr/bin/env python3
"""``ss-kp-1`` in the browser (OpenCV.js) against Python (cv2), photo by photo (issue 14).

Run by hand (seconds; needs Node and OpenCV.js: ``make opencv-js``):

    .venv/bin/python bench/keypoints_js.py [--images tests/data/pdq/images]

Python writes each photo's grey working copy and its ``ss-kp-1`` record; Node runs
``static/survivor/hashing/keypoints.js`` on the same grey bytes (so the browser's JPEG
decoder is not the variable) and compares. Per photo: identical record or not, keypoint
records in common, descriptor bits that differ, and whether a query (an 85 % crop saved as
JPEG q50) is verified against the record Python made and against the one JavaScript made.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image

from stopspread.hashing.decode import load, to_rgb
from stopspread.hashing.keypoints import (
    KeypointSet,
    _from_grey,
    _grey_working_copy,
    query_keypoint_sets,
)
from stopspread.matching.keypoint_verify import verify_any

ROOT = Path(__file__).resolve().parents[1]
KEYPOINTS_JS = ROOT / "src/stopspread/web/static/survivor/hashing/keypoints.js"
OPENCV_JS = ROOT / "src/stopspread/web/static/survivor/hashing/opencv/opencv.js"


def _query(image: Image.Image) -> list[KeypointSet]:
    """An 85 % crop (random-looking offset, fixed), saved as JPEG q50."""
    rgb = to_rgb(load(image))
    w, h = rgb.size
    box = (w * 10 // 100, h * 5 // 100, w * 10 // 100 + w * 85 // 100, h * 5 // 100 + h * 85 // 100)
    buf = io.BytesIO()
    rgb.crop(box).save(buf, "JPEG", quality=50)
    return query_keypoint_sets(Image.open(io.BytesIO(buf.getvalue())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, default=ROOT / "tests/data/pdq/images")
    parser.add_argument("--opencv-js", type=Path, default=OPENCV_JS)
    args = parser.parse_args()
    paths = sorted(p for p in args.images.rglob("*") if p.is_file())
    with tempfile.TemporaryDirectory(prefix="kpjs-") as tmp:
        photos, python_sets = [], []
        for i, path in enumerate(paths):
            grey = _grey_working_copy(Image.open(path))
            (Path(tmp) / f"{i}.grey").write_bytes(grey.tobytes())
            kp = _from_grey(grey, 400)
            python_sets.append(kp)
            photos.append(
                {
                    "name": path.relative_to(args.images).as_posix(),
                    "width": grey.shape[1],
                    "height": grey.shape[0],
                    "record": kp.to_bytes().hex(),
                }
            )
        (Path(tmp) / "photos.json").write_text(json.dumps(photos))
        node = shutil.which("node") or "node"
        out = subprocess.run(
            [
                node,
                str(ROOT / "bench/keypoints_js.js"),
                str(args.opencv_js),
                tmp,
                str(KEYPOINTS_JS),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(
        "| photo | identical | points JS/Py | records in common | descriptor bits differing "
        "| query verified (Py / JS record) | JS ms |"
    )
    print("|---|---|---|---:|---:|---|---:|")
    verified = [0, 0]
    for path, row, py in zip(paths, rows, python_sets, strict=True):
        js = KeypointSet.from_bytes(bytes.fromhex(row["js"]))
        query = _query(Image.open(path))
        v = (verify_any(query, py).verified, verify_any(query, js).verified)
        verified = [verified[0] + v[0], verified[1] + v[1]]
        print(
            f"| {row['name']} | {'yes' if row['identical'] else 'no'} "
            f"| {row['points'][0]}/{row['points'][1]} | {row['sameRecords']} "
            f"| {row['descriptorBits']} | {v[0]} / {v[1]} | {row['ms']:.0f} |"
        )
    same = sum(r["identical"] for r in rows)
    print(
        f"\nidentical records: {same} of {len(rows)}; "
        f"crop queries verified: {verified[0]} (Python record), {verified[1]} (JS record)"
    )


if __name__ == "__main__":
    main()
