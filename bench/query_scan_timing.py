#!/usr/bin/env python3
"""A scan's per-image query work (fast pipeline), in this tree or an older one (issue 14).

    .venv/bin/python bench/query_scan_timing.py            # this tree
    PYTHONPATH=OLD/src .venv/bin/python bench/query_scan_timing.py   # an older checkout

On the inputs ``bench/query_set_timing.py`` made (``bench/out/query_set_timing``): what
``services.scans.matcher`` computes for one downloaded image, the query hashes from the
fast pipeline's decode (a large JPEG reduced by libjpeg), then, when PDQ finds nothing,
the keypoint sets from the same decode. Thread CPU ms, median per kind; run the two trees
alternately and compare them in the same minutes (the machine is shared).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from stopspread.hashing.decode import open_image
from stopspread.hashing.image import Pipeline
from stopspread.hashing.keypoints import query_keypoint_sets
from stopspread.hashing.signals import query_hashes

INPUTS = Path(__file__).resolve().parent / "out" / "query_set_timing"


def _scan_fn() -> Callable[[bytes, bool], None]:
    try:
        from stopspread.hashing.query import decode_query
    except ImportError:  # before issue 14's shared decode
        from stopspread.hashing.image import prepare

        def before(data: bytes, keypoints: bool) -> None:
            image = open_image(data)
            prepare(image, Pipeline.FAST)
            query_hashes(image)
            if keypoints:
                query_keypoint_sets(image)

        return before

    def now(data: bytes, keypoints: bool) -> None:
        shared = decode_query(open_image(data), Pipeline.FAST)
        query_hashes(shared)
        if keypoints:
            query_keypoint_sets(shared)

    return now


def main() -> None:
    scan = _scan_fn()
    out: dict[str, float] = {}
    for kind in ("12MP.jpg", "1080p.jpg", "shot.jpg"):
        blobs = [f.read_bytes() for f in sorted(INPUTS.glob(f"*-{kind}"))]
        scan(blobs[0], True)  # warm
        for keypoints in (False, True):
            took = []
            for blob in blobs:
                start = time.thread_time()
                scan(blob, keypoints)
                took.append((time.thread_time() - start) * 1000)
            out[f"{kind} {'PDQ + keypoints' if keypoints else 'PDQ'}"] = round(
                statistics.median(took), 1
            )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
