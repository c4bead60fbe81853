"""``POST /v1/match`` with an upload's ss-img-1 query signals (issue 14): the recall scans have,
answered once (one answer, one ref, one review hit, one request against the limits)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from stopspread.cli import cli
from stopspread.hashing import hash_image
from stopspread.storage.models import ReviewItem
from tests.conftest import make_services
from tests.scankit import edited_copies, enrol, original
from tests.web.support import api_client, auth, new_client_key

EDITS = ("caption", "border")  # plain PDQ 40-160 bits off; ss-img-1 within 2-10 bits


def _cli_body(path: Path) -> dict[str, Any]:
    """What the reference implementation prints: the body a platform sends."""
    result = CliRunner().invoke(cli, ["hash", "--format", "match", str(path)])
    assert result.exit_code == 0, result.output
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def test_a_signal_set_finds_edited_copies_plain_pdq_misses_answered_once(
    sqlite_url: str, tmp_path: Path
) -> None:
    svc = make_services(sqlite_url, tmp_path)
    enrol(svc, [original(1)], [])
    key = new_client_key(svc.settings)
    copies = edited_copies(1)
    with api_client(svc.settings) as client:
        for name in EDITS:
            path = tmp_path / f"{name}.jpg"
            path.write_bytes(copies[name])
            plain = hash_image(path)
            single = {"type": "pdq", "value": plain.pdq.hex, "quality": plain.quality}
            missed = client.post("/v1/match", json=single, headers=auth(key)).json()
            assert missed == {"match": False, "ref": None}, name
            answer = client.post("/v1/match", json=_cli_body(path), headers=auth(key))
            assert answer.status_code == 200
            assert set(answer.json()) == {"match", "ref"}  # one answer, nothing more
            assert answer.json()["match"] is True and answer.json()["ref"], name
    with svc.db.read() as session:
        hits = [r.hits for r in session.scalars(select(ReviewItem))]
    assert sum(hits) == len(EDITS)  # one hit per request, not one per matching signal
    svc.db.dispose()


def test_a_signal_set_is_one_request_for_the_rate_limit(sqlite_url: str, tmp_path: Path) -> None:
    svc = make_services(sqlite_url, tmp_path, client_burst=2, client_rate_per_s=0.001)
    key = new_client_key(svc.settings)
    path = tmp_path / "copy.jpg"
    path.write_bytes(edited_copies(2)["border"])
    body = _cli_body(path)
    assert len(body["query"]) > 2
    with api_client(svc.settings) as client:
        statuses = [
            client.post("/v1/match", json=body, headers=auth(key)).status_code for _ in range(3)
        ]
    assert statuses == [200, 200, 429]
    svc.db.dispose()


@pytest.mark.parametrize(
    "body",
    [
        {"type": "pdq", "value": "ab" * 32, "signal_set": "ss-img-1"},  # both forms
        {"signal_set": "ss-img-1"},  # no query
        {"query": [{"value": "ab" * 32, "quality": 90}]},  # no signal set
        {"signal_set": "ss-img-9", "query": [{"value": "ab" * 32, "quality": 90}]},
        {"signal_set": "ss-img-1", "query": [{"value": "ab" * 32}]},  # no quality
        {"signal_set": "ss-img-1", "query": [{"value": "ab" * 32, "quality": 90}] * 17},
        {"signal_set": "ss-img-1", "query": [{"value": "zz" * 32, "quality": 90}]},
        {"type": "md5", "value": "ab" * 16, "quality": 90},  # quality is for pdq
        {"type": "pdq", "value": "ab" * 32, "md5": "ab" * 16},  # md5 only with a set
    ],
)
def test_malformed_bodies_are_422_without_echoing_hashes(
    sqlite_url: str, tmp_path: Path, body: dict[str, Any]
) -> None:
    svc = make_services(sqlite_url, tmp_path)
    key = new_client_key(svc.settings)
    with api_client(svc.settings) as client:
        answer = client.post("/v1/match", json=body, headers=auth(key))
    assert answer.status_code == 422, answer.text
    assert set(answer.json()) == {"ok", "error", "status"}
    assert "ab" * 16 not in answer.text and "zz" * 32 not in answer.text
    svc.db.dispose()


def test_the_files_md5_in_a_signal_set_matches_exactly(sqlite_url: str, tmp_path: Path) -> None:
    svc = make_services(sqlite_url, tmp_path)
    enrol(svc, [original(2)], [])  # its ss-img-1 hashes and the file's MD5
    key = new_client_key(svc.settings)
    path = tmp_path / "same.png"
    path.write_bytes(original(2))
    body = _cli_body(path)
    body["query"] = [{"value": "00" * 32, "quality": 100}]  # no PDQ near: only the MD5
    with api_client(svc.settings) as client:
        assert client.post("/v1/match", json=body, headers=auth(key)).json()["match"] is True
        body["md5"] = "0" * 32
        assert client.post("/v1/match", json=body, headers=auth(key)).json()["match"] is False
    svc.db.dispose()
