"""Finding 8: images just under the 89.5 MP cap cost a gigabyte each on ``/v1/hash`` (four in
parallel: 4.3 GiB), and a truncated image was hashed.

Against a real server: a lower pixel cap for uploads (refused from the header), a memory
budget shared by concurrent decodes, truncated files refused. Small settings keep it quick;
bench/decode_budget.py measures the real defaults.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from stopspread.errors import CorruptMediaError, MediaTooLargeError, RateLimitedError
from stopspread.hashing import DecodeBudget, DecodeLimits, hash_image
from stopspread.hashing.budget import BYTES_PER_PIXEL
from tests.conftest import encode, fast_settings, synthetic_rgb
from tests.web.support import api_client, auth, new_client_key


def _upload(client: httpx.Client, key: str, data: bytes) -> httpx.Response:
    headers = {**auth(key), "Content-Type": "application/octet-stream"}
    return client.post("/v1/hash", content=data, headers=headers)


def test_uploads_have_a_lower_pixel_cap_and_truncated_files_are_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    settings = fast_settings(url, tmp_path, upload_max_pixels=600 * 400)
    key = new_client_key(settings, can_hash=True)
    fits = encode(synthetic_rgb(600, 400, seed=8), "JPEG", quality=90)
    big = encode(synthetic_rgb(601, 400, seed=8), "WEBP", quality=50)
    png = encode(synthetic_rgb(300, 200, seed=9), "PNG")
    with api_client(settings) as client:
        assert _upload(client, key, fits).status_code == 200
        refused = _upload(client, key, big)
        assert refused.status_code == 413 and "pixel limit" in refused.json()["error"]
        assert _upload(client, key, png).status_code == 200
        for cut in (png[:-5], fits[:-2], fits[:629]):  # a PNG without IEND; JPEGs cut short
            assert _upload(client, key, cut).status_code == 415


def test_one_image_over_the_decode_budget_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    settings = fast_settings(url, tmp_path, decode_memory_mib=2)  # 2 MiB: ~150k pixels
    key = new_client_key(settings, can_hash=True)
    with api_client(settings) as client:
        small = encode(synthetic_rgb(300, 200, seed=1), "JPEG")
        assert _upload(client, key, small).status_code == 200
        large = encode(synthetic_rgb(600, 400, seed=1), "JPEG")
        answer = _upload(client, key, large)
        assert answer.status_code == 413 and "decode budget" in answer.json()["error"]


def test_concurrent_decodes_share_one_budget() -> None:
    pixels = 1000
    budget = DecodeBudget(2 * pixels * BYTES_PER_PIXEL, wait_s=0.05)
    with budget.hold(pixels), budget.hold(pixels):
        assert budget.in_use == budget.max_bytes
        with pytest.raises(RateLimitedError), budget.hold(pixels):  # a third waits, gives up
            pass
    assert budget.in_use == 0
    with pytest.raises(MediaTooLargeError), budget.hold(3 * pixels):
        pass
    # a waiting decode goes ahead as soon as one finishes
    patient = DecodeBudget(pixels * BYTES_PER_PIXEL, wait_s=30)
    entered, done = threading.Event(), threading.Event()

    def second() -> None:
        with patient.hold(pixels):
            entered.set()
        done.set()

    with patient.hold(pixels):
        worker = threading.Thread(target=second)
        worker.start()
        assert not entered.wait(0.05)
    assert done.wait(30)
    worker.join()


def test_truncation_check_is_opt_in_for_the_library() -> None:
    png = encode(synthetic_rgb(64, 64, seed=3), "PNG")
    with pytest.raises(CorruptMediaError):
        hash_image(png[:-5], limits=DecodeLimits(require_complete=True))
    assert hash_image(png, limits=DecodeLimits(require_complete=True)).width == 64
