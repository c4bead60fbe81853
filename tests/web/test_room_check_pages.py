"""The room-check pages over HTTP: consent first, tokens, results, evidence, export, isolation.

The browser half (Korean and English, phone first, axe-core, screenshots) is in
``test_room_check_browser.py``.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Iterator

import httpx
import pytest

from tests.web.roomcheck_support import PASSWORD, RoomSite, room_site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RoomSite]:
    with room_site(tmp_path_factory.mktemp("roomcheck-pages")) as made:
        yield made


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no csrf_token field on the page"
    return found.group(1)


def _login(client: httpx.Client, name: str) -> None:
    form = client.get("/worker/login")
    data = {"username": name, "password": PASSWORD, "csrf_token": _token(form.text)}
    client.post("/worker/login", data={**data, "next": "/worker/cases"})


def test_standalone_consent_then_results_then_json(site: RoomSite) -> None:
    with httpx.Client(base_url=site.standalone_url, timeout=60) as client:
        page = client.get("/room-check")
        assert page.status_code == 200
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "권한이 있어요" in page.text and "유심" in page.text  # consent, what it cannot find
        token = _token(page.text)
        before = len(site.net.received)
        forged = client.post("/room-check", data={"consent": "yes", "csrf_token": "x"})
        assert forged.status_code == 403
        unticked = client.post("/room-check", data={"csrf_token": token})
        assert unticked.status_code == 422 and "먼저 표시해 주세요" in unticked.text
        assert len(site.net.received) == before  # nothing was sent without consent
        done = client.post("/room-check", data={"consent": "yes", "csrf_token": token})
        assert done.status_code == 200
        assert done.text.count("verdict--likely") == 5
        assert done.text.count("verdict--unlikely") == 5
        assert "만지지 마세요" in done.text and "112" in done.text
        link = re.search(r'href="(/room-check/[0-9a-f]+\.json)"', done.text)
        assert link
        exported = client.get(link.group(1))
        assert exported.headers["content-type"] == "application/json"
        assert json.loads(exported.content)["counts"]["likely"] == 5


def test_worker_keeps_a_check_under_the_case(site: RoomSite) -> None:
    with httpx.Client(base_url=site.worker_url, timeout=60, follow_redirects=True) as client:
        _login(client, "mina")
        cases = client.get("/worker/cases")
        assert f"/worker/cases/{site.case_id}/room-check" in cases.text
        page = client.get(f"/worker/cases/{site.case_id}/room-check?lang=en")
        assert page.status_code == 200 and site.code in page.text
        token = _token(page.text)
        missing = client.post(
            f"/worker/cases/{site.case_id}/room-check", data={"csrf_token": token}
        )
        assert missing.status_code == 422
        done = client.post(
            f"/worker/cases/{site.case_id}/room-check",
            data={"csrf_token": token, "consent": "yes"},
        )
        assert done.status_code == 200 and "/room-check/" in str(done.url)
        assert "The results were kept as evidence" in done.text
        assert done.text.count("Likely a camera") >= 5
        evidence_id = int(str(done.url).split("/room-check/")[1].split("?")[0])
        exported = client.get(f"/worker/cases/{site.case_id}/room-check/{evidence_id}/export.json")
        data = json.loads(exported.content)
        assert data["counts"] == {"likely": 5, "check": 0, "unlikely": 5}
        assert data["recorded_by"] == "mina"
        result = client.get(f"/worker/cases/{site.case_id}/room-check/{evidence_id}?lang=en")
        assert f"Evidence {evidence_id}" in result.text
        with sqlite3.connect(site.db_path) as conn:
            (payload_sha256,) = conn.execute(
                "select payload_sha256 from evidence_records where id = ?", (evidence_id,)
            ).fetchone()
        assert hashlib.sha256(exported.content).hexdigest() == payload_sha256  # exactly as kept
        listed = client.get(f"/worker/cases/{site.case_id}/room-check?lang=en")
        assert f"/worker/cases/{site.case_id}/room-check/{evidence_id}" in listed.text


def test_another_centers_worker_gets_404_and_sends_nothing(site: RoomSite) -> None:
    with httpx.Client(base_url=site.worker_url, timeout=60, follow_redirects=True) as client:
        _login(client, "jiwoo")
        page = client.get(f"/worker/cases/{site.case_id}/room-check")
        assert page.status_code == 404
        token = _token(client.get("/worker/cases").text)
        before = len(site.net.received)
        post = client.post(
            f"/worker/cases/{site.case_id}/room-check",
            data={"csrf_token": token, "consent": "yes"},
        )
        assert post.status_code == 404
        assert len(site.net.received) == before
        assert (
            client.get(f"/worker/cases/{site.case_id}/room-check/1/export.json").status_code == 404
        )
