"""The HTTP API end to end (in process), on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from stopspread.hashing.pdq import PdqHash
from tests.conftest import fast_settings, flip_bits, random_pdq
from tests.web.support import api_client, auth, new_client_key, pdq_body

# every database here is used through services: a migrated copy (tests/dbtemplate.py)
pytestmark = pytest.mark.usefixtures("migrated_database")


def _eventually_matches(client, key: str, value: str, expected: bool) -> bool:  # type: ignore[no-untyped-def]
    """Ask until the answer is ``expected``: the other process's poller runs every 0.25 s;
    the 60 s only keeps a hung server from hanging the suite (no wall-clock promise)."""
    deadline = time.monotonic() + 60.0
    while time.monotonic() < deadline:
        if (
            client.post("/v1/match", json=pdq_body(value), headers=auth(key)).json()["match"]
            is expected
        ):
            return True
        time.sleep(0.02)
    return False


def test_enrol_match_feedback_withdraw(database_url: str, tmp_path: Path) -> None:
    settings = fast_settings(database_url, tmp_path)
    key = new_client_key(settings)
    rng = np.random.default_rng(7)
    value = random_pdq(rng)
    with api_client(settings) as client:
        created = client.post(
            "/v1/cases", json={"signals": [{"type": "pdq", "value": value, "quality": 88}]}
        )
        assert created.status_code == 201
        code, secret = created.json()["case_code"], created.json()["secret"]
        near, far = flip_bits(value, 29, rng), flip_bits(value, 30, rng)  # 29-bit policy
        assert _eventually_matches(client, key, near, True)  # live within 1 s
        hit = client.post("/v1/match", json=pdq_body(near), headers=auth(key)).json()
        assert set(hit) == {"match", "ref"}  # never a distance, bank or case
        assert hit["match"] is True
        assert client.post("/v1/match", json=pdq_body(far), headers=auth(key)).json() == {
            "match": False,
            "ref": None,
        }
        fb = client.post(
            "/v1/feedback", json={"ref": hit["ref"], "verdict": "confirmed"}, headers=auth(key)
        )
        assert fb.json() == {"ok": True}
        status = client.get(f"/v1/cases/{code}", headers={"X-Case-Secret": secret}).json()
        assert status["signals"] == 1
        assert status["matches"] == 1  # one platform match (one ref), however many hits
        assert status["reviews_open"] == 1
        assert status["feedback_confirmed"] == 1
        assert value not in str(status)
        gone = client.post(f"/v1/cases/{code}/withdraw", headers={"X-Case-Secret": secret})
        assert gone.json()["withdrawn"] == 1
        assert (
            client.post("/v1/match", json=pdq_body(value), headers=auth(key)).json()["match"]
            is False
        )
        again = client.get(f"/v1/cases/{code}", headers={"X-Case-Secret": secret})
        assert again.status_code == 403


def test_add_signals_needs_the_secret(sqlite_url: str, tmp_path: Path) -> None:
    settings = fast_settings(sqlite_url, tmp_path)
    with api_client(settings) as client:
        new = client.post(
            "/v1/cases", json={"signals": [{"type": "md5", "value": "a" * 32}]}
        ).json()
        body = {"signals": [{"type": "md5", "value": "b" * 32}]}
        url = f"/v1/cases/{new['case_code']}/signals"
        assert client.post(url, json=body).status_code == 401
        assert client.post(url, json=body, headers={"X-Case-Secret": "nope"}).status_code == 403
        ok = client.post(url, json=body, headers={"X-Case-Secret": new["secret"]})
        assert ok.json() == {"added": 1}


def test_platform_calls_need_a_valid_key(sqlite_url: str, tmp_path: Path) -> None:
    settings = fast_settings(sqlite_url, tmp_path)
    key = new_client_key(settings)
    body = pdq_body("0" * 64)
    with api_client(settings) as client:
        for path in ("/v1/match", "/v1/feedback", "/v1/hash"):
            missing = client.post(path, json=body)
            assert missing.status_code == 401
            assert missing.json()["ok"] is False
            assert client.post(path, json=body, headers=auth(key + "x")).status_code == 403
            assert client.post(path, json=body, headers={"Authorization": key}).status_code == 401
        assert (
            client.post("/v1/hash", content=b"x", headers=auth(key)).status_code == 403
        )  # not opted in


def test_secret_guessing_is_rate_limited_over_http(sqlite_url: str, tmp_path: Path) -> None:
    settings = fast_settings(sqlite_url, tmp_path, case_attempts_per_minute=5.0)
    with api_client(settings) as client:
        new = client.post(
            "/v1/cases", json={"signals": [{"type": "md5", "value": "a" * 32}]}
        ).json()
        url = f"/v1/cases/{new['case_code']}"
        codes = [
            client.get(url, headers={"X-Case-Secret": f"guess-{i}"}).status_code for i in range(8)
        ]
        assert codes == [403] * 5 + [429] * 3
        limited = client.get(url, headers={"X-Case-Secret": "guess-9"})
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.json() == {
            "ok": False,
            "error": "too many wrong attempts for this case code",
            "status": 429,
        }
        mine = client.get(url, headers={"X-Case-Secret": new["secret"]})
        assert mine.status_code == 200  # the right secret is never locked out


def test_per_key_rate_limit(sqlite_url: str, tmp_path: Path) -> None:
    settings = fast_settings(sqlite_url, tmp_path, client_rate_per_s=0.001, client_burst=3)
    key = new_client_key(settings)
    with api_client(settings) as client:
        codes = [
            client.post("/v1/match", json=pdq_body("0" * 64), headers=auth(key)).status_code
            for _ in range(5)
        ]
    assert codes == [200, 200, 200, 429, 429]


def test_daily_quota(sqlite_url: str, tmp_path: Path) -> None:
    settings = fast_settings(sqlite_url, tmp_path, client_daily_quota=2)
    key = new_client_key(settings)
    with api_client(settings) as client:
        codes = [
            client.post("/v1/match", json=pdq_body("0" * 64), headers=auth(key)).status_code
            for _ in range(3)
        ]
    assert codes == [200, 200, 429]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("get", "/nowhere", None, 404),
        ("get", "/v1/match", None, 405),
        ("post", "/v1/cases", {"signals": []}, 422),
        ("post", "/v1/cases", {"signals": [{"type": "pdq", "value": "g" * 64}]}, 422),
        ("post", "/v1/cases", {"signals": [{"type": "sha1", "value": "a" * 40}]}, 422),
        ("post", "/v1/cases", "not json", 422),
    ],
)
def test_one_error_shape(
    sqlite_url: str, tmp_path: Path, method: str, path: str, body: object, status: int
) -> None:
    with api_client(fast_settings(sqlite_url, tmp_path)) as client:
        response = (
            client.request(method, path, json=body)
            if not isinstance(body, str)
            else client.request(method, path, content=body)
        )
    assert response.status_code == status
    payload = response.json()
    assert set(payload) == {"ok", "error", "status"}
    assert payload["ok"] is False
    assert payload["status"] == status
    assert "g" * 64 not in payload["error"]  # never echo a hash back


def test_match_body_errors_take_the_same_shape(sqlite_url: str, tmp_path: Path) -> None:
    settings = fast_settings(sqlite_url, tmp_path)
    key = new_client_key(settings)
    secret_ish = "q" * 64
    with api_client(settings) as client:
        for body in (
            b"not json",
            b'{"type":"pdq"}',
            b'{"type":"pdq","value":"' + secret_ish.encode() + b'"}',
        ):
            response = client.post("/v1/match", content=body, headers=auth(key))
            assert response.status_code == 422
            assert set(response.json()) == {"ok", "error", "status"}
            assert secret_ish not in response.text


def test_health_and_openapi(sqlite_url: str, tmp_path: Path) -> None:
    with api_client(fast_settings(sqlite_url, tmp_path)) as client:
        assert client.get("/healthz").json()["ok"] is True
        assert client.get("/docs").status_code == 200
        spec = client.get("/openapi.json").json()
    assert {"/v1/match", "/v1/feedback", "/v1/hash", "/v1/cases", "/healthz"} <= set(spec["paths"])
    match_out = spec["components"]["schemas"]["MatchOut"]["properties"]
    assert set(match_out) == {"match", "ref"}
    match_in = spec["paths"]["/v1/match"]["post"]["requestBody"]["content"]["application/json"]
    assert set(match_in["schema"]["properties"]) == {
        "type",
        "value",
        "quality",
        "signal_set",
        "query",
        "md5",
        "keypoints",  # the upload's ss-kp-1 query records (issue 14)
    }


def test_hash_endpoint_hashes_and_matches(
    sqlite_url: str, tmp_path: Path, jpeg_bytes: bytes
) -> None:
    from stopspread.hashing import hash_image
    from tests.scankit import shapes

    good = shapes(11)  # quality >= 50; jpeg_bytes' synthetic picture is under (48)
    settings = fast_settings(sqlite_url, tmp_path, upload_max_bytes=max(len(jpeg_bytes), len(good)))
    key = new_client_key(settings, can_hash=True)
    expected, low = hash_image(good), hash_image(jpeg_bytes)
    assert expected.quality >= 50 > low.quality
    with api_client(settings) as client:
        for value in (expected.pdq.hex, low.pdq.hex):
            client.post("/v1/cases", json={"signals": [{"type": "pdq", "value": value}]})
        time.sleep(0.2)
        headers = auth(key) | {"Content-Type": "image/jpeg"}
        out = client.post("/v1/hash", content=good, headers=headers).json()
        assert out["pdq"] == expected.pdq.hex
        assert out["match"] is True
        # the match policy's query floor: an upload of quality under 50 is not looked up
        out = client.post("/v1/hash", content=jpeg_bytes, headers=headers).json()
        # a colour JPEG is hashed from libjpeg's grey (Y) decode: the reference's plain PDQ
        # to within rounding (docs/hashing.md, "Every query signal from one decode")
        answered = PdqHash.from_hex(out["pdq"])
        assert answered.distance(low.pdq) <= 4
        assert abs(out["quality"] - low.quality) <= 2
        assert out["quality"] < 50
        assert out["match"] is False
        big = max(jpeg_bytes, good, key=len)
        too_big = client.post("/v1/hash", content=big + b"x", headers=auth(key))
        assert too_big.status_code == 413
        junk = client.post("/v1/hash", content=b"not an image", headers=auth(key))
        assert junk.status_code == 415
        assert junk.json()["ok"] is False


def test_two_servers_on_one_database_agree_after_a_poll(sqlite_url: str, tmp_path: Path) -> None:
    """Two app instances (as two worker processes) share one database and stay consistent."""
    from tests.web.support import live_server

    settings = fast_settings(sqlite_url, tmp_path, index_poll_interval_s=0.25)
    key = new_client_key(settings)
    value = random_pdq(np.random.default_rng(9))
    with live_server(settings) as one, live_server(settings) as two:
        new = httpx.post(
            f"{one}/v1/cases", json={"signals": [{"type": "pdq", "value": value}]}
        ).json()
        with httpx.Client(base_url=two) as other:
            assert _eventually_matches(other, key, value, True)
            httpx.post(
                f"{one}/v1/cases/{new['case_code']}/withdraw",
                headers={"X-Case-Secret": new["secret"]},
            )
            assert _eventually_matches(other, key, value, False)


def test_ready_from_a_snapshot_and_the_change_log(sqlite_url: str, tmp_path: Path) -> None:
    """/healthz says alive; /readyz says ready once the snapshot is mapped and the log replayed."""
    from stopspread.config import IndexKind
    from stopspread.services import cases
    from stopspread.services.signal_input import parse_signal
    from stopspread.services.snapshots import SnapshotStore, SnapshotWriter
    from tests.conftest import make_services

    settings = fast_settings(sqlite_url, tmp_path, index_kind=IndexKind.MIH)
    svc = make_services(sqlite_url, tmp_path, index_kind=IndexKind.MIH)
    rng = np.random.default_rng(19)
    before, after = random_pdq(rng), random_pdq(rng)
    cases.create_case(svc, [parse_signal("pdq", before)])
    svc.replica.sync()
    quality, cloak = svc.policy.pdq.min_enrolled_quality, svc.replica.cloak_id
    store = SnapshotStore(settings.snapshot_dir, quality, cloak)
    assert SnapshotWriter(store, svc.replica.capture, 600.0).write_once() is not None
    cases.create_case(svc, [parse_signal("pdq", after)])  # only in the change log
    svc.db.dispose()
    key = new_client_key(settings)
    with api_client(settings) as client:
        assert client.get("/healthz").json()["ok"] is True
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"ok": True, "ready": True, "index_source": "snapshot"}
        for value in (before, after):
            hit = client.post("/v1/match", json=pdq_body(value), headers=auth(key))
            assert hit.json()["match"] is True
