"""Finding 11 (the rest that is covered here): ``/healthz`` gave anyone the signal count and
change sequence; ``X-Forwarded-For`` was believed from loopback by default; 401/403/429 were
missing from the OpenAPI document. Against real servers on 127.0.0.1.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.conftest import fast_settings
from tests.security.support import served
from tests.web.support import api_client, auth, new_client_key


def test_healthz_is_liveness_only_and_counts_need_a_key(tmp_path: Path) -> None:
    settings = fast_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path)
    key = new_client_key(settings)
    with api_client(settings) as client:
        client.post("/v1/cases", json={"signals": [{"type": "md5", "value": "c" * 32}]})
        assert client.get("/healthz").json() == {"ok": True}
        assert client.get("/v1/status").status_code == 401
        assert client.get("/v1/status", headers=auth("wrong")).status_code == 403
        deadline = time.monotonic() + 5  # the poller applies the enrolment within a second
        counts = client.get("/v1/status", headers=auth(key)).json()
        while counts["change_seq"] < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
            counts = client.get("/v1/status", headers=auth(key)).json()
        assert set(counts) == {"signals", "change_seq"} and counts == {
            "signals": 1,
            "change_seq": 1,
        }


def test_the_openapi_document_lists_every_refusal(tmp_path: Path) -> None:
    settings = fast_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path)
    with api_client(settings) as client:
        spec = client.get("/openapi.json").json()
    wanted = {
        ("post", "/v1/match"): {"401", "403", "413", "422", "429"},
        ("post", "/v1/feedback"): {"401", "403", "404", "422", "429"},
        ("post", "/v1/hash"): {"401", "403", "413", "415", "429"},
        ("get", "/v1/status"): {"401", "403", "429"},
        ("post", "/v1/cases"): {"413", "422", "429"},
        ("post", "/v1/cases/{code}/signals"): {"401", "403", "410", "422", "429"},
        ("get", "/v1/cases/{code}"): {"401", "403", "410", "429"},
        ("post", "/v1/cases/{code}/withdraw"): {"401", "403", "410", "429"},
    }
    for (method, path), codes in wanted.items():
        listed = spec["paths"][path][method]["responses"]
        assert codes <= set(listed), (method, path, codes - set(listed))
        schema = listed["429"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorOut"}


def _statuses(base_url: str) -> list[int]:
    """Three wrong secrets, each claiming another client address."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        return [
            client.get(
                "/v1/cases/AAAA-BBBB-CCCC",
                headers={"X-Case-Secret": "guess", "X-Forwarded-For": f"203.0.113.{i}"},
            ).status_code
            for i in range(3)
        ]


def test_forwarded_addresses_are_believed_only_from_configured_proxies(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    base = fast_settings(url, tmp_path, address_attempts_per_minute=2.0)
    with served(base) as base_url:  # the default: the header is ignored, the limit holds
        assert _statuses(base_url) == [403, 403, 429]
    with served(base.replace(forwarded_allow_ips="127.0.0.1")) as base_url:  # a local proxy
        assert _statuses(base_url) == [403, 403, 403]
