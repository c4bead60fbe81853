"""``ss-kp-1`` in the survivor's browser (static/survivor/hashing/keypoints.js + OpenCV.js)
against Python's ``extract_keypoints``, in real headless Chromium under the app's CSP.

Where the browser decodes the same pixels as Pillow, the record is the same, byte for byte;
OpenCV.js is loaded only when keypoints are asked for. Needs ``make opencv-js``.
``pytest -s`` prints the table (docs/browser-hashing.md).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from stopspread.hashing.decode import load, open_image, to_rgb
from stopspread.hashing.keypoints import KeypointSet, extract_keypoints
from tests.browser import new_page
from tests.web.js_harness import HashingPage, hashing_page, reference_result
from tests.web.test_js_hashing import reference_images

__all__ = ["hashing_page"]

OPENCV = "/static/survivor/hashing/opencv/opencv.js"


def python_record(data: bytes) -> tuple[str, bytes]:
    """SHA-256 of Pillow's RGB pixels, and the ss-kp-1 record Python stores."""
    image = to_rgb(load(open_image(data)))
    rgb = np.ascontiguousarray(np.asarray(image))
    return hashlib.sha256(rgb.tobytes()).hexdigest(), extract_keypoints(image).to_bytes()


def bits(a: KeypointSet, b: KeypointSet) -> int:
    n = min(len(a), len(b))
    return int(np.unpackbits(a.descriptors[:n] ^ b.descriptors[:n]).sum())


def browser_record(page: HashingPage, path: Path) -> tuple[dict[str, Any], bytes]:
    page.choose(path)
    out = page.hash(keypoints=True, _details=True)
    assert "result" in out, (path.name, out)
    return record_of(out["result"])


def record_of(result: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """The page's result and its ss-kp-1 record's bytes."""
    assert "data" in result["keypoints"], result["keypoints"]
    assert result["keypoints"]["version"] == "ss-kp-1"
    return result, base64.b64decode(result["keypoints"]["data"])


def test_reference_images_give_pythons_records(
    hashing_page: HashingPage, reference_results: dict[Path, dict[str, Any]], testdata: Path
) -> None:
    """The page's answers of the session (test_js_hashing's, when it ran first: the same
    call, keypoints and details asked for), each compared with Python's record here."""
    images = testdata / "pdq" / "images"
    rows, console_errors = [], []
    for path in reference_images(testdata):
        out = reference_result(hashing_page, reference_results, path)
        result, js = record_of(out["result"])
        console_errors += out["console_errors"]
        rgb_sha, py = python_record(path.read_bytes())
        same_pixels = result["_details"]["rgbSha256"] == rgb_sha
        a, b = KeypointSet.from_bytes(js), KeypointSet.from_bytes(py)
        rows.append(
            (path.relative_to(images).as_posix(), same_pixels, js == py, len(a), bits(a, b))
        )
        if same_pixels:
            assert js == py, path.name
    print("\n| image | same pixels | same record | keypoints | descriptor bits differing |")
    print("|---|---|---|---:|---:|")
    for name, same, identical, count, differing in rows:
        print(f"| {name} | {same} | {identical} | {count} | {differing} |")
    assert sum(r[1] for r in rows) >= len(rows) // 2  # most decode as Pillow does
    assert not console_errors and not hashing_page.console_errors


def test_a_large_photo_gives_pythons_record(hashing_page: HashingPage, tmp_path: Path) -> None:
    """A 4,000 x 3,000 PNG (lossless, so Chromium and Pillow decode the same pixels):
    the INTER_AREA downscale and everything after it agree."""
    rng = np.random.default_rng(14)
    small = rng.integers(0, 256, (62, 82, 3), dtype=np.uint8)
    path = tmp_path / "large.png"
    Image.fromarray(small).resize((4000, 3000), Image.Resampling.BICUBIC).save(path)
    _, js = browser_record(hashing_page, path)
    assert js == python_record(path.read_bytes())[1]


def test_opencv_is_loaded_only_when_keypoints_are_asked_for_and_once(
    hashing_page: HashingPage, testdata: Path
) -> None:
    """A fresh page (its own context and cache): hashing alone never fetches OpenCV.js; two
    photos with keypoints fetch it once (one worker for her enrolment)."""
    page = HashingPage(
        new_page(hashing_page.page.context.browser, locale="en-GB"), hashing_page.base_url
    )
    try:
        path = reference_images(testdata)[0]
        page.choose(path)
        assert "keypoints" not in page.hash()["result"]
        assert not any(url.endswith(OPENCV) for _, url in page.requests)
        first, _ = browser_record(page, path)
        second, _ = browser_record(page, path)
        assert first["keypoints"] == second["keypoints"]
        assert sum(url.endswith(OPENCV) for _, url in page.requests) == 1
    finally:
        page.page.context.close()


_PREPARE = "() => StopSpreadHashing.prepare({keypoints: true})"


def test_prepare_loads_opencv_before_her_photos_and_only_once(
    hashing_page: HashingPage, testdata: Path
) -> None:
    """The enrolment page's ``prepare`` (called when it opens): OpenCV.js is fetched and
    compiled before any photo, in the keypoint worker; her photos then reuse it and are told
    nothing about preparing. Without it, her first photo reports the "preparing" stage."""
    browser = hashing_page.page.context.browser
    path = reference_images(testdata)[0]
    early = HashingPage(new_page(browser, locale="en-GB"), hashing_page.base_url)
    late = HashingPage(new_page(browser, locale="en-GB"), hashing_page.base_url)
    try:
        ready = early.evaluate(_PREPARE)
        assert ready["ready"] is True, ready
        assert sum(url.endswith(OPENCV) for _, url in early.requests) == 1
        early.choose(path)
        first = early.hash(keypoints=True)
        assert "data" in first["result"]["keypoints"]
        assert not any(p["stage"] == "preparing" for p in first["progress"])
        assert sum(url.endswith(OPENCV) for _, url in early.requests) == 1

        late.choose(path)
        cold = late.hash(keypoints=True)
        assert cold["result"]["keypoints"] == first["result"]["keypoints"]
        assert [p["stage"] for p in cold["progress"]].count("preparing") == 1
        assert not early.console_errors and not late.console_errors
    finally:
        early.page.context.close()
        late.page.context.close()
