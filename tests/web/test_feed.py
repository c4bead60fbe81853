"""The StopNCII-compatible feed driven by the real python-threatexchange client.

pytx's ``StopNCIIAPI`` (with ``base_url_override``) talks to a real server on 127.0.0.1,
on SQLite and PostgreSQL: paging, checkpoints, incremental fetches, feedback, refusals,
and the tombstones a withdrawal leaves (read from the raw records).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import requests
from threatexchange.exchanges.clients.stopncii.api import (
    StopNCIIAPI,
    StopNCIICSPFeedbackValue,
    StopNCIIEndpoint,
    StopNCIISignalType,
)

from stopspread.services.exchange import feed
from stopspread.storage import Database
from tests.conftest import fast_settings, random_pdq
from tests.web.support import live_server, new_client_key

RNG_SEED = 15


def _pytx(base_url: str, key: str) -> StopNCIIAPI:
    return StopNCIIAPI(
        key,
        key,
        additional_function_keys={
            StopNCIIEndpoint.SubmitFeedback: key,
            StopNCIIEndpoint.SubmitHashes: key,
        },
        base_url_override=f"{base_url}/v1",
    )


def _enrol(client: httpx.Client, signals: list[dict[str, Any]]) -> tuple[str, str]:
    made = client.post("/v1/cases", json={"signals": signals})
    assert made.status_code == 201, made.text
    return made.json()["case_code"], made.json()["secret"]


def _pdq(value: str, quality: int = 90) -> dict[str, Any]:
    return {"type": "pdq", "value": value, "quality": quality}


def _all_records(api: StopNCIIAPI, start: int = StopNCIIAPI.DEFAULT_START_TIME) -> list[Any]:
    out = []
    has_more, token, checkpoint = True, "", start
    while has_more:
        page = api.fetch_hashes(page_size=2, start_timestamp=start, next_page=token)
        assert page.count == len(page.hashRecords) <= 2
        assert page.nextSetTimestamp >= checkpoint  # never decreases
        checkpoint = page.nextSetTimestamp
        out.extend(page.hashRecords)
        has_more, token = page.hasMoreRecords, page.nextPageToken or ""
    return out


def _allow(url: str, name: str) -> None:
    db = Database(url)
    feed.allow(db, name)
    db.dispose()


def test_pytx_pages_resumes_and_fetches_increments(database_url: str, tmp_path: Path) -> None:
    settings = fast_settings(database_url, tmp_path)
    key = new_client_key(settings, "tx-platform")
    _allow(settings.url, "tx-platform")
    rng = np.random.default_rng(RNG_SEED)
    good = [random_pdq(rng) for _ in range(5)]
    low = random_pdq(rng)
    with live_server(settings) as base, httpx.Client(base_url=base) as http:
        video_md5 = {"type": "md5", "value": "c" * 32, "media": "video"}
        code, _ = _enrol(http, [_pdq(v) for v in good[:3]] + [_pdq(low, 60), video_md5])
        _enrol(http, [_pdq(v) for v in good[3:]] + [{"type": "md5", "value": "b" * 32}])
        api = _pytx(base, key)
        first = api.fetch_hashes(page_size=2)
        assert first.count == 2 and first.hasMoreRecords and first.nextPageToken
        records = _all_records(api)
        kinds = {r.hashValue: r.signalType for r in records}
        # no low-quality PDQ, no image MD5; the video's MD5 as VideoMD5
        assert sorted(kinds) == sorted([*good, "c" * 32])
        assert kinds.pop("c" * 32) is StopNCIISignalType.VideoMD5
        assert set(kinds.values()) == {StopNCIISignalType.ImagePDQ}
        assert all(r.hashStatus.value == "Active" for r in records)
        assert all(len(r.caseNumbers) == 1 for r in records)
        assert code not in str(records)
        stamps = [r.lastModtimestamp for r in records]
        assert stamps == sorted(stamps)
        # pytx's own iterator, then a resume from the checkpoint alone (no token)
        every = {r.hashValue for page in api.fetch_hashes_iter() for r in page.hashRecords}
        assert every == {*good, "c" * 32}
        checkpoint = first.nextSetTimestamp
        resumed = {r.hashValue for r in _all_records(api, start=checkpoint)}
        assert set(good[3:]) <= resumed  # inclusive: nothing after the checkpoint is lost
        # incremental: only what changed after the last checkpoint
        last = api.fetch_hashes(page_size=800).nextSetTimestamp
        time.sleep(1.1)
        extra = random_pdq(rng)
        _enrol(http, [_pdq(extra)])
        later = api.fetch_hashes(page_size=800, start_timestamp=last + 1)
        assert [r.hashValue for r in later.hashRecords] == [extra]
        assert later.nextSetTimestamp >= last


def test_withdrawal_tombstones_in_raw_feed(database_url: str, tmp_path: Path) -> None:
    settings = fast_settings(database_url, tmp_path)
    key = new_client_key(settings, "tx-platform")
    _allow(settings.url, "tx-platform")
    rng = np.random.default_rng(RNG_SEED + 1)
    shared, only_a, only_b = (random_pdq(rng) for _ in range(3))
    headers = {"x-functions-key": key, "Ocp-Apim-Subscription-Key": key}
    with live_server(settings) as base, httpx.Client(base_url=base, headers=headers) as http:
        code_a, secret_a = _enrol(http, [_pdq(shared), _pdq(only_a)])
        code_b, _ = _enrol(http, [_pdq(shared), _pdq(only_b)])
        before = http.get("/v1/FetchHashes", params={"startTimestamp": 10}).json()
        assert before["count"] == 3
        checkpoint = before["nextSetTimestamp"]
        time.sleep(1.1)
        gone = http.post(f"/v1/cases/{code_a}/withdraw", headers={"X-Case-Secret": secret_a})
        assert gone.json()["withdrawn"] == 2
        for params in ({"startTimestamp": checkpoint + 1}, {"startTimestamp": 10}):
            raw = http.get("/v1/FetchHashes", params=params).json()
            assert set(raw) >= {"count", "nextSetTimestamp", "hasMoreRecords", "hashRecords"}
            by_value = {r["hashValue"]: r for r in raw["hashRecords"]}
            assert by_value[only_a]["hashStatus"] == "Withdrawn"
            assert by_value[only_a]["caseNumbers"] == {}
            assert by_value[only_a]["lastModtimestamp"] > checkpoint
            assert by_value[shared]["hashStatus"] == "Active"  # case B still holds it
            assert len(by_value[shared]["caseNumbers"]) == 1
            assert code_a not in str(raw) and code_b not in str(raw)
        full = http.get("/v1/FetchHashes", params={"startTimestamp": 10}).json()
        assert {r["hashValue"] for r in full["hashRecords"]} == {shared, only_a, only_b}


def test_feedback_reaches_the_case_and_submit_hashes_is_refused(
    database_url: str, tmp_path: Path
) -> None:
    settings = fast_settings(database_url, tmp_path)
    key = new_client_key(settings, "tx-platform")
    _allow(settings.url, "tx-platform")
    rng = np.random.default_rng(RNG_SEED + 2)
    values = [random_pdq(rng) for _ in range(2)]
    with live_server(settings) as base, httpx.Client(base_url=base) as http:
        code, secret = _enrol(http, [_pdq(v) for v in values])
        api = _pytx(base, key)
        api.submit_feedback(
            StopNCIISignalType.ImagePDQ, values[0], StopNCIICSPFeedbackValue.Blocked
        )
        api.submit_feedback(
            StopNCIISignalType.ImagePDQ, values[1], StopNCIICSPFeedbackValue.NotBlocked
        )
        status = http.get(f"/v1/cases/{code}", headers={"X-Case-Secret": secret}).json()
        assert status["feedback_confirmed"] == 1
        assert status["feedback_not_ncii"] == 1
        with pytest.raises(requests.HTTPError) as refused:
            api.submit_hash(StopNCIISignalType.ImagePDQ, random_pdq(rng))
        assert refused.value.response.status_code == 403
        page = api.fetch_hashes()
        assert all(r.CSPFeedbacks == [] for r in page.hashRecords)


def test_feed_needs_a_key_and_the_opt_in(sqlite_url: str, tmp_path: Path) -> None:
    settings = fast_settings(sqlite_url, tmp_path)
    key = new_client_key(settings, "not-allowed")
    with live_server(settings) as base, httpx.Client(base_url=base) as http:
        assert http.get("/v1/FetchHashes").status_code == 401
        assert http.get("/v1/FetchHashes", headers={"x-functions-key": "nope"}).status_code == 403
        refused = http.get("/v1/FetchHashes", headers={"x-functions-key": key})
        assert refused.status_code == 403
        assert "allowed" in refused.json()["error"]
        _allow(settings.url, "not-allowed")
        ok = http.get("/v1/FetchHashes", headers={"Ocp-Apim-Subscription-Key": key})
        assert ok.status_code == 200
        assert ok.json() == {
            "count": 0,
            "nextPageToken": None,
            "nextSetTimestamp": 0,
            "hasMoreRecords": False,
            "hashRecords": [],
        }
        forged = http.get(
            "/v1/FetchHashes", params={"nextPageToken": "MTAuMTAuYWJj"},
            headers={"x-functions-key": key},
        )  # fmt: skip
        assert forged.status_code == 422
