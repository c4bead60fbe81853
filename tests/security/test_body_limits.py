"""Finding 1: one anonymous request could exhaust memory (a 300 MB body was parsed whole).

Each route has a byte budget; a declared length over it is refused before the body is read,
a chunked body the moment it passes it, a multipart form to a worker page before it is
spooled. Against a real server on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from stopspread.config import Settings
from stopspread.web.limits import (
    FORM_MAX_BYTES,
    MATCH_KEYPOINTS_MAX_BYTES,
    SMALL_MAX_BYTES,
    body_limit,
)
from tests.conftest import fast_settings, random_pdq
from tests.security.rawhttp import raw_request
from tests.web.support import auth, live_server, new_client_key

BIG = 300 * 1000 * 1000  # the finding's body: 300 MB


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings, str]]:
    tmp = tmp_path_factory.mktemp("limits")
    settings = fast_settings(f"sqlite:///{tmp / 'db.sqlite'}", tmp, max_signals_per_request=200)
    key = new_client_key(settings, can_hash=True)
    with live_server(settings) as base_url:
        yield base_url, settings, key


@pytest.mark.parametrize(
    "path", ["/v1/cases", "/v1/cases/ABC/signals", "/v1/match", "/v1/hash", "/worker/login"]
)
def test_a_declared_length_over_the_budget_is_refused_before_the_body(
    server: tuple[str, Settings, str], path: str
) -> None:
    base_url, _settings, _key = server
    headers = {"Content-Type": "application/json", "Content-Length": str(BIG)}
    answer = raw_request(base_url, "POST", path, headers, timeout=10)
    assert answer.status == 413
    assert answer.json()["status"] == 413 and answer.headers["connection"] == "close"


@pytest.mark.parametrize("path", ["/v1/cases", "/v1/match", "/v1/feedback", "/worker/login"])
def test_a_chunked_body_is_cut_off_as_it_passes_the_budget(
    server: tuple[str, Settings, str], path: str
) -> None:
    base_url, settings, key = server
    limit = body_limit(settings, "POST", path)
    piece = b"[" * 1024
    pieces = [piece] * (limit // len(piece) + 2)  # just past the budget; the body never ends
    headers = {"Content-Type": "application/x-www-form-urlencoded", **auth(key)}
    answer = raw_request(base_url, "POST", path, headers, pieces, chunked=True, timeout=10)
    assert answer.status == 413, answer.body
    assert answer.json() == {
        "ok": False,
        "error": f"the request body is over {limit} bytes for this address",
        "status": 413,
    }


def test_a_multipart_form_to_a_worker_page_is_refused_before_it_is_read(
    server: tuple[str, Settings, str],
) -> None:
    base_url, _settings, _key = server
    head = b'--xx\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n'
    headers = {"Content-Type": "multipart/form-data; boundary=xx"}
    pieces = [head, b"x" * 32_768]  # and 60 MB more would follow
    answer = raw_request(base_url, "POST", "/worker/login", headers, pieces, chunked=True)
    assert answer.status == 415
    declared = {**headers, "Content-Length": str(60 * 1000 * 1000)}
    assert raw_request(base_url, "POST", "/worker/login", declared, timeout=10).status == 413


def test_a_length_that_is_not_a_number_is_refused(server: tuple[str, Settings, str]) -> None:
    base_url, _settings, _key = server
    headers = {"Content-Type": "application/json", "Content-Length": "١٢"}  # Arabic digits
    answer = raw_request(base_url, "POST", "/v1/match", headers, timeout=10)
    assert answer.status == 400


def test_bodies_within_the_budgets_still_work(server: tuple[str, Settings, str]) -> None:
    base_url, settings, _key = server
    rng = np.random.default_rng(18)
    signals = [{"type": "pdq", "value": random_pdq(rng), "quality": 100} for _ in range(200)]
    body = json.dumps({"signals": signals}, indent=4).encode()
    assert len(body) < body_limit(settings, "POST", "/v1/cases")
    with httpx.Client(base_url=base_url, timeout=30) as client:
        headers = {"Content-Type": "application/json"}
        made = client.post("/v1/cases", content=body, headers=headers)
        assert made.status_code == 201 and made.json()["signals"] == 200
        more = client.post("/v1/cases", json={"signals": [*signals, signals[0]]})
        assert more.status_code in (400, 422)  # items: at most max_signals_per_request
        assert "at most 200 signals" in more.json()["error"]
        match = client.post("/v1/match", json={"type": "pdq", "value": signals[0]["value"]})
        assert match.status_code == 401  # past the size check: no key
        assert client.get("/healthz").status_code == 200


def test_budgets_follow_the_settings(tmp_path: Path) -> None:
    settings = fast_settings("sqlite://", tmp_path, upload_max_bytes=1234)
    assert body_limit(settings, "POST", "/v1/hash") == 1234
    assert body_limit(settings, "POST", "/v1/feedback") == SMALL_MAX_BYTES
    match = SMALL_MAX_BYTES + MATCH_KEYPOINTS_MAX_BYTES  # an upload's 3 keypoint records
    assert body_limit(settings, "POST", "/v1/match") == match
    assert body_limit(settings, "POST", "/worker/admin/assign") == FORM_MAX_BYTES
    assert body_limit(settings, "GET", "/v1/cases") == SMALL_MAX_BYTES
    assert body_limit(settings, "POST", "/v1/cases") > 1000 * 200
