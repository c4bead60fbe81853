"""Enrolment with keypoint records (``ss-kp-1``) through the survivor API (issue 14): an
optional field, checked strictly (422 with what is wrong); a browser without it still works."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from stopspread.hashing.keypoints import extract_keypoints
from tests.conftest import fast_settings
from tests.hashing.test_keypoints import scene
from tests.web.support import api_client

PDQ = "0f" * 32
SIGNALS = [{"type": "pdq", "value": PDQ, "quality": 90}]


def _record(seed: int) -> str:
    return base64.b64encode(extract_keypoints(scene(seed)).to_bytes()).decode("ascii")


def _error(answer: httpx.Response) -> str:
    assert answer.status_code == 422, answer.text
    return str(answer.json())


def test_keypoints_are_optional_and_checked(sqlite_url: str, tmp_path: Path) -> None:
    settings = fast_settings(sqlite_url, tmp_path)
    with api_client(settings) as client:
        plain = client.post("/v1/cases", json={"signals": SIGNALS})
        assert plain.status_code == 201  # a browser that computes no keypoints
        body = {"signals": SIGNALS, "keypoints": [{"data": _record(1), "pdq": PDQ}]}
        created = client.post("/v1/cases", json=body)
        assert created.status_code == 201, created.text
        new = created.json()
        more = {
            "signals": [{"type": "md5", "value": "c" * 32}],
            "keypoints": [{"data": _record(2)}],
        }
        url = f"/v1/cases/{new['case_code']}/signals"
        added = client.post(url, json=more, headers={"X-Case-Secret": new["secret"]})
        assert added.json() == {"added": 1}


@pytest.mark.parametrize(
    ("keypoints", "why"),
    [
        ([{"data": "not base64 at all!"}], "keypoints[1]: data is not base64"),
        ([{"data": base64.b64encode(b"\x01" * 40).decode()}], "not an ss-kp-1 keypoint record"),
        ([{"data": "QUJD" * 6000}], "at most 21848 characters"),
        ([{"data": _record(4), "pdq": "zz" * 32}], "keypoints[1]: pdq is not a PDQ hash"),
        ([{"data": "QUJD" * 4, "extra": 1}], "Extra inputs are not permitted"),
    ],
)
def test_a_bad_record_is_refused_with_a_clear_message(
    sqlite_url: str, tmp_path: Path, keypoints: list[dict[str, object]], why: str
) -> None:
    settings = fast_settings(sqlite_url, tmp_path)
    with api_client(settings) as client:
        answer = client.post("/v1/cases", json={"signals": SIGNALS, "keypoints": keypoints})
        assert why in _error(answer)


def test_more_than_20_records_are_refused(sqlite_url: str, tmp_path: Path) -> None:
    settings = fast_settings(sqlite_url, tmp_path)
    one = {"data": _record(3)}
    with api_client(settings) as client:
        answer = client.post("/v1/cases", json={"signals": SIGNALS, "keypoints": [one] * 21})
        assert "at most 20 items" in _error(answer)
        fits = client.post("/v1/cases", json={"signals": SIGNALS, "keypoints": [one] * 20})
        assert fits.status_code == 201  # within the request's byte budget too
