#!/usr/bin/env python3
"""The survivor's enrolment in headless Chromium: one 12 MP JPEG, today's signals (``ss-img-1``
+ MD5) against the same with ``ss-kp-1`` (OpenCV.js), ``hashFile`` from call to result.

Run by hand (a minute; needs ``make opencv-js`` and Debian's chromium):

    .venv/bin/python bench/browser_enrol.py [--runs 3]

Each ``hashFile`` starts its own worker, so every run with keypoints loads and compiles
OpenCV.js again (as every photo of her enrolment does). Prints the load average beside
each figure: on a shared machine the times are pessimistic.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
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
        with serve(app) as base_url, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = HashingPage(new_page(browser, locale="en-GB"), base_url)
            page.choose(name="photo.jpg", data=data)
            print(f"12 MP JPEG, {len(data) / 1e6:.1f} MB")
            print("| signals | run | seconds | load average |\n|---|---:|---:|---:|")
            for label, options in (("ss-img-1 + MD5", {}), ("+ ss-kp-1", {"keypoints": True})):
                for run in range(args.runs):
                    start = time.perf_counter()
                    out = page.hash(**options)
                    seconds = time.perf_counter() - start
                    assert "result" in out, out
                    if options:
                        assert "data" in out["result"]["keypoints"], out["result"]["keypoints"]
                    print(f"| {label} | {run + 1} | {seconds:.2f} | {os.getloadavg()[0]:.1f} |")
            browser.close()


if __name__ == "__main__":
    main()
