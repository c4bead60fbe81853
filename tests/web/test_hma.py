"""The HMA-compatible lookup, called as HMA-shaped client code calls it."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.conftest import fast_settings, flip_bits, random_pdq
from tests.web.support import api_client, auth, new_client_key

# every database here is used through services: a migrated copy (tests/dbtemplate.py)
pytestmark = pytest.mark.usefixtures("migrated_database")


def _lookup(http: httpx.Client, key: str, signal_type: str, signal: str) -> httpx.Response:
    return http.get(
        "/m/lookup", params={"signal_type": signal_type, "signal": signal}, headers=auth(key)
    )


def _eventually(http: httpx.Client, key: str, signal_type: str, signal: str) -> httpx.Response:
    deadline = time.monotonic() + 2.0
    while True:
        answer = _lookup(http, key, signal_type, signal)
        if answer.json() or time.monotonic() > deadline:
            return answer
        time.sleep(0.02)


def test_lookup_near_copy_foreign_and_withdrawn(database_url: str, tmp_path: Path) -> None:
    settings = fast_settings(database_url, tmp_path)
    key, other = new_client_key(settings), new_client_key(settings, "other")
    rng = np.random.default_rng(15)
    value, md5 = random_pdq(rng), "c" * 32
    with api_client(settings) as http:
        made = http.post(
            "/v1/cases",
            json={"signals": [{"type": "pdq", "value": value, "quality": 90},
                              {"type": "md5", "value": md5}]},
        ).json()  # fmt: skip
        near = flip_bits(value, 20, rng)
        hit = _eventually(http, key, "pdq", near)  # live once the poller applied it
        assert hit.status_code == 200
        body = hit.json()
        assert list(body) == ["STOPSPREAD"]
        [entry] = body["STOPSPREAD"]
        assert entry["distance"] == "0" and entry["bank_content_id"].startswith("r_")
        assert made["case_code"] not in hit.text
        again = _lookup(http, key, "pdq", near).json()
        assert again == body  # stable per platform
        theirs = _lookup(http, other, "pdq", near).json()
        assert theirs["STOPSPREAD"][0]["bank_content_id"] != entry["bank_content_id"]
        assert _lookup(http, key, "video_md5", md5).json()["STOPSPREAD"]
        assert _lookup(http, key, "pdq", random_pdq(rng)).json() == {}
        # the review opened like /v1/match, and feedback takes the id as a ref
        fb = http.post(
            "/v1/feedback",
            json={"ref": entry["bank_content_id"], "verdict": "confirmed"},
            headers=auth(key),
        )
        assert fb.json() == {"ok": True}
        status = http.get(
            f"/v1/cases/{made['case_code']}", headers={"X-Case-Secret": made["secret"]}
        ).json()
        assert status["reviews_open"] >= 1 and status["feedback_confirmed"] == 1
        http.post(
            f"/v1/cases/{made['case_code']}/withdraw", headers={"X-Case-Secret": made["secret"]}
        )
        assert _lookup(http, key, "pdq", near).json() == {}  # at once: no poll needed
        assert _lookup(http, key, "video_md5", md5).json() == {}


def test_lookup_bad_input_and_auth(sqlite_url: str, tmp_path: Path) -> None:
    settings = fast_settings(sqlite_url, tmp_path)
    key = new_client_key(settings)
    with api_client(settings) as http:
        assert _lookup(http, key, "tmk", "a" * 64).status_code == 400
        assert _lookup(http, key, "pdq", "zz").status_code == 400
        bad = _lookup(http, key, "pdq", "g" * 64)
        assert bad.status_code == 400 and "g" * 64 not in bad.text  # never echoed
        assert (
            http.get("/m/lookup", params={"signal_type": "pdq"}, headers=auth(key)).status_code
            == 400
        )
        assert (
            http.get("/m/lookup", params={"signal_type": "pdq", "signal": "a" * 64}).status_code
            == 401
        )
        assert _lookup(http, "wrong", "pdq", "a" * 64).status_code == 403


def test_file_lookup_for_clients_that_opted_in(sqlite_url: str, tmp_path: Path) -> None:
    from stopspread.hashing import hash_image
    from tests.conftest import encode, synthetic_rgb

    settings = fast_settings(sqlite_url, tmp_path)
    hasher = new_client_key(settings, "hasher", can_hash=True)
    plain = new_client_key(settings, "plain")
    photo = encode(synthetic_rgb(640, 480, seed=8), "JPEG", quality=92)
    other = encode(synthetic_rgb(640, 480, seed=9), "JPEG", quality=92)
    pdq = hash_image(photo).pdq.hex
    with api_client(settings) as http:
        http.post("/v1/cases", json={"signals": [{"type": "pdq", "value": pdq, "quality": 95}]})
        _eventually(http, hasher, "pdq", pdq)

        def post(key: str, files: dict[str, tuple[str, bytes]]) -> httpx.Response:
            return http.post("/m/lookup", files=files, headers=auth(key))

        hit = post(hasher, {"photo": ("x.jpg", photo)})
        assert hit.status_code == 200, hit.text
        assert list(hit.json()) == ["pdq"]
        assert hit.json()["pdq"]["STOPSPREAD"][0]["distance"] == "0"
        assert post(hasher, {"photo": ("y.jpg", other)}).json() == {"pdq": {}}
        assert post(plain, {"photo": ("x.jpg", photo)}).status_code == 403
        assert post(hasher, {"video": ("x.mp4", photo)}).status_code == 415
        two = post(hasher, {"photo": ("x.jpg", photo), "photo2": ("y.jpg", other)})
        assert two.status_code == 400
        raw = http.post("/m/lookup", content=photo, headers=auth(hasher))
        assert raw.status_code == 400
        assert post(hasher, {"photo": ("z.jpg", b"not an image")}).status_code == 415
