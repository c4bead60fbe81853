#!/usr/bin/env python3
"""The survivor's enrolment in headless Chromium: a 12 MP JPEG, per stage, on a fresh page.

Scenarios, each on a new page (its own browser context and cache), ``--runs`` times:

- ``pdq``: today's ``ss-img-1`` + MD5 only (the anchor: the path before ``ss-kp-1``);
- ``kp-cold``: ``ss-kp-1`` too, her photo hashed at once: OpenCV.js (11 MB) loads then;
- ``kp-first``: ``ss-kp-1``, the page calls ``StopSpreadHashing.prepare`` when it opens (as
  the enrolment page does) and she picks her photo ``--pick`` seconds later;
- ``kp-next``: her next photo on that page.

Run by hand (a few minutes; needs ``make opencv-js`` and Debian's chromium):

    .venv/bin/python bench/browser_enrol.py [--runs 5] [--pick 3]

Prints each run, then the median per scenario and per stage (ms, from the hashing worker)
and the load average: on a shared machine compare the ratio to ``pdq`` of the same run.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

import numpy as np
from fastapi.responses import HTMLResponse, Response
from PIL import Image
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM, CHROMIUM_ARGS, new_page  # noqa: E402
from tests.conftest import fast_settings  # noqa: E402
from tests.web.js_harness import _HTML, _READY, _READY_JS, TEST_PAGE, HashingPage  # noqa: E402
from tests.web.support import serve  # noqa: E402

from stopspread.storage import Database, upgrade  # noqa: E402
from stopspread.web import create_app  # noqa: E402


def photo(seed: int = 12) -> bytes:
    """A 4000 x 3000 synthetic JPEG (smooth colour field with noise: a photo's file size)."""
    rng = np.random.default_rng(seed)
    field = Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8))
    big = np.asarray(field.resize((4000, 3000), Image.Resampling.BICUBIC), dtype=np.int16)
    noisy = np.clip(big + rng.integers(-12, 13, big.shape), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noisy).save(buf, "JPEG", quality=90)
    return buf.getvalue()


PREPARE: Final = "() => { window.__prepared = StopSpreadHashing.prepare({keypoints: true}); }"
SCENARIOS: Final = ("pdq", "kp-cold", "kp-first", "kp-next")


def timed(page: HashingPage, **options: Any) -> tuple[float, dict[str, float]]:
    """Seconds for one ``hashFile`` call, and the worker's milliseconds per stage."""
    start = time.perf_counter()
    out = page.hash(_timings=True, **options)
    seconds = time.perf_counter() - start
    assert "result" in out, out
    if options.get("keypoints"):
        assert "data" in out["result"]["keypoints"], out["result"]["keypoints"]
    return seconds, {k: float(v) for k, v in out["result"]["_timings"].items()}


def one_run(browser: Any, base_url: str, data: bytes, pick: float) -> dict[str, Any]:
    """Every scenario once, each on a fresh page; returns {scenario: (seconds, stages)}."""
    out: dict[str, Any] = {}
    for scenario in ("pdq", "kp-cold", "kp-first"):
        page = HashingPage(new_page(browser, locale="en-GB"), base_url)
        try:
            if scenario == "kp-first":
                page.evaluate(PREPARE)
                time.sleep(pick)  # she picks her photos
            page.choose(name="photo.jpg", data=data)
            out[scenario] = timed(page, keypoints=scenario != "pdq")
            if scenario == "kp-first":
                out["kp-next"] = timed(page, keypoints=True)
        finally:
            page.page.context.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pick", type=float, default=3.0, help="seconds before she picks")
    args = parser.parse_args()
    data = photo()
    with tempfile.TemporaryDirectory(prefix="enrol-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'db.sqlite'}"
        app = create_app(fast_settings(url, Path(tmp)))
        app.get(TEST_PAGE, response_class=HTMLResponse)(lambda: HTMLResponse(_HTML))
        app.get(_READY_JS)(lambda: Response(_READY, media_type="text/javascript"))
        db = Database(url)
        upgrade(db)
        db.dispose()
        runs: list[dict[str, Any]] = []
        loads: list[float] = []
        with serve(app) as base_url, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            print(f"12 MP JPEG, {len(data) / 1e6:.1f} MB; pick delay {args.pick:.0f} s")
            print("| run | " + " | ".join(SCENARIOS) + " | load average |")
            print("|---:|" + "---:|" * (len(SCENARIOS) + 1))
            for run in range(args.runs):
                runs.append(one_run(browser, base_url, data, args.pick))
                loads.append(os.getloadavg()[0])
                cells = " | ".join(f"{runs[-1][s][0]:.2f}" for s in SCENARIOS)
                print(f"| {run + 1} | {cells} | {loads[-1]:.1f} |", flush=True)
            browser.close()
        report(runs, loads)


def report(runs: list[dict[str, Any]], loads: list[float]) -> None:
    """Medians: seconds per scenario (and the ratio to pdq), then ms per worker stage."""
    anchor = statistics.median(r["pdq"][0] for r in runs)
    print(f"\np50 over {len(runs)} runs, load average {min(loads):.1f}-{max(loads):.1f}")
    print("| scenario | p50 s | / pdq | p50 of each run's / pdq |\n|---|---:|---:|---:|")
    for s in SCENARIOS:
        p50 = statistics.median(r[s][0] for r in runs)
        ratio = statistics.median(r[s][0] / r["pdq"][0] for r in runs)
        print(f"| {s} | {p50:.2f} | {p50 / anchor:.2f} | {ratio:.2f} |")
    stages = list(dict.fromkeys(k for r in runs for s in SCENARIOS for k in r[s][1]))
    print("\n| stage (ms, p50) | " + " | ".join(SCENARIOS) + " |")
    print("|---|" + "---:|" * len(SCENARIOS))
    for stage in stages:
        cells = []
        for s in SCENARIOS:
            values = [r[s][1][stage] for r in runs if stage in r[s][1]]
            cells.append(f"{statistics.median(values):.0f}" if values else "")
        print(f"| {stage} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
