"""``POST /v1/match`` and ``/v1/hash`` with an upload's ss-kp-1 keypoints (issue 14): a crop
or a screenshot the hashes miss is found by shape points, answered once with the same
contract; another photo is not; a withdrawn case never matches again; a bad record is 422."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import select

from stopspread.cli import cli
from stopspread.hashing import enrolment_hashes
from stopspread.hashing.keypoints import extract_keypoints
from stopspread.services.cases import create_case, withdraw
from stopspread.services.context import Services
from stopspread.services.keypoint_records import KeypointIn
from stopspread.services.scans.queue import case_id_for_code
from stopspread.services.signal_input import SignalIn, SignalType
from stopspread.services.workers.accounts import assign_case, create_center, create_worker
from stopspread.storage.models import ReviewItem
from stopspread.storage.models_worker import WorkerRole
from stopspread.web import create_app
from tests.conftest import make_services
from tests.hashing.test_keypoints import scene
from tests.services.review_seed import PASSWORD
from tests.web.support import auth, new_client_key, serve
from tests.web.test_worker_pages import login

SIZE = (1200, 900)


def _jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=85)
    return buf.getvalue()


def crop80(photo: Image.Image) -> bytes:
    """80 % of each side, off centre."""
    w, h = photo.size
    left, top = int(w * 0.15), int(h * 0.05)
    return _jpeg(photo.crop((left, top, left + int(w * 0.8), top + int(h * 0.8))))


def screenshot(photo: Image.Image) -> bytes:
    """A chat app's screenshot: the photo, cut to 85 % of each side as the app shows it,
    at 80 % of a phone screen's width between a status bar and a chat bar."""
    frame = Image.new("RGB", (750, 1334), (245, 245, 245))
    frame.paste(Image.new("RGB", (750, 90), (30, 30, 30)), (0, 0))
    frame.paste(Image.new("RGB", (750, 120), (220, 220, 225)), (0, 1214))
    w, h = photo.size
    shown = photo.crop((int(w * 0.05), int(h * 0.1), int(w * 0.9), int(h * 0.95)))
    shown = shown.resize((600, round(600 * shown.height / shown.width)))
    frame.paste(shown, (75, 420))
    return _jpeg(frame)


def enrol_photo(svc: Services, photo: Image.Image, center: str | None = None) -> int:
    """A case holding the photo's ss-img-1 enrolment hashes and its keypoint record."""
    body = _jpeg(photo)
    hashes = enrolment_hashes(body)
    signals = [SignalIn(SignalType.PDQ, h.hash.hex, h.quality) for h in hashes]
    record = KeypointIn(extract_keypoints(Image.open(io.BytesIO(body))), hashes[0].hash.hex)
    new = create_case(svc, signals, keypoints=[record])
    if center is not None:
        assign_case(svc, new.code, center)
    return case_id_for_code(svc.db, new.code)


def cli_body(tmp_path: Path, name: str, data: bytes, *options: str) -> dict[str, Any]:
    """What the reference implementation prints for one upload."""
    path = tmp_path / name
    path.write_bytes(data)
    result = CliRunner().invoke(cli, ["hash", "--format", "match", *options, str(path)])
    assert result.exit_code == 0, result.output
    body: dict[str, Any] = json.loads(result.stdout)
    return body


@dataclass
class Server:
    client: httpx.Client
    svc: Services
    app: Any
    key: str
    hash_key: str


@pytest.fixture
def server(sqlite_url: str, tmp_path: Path) -> Iterator[Server]:
    svc = make_services(sqlite_url, tmp_path)
    key = new_client_key(svc.settings)
    hash_key = new_client_key(svc.settings, "hasher", can_hash=True)
    app = create_app(svc.settings)
    with serve(app) as base, httpx.Client(base_url=base, timeout=60) as client:
        yield Server(client, svc, app, key, hash_key)
    svc.db.dispose()


def _sync(server: Server) -> None:
    """The poller's next round, now (enrolments and withdrawals reach the bank)."""
    server.app.state.poller.poll_once()


def test_a_crop_and_a_screenshot_are_found_by_shape_points_only(
    server: Server, tmp_path: Path
) -> None:
    create_center(server.svc, "서울 지원센터")
    create_worker(server.svc, "서울 지원센터", "kim", PASSWORD, WorkerRole.WORKER)
    photo = scene(41, SIZE)
    enrol_photo(server.svc, photo, "서울 지원센터")
    enrol_photo(server.svc, scene(42, SIZE))  # another photo in the bank
    _sync(server)
    assert len(server.app.state.keypoint_bank) == 2
    for name, copy in (("crop.jpg", crop80(photo)), ("shot.jpg", screenshot(photo))):
        hashes_only = cli_body(tmp_path, name, copy, "--no-keypoints")
        assert "keypoints" not in hashes_only
        missed = server.client.post("/v1/match", json=hashes_only, headers=auth(server.key))
        assert missed.json() == {"match": False, "ref": None}, name
        body = cli_body(tmp_path, name, copy)
        assert 2 <= len(body["keypoints"]) <= 3
        found = server.client.post("/v1/match", json=body, headers=auth(server.key))
        assert found.status_code == 200
        assert set(found.json()) == {"match", "ref"}, name  # nothing more: no score, no points
        assert found.json()["match"] is True and found.json()["ref"], name
    server.app.state.match_journal.catch_up()
    with server.svc.db.read() as session:
        reviews = list(session.scalars(select(ReviewItem)))
    assert [r.hits for r in reviews] == [2]  # one review of her photo, a person decides
    assert reviews[0].shape_points is True  # marked: found by shape points, less certain
    login(server.client, "kim")
    korean = server.client.get("/worker/matches?lang=ko").text
    english = server.client.get("/worker/matches?lang=en").text
    assert "특징점 일치 (덜 확실함)" in korean and "지문(해시) 일치보다 덜 확실해요" in korean
    assert "Shape points" not in korean
    assert "Shape points match (less certain)" in english
    assert 'value="confirm"' in korean  # a person decides, as for every match


def test_another_photo_does_not_match_and_a_withdrawn_one_never_again(
    server: Server, tmp_path: Path
) -> None:
    photo = scene(43, SIZE)
    case_id = enrol_photo(server.svc, photo)
    _sync(server)
    other = cli_body(tmp_path, "other.jpg", crop80(scene(44, SIZE)))
    answer = server.client.post("/v1/match", json=other, headers=auth(server.key))
    assert answer.json() == {"match": False, "ref": None}
    body = cli_body(tmp_path, "crop.jpg", crop80(photo))
    assert server.client.post("/v1/match", json=body, headers=auth(server.key)).json()["match"]
    server.app.state.match_journal.catch_up()
    with server.svc.db.read() as session:
        assert [r.shape_points for r in session.scalars(select(ReviewItem))] == [True]
    same = cli_body(tmp_path, "same.jpg", _jpeg(photo))  # the hashes match now
    assert server.client.post("/v1/match", json=same, headers=auth(server.key)).json()["match"]
    server.app.state.match_journal.catch_up()
    with server.svc.db.read() as session:
        [review] = session.scalars(select(ReviewItem))
    assert (review.hits, review.shape_points) == (2, False)  # a hash hit: no longer less certain
    withdraw(server.svc, case_id)
    _sync(server)
    assert len(server.app.state.keypoint_bank) == 0
    again = server.client.post("/v1/match", json=body, headers=auth(server.key))
    assert again.json() == {"match": False, "ref": None}


def test_v1_hash_computes_the_keypoints_too(server: Server) -> None:
    photo = scene(45, SIZE)
    enrol_photo(server.svc, photo)
    _sync(server)
    answer = server.client.post(
        "/v1/hash",
        content=screenshot(photo),
        headers={**auth(server.hash_key), "Content-Type": "application/octet-stream"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["match"] is True and answer.json()["ref"]


def _record(seed: int) -> str:
    return base64.b64encode(extract_keypoints(scene(seed)).to_bytes()).decode("ascii")


@pytest.mark.parametrize(
    ("keypoints", "why"),
    [
        (["not base64 at all!"], "keypoints[1]: data is not base64"),
        ([base64.b64encode(b"\x01" * 40).decode()], "keypoints[1]: not an ss-kp-1"),
        (["QUJD" * 6000], "at most 21848 characters"),
        ([], "at least 1 item"),
        (["QUJDREVG" * 2] * 6, "at most 5 items"),
    ],
)
def test_a_bad_record_is_refused_with_a_clear_message(
    server: Server, tmp_path: Path, keypoints: list[str], why: str
) -> None:
    body = cli_body(tmp_path, "photo.jpg", _jpeg(scene(46, SIZE)), "--no-keypoints")
    body["keypoints"] = keypoints
    answer = server.client.post("/v1/match", json=body, headers=auth(server.key))
    assert answer.status_code == 422, answer.text
    assert why in answer.text
    single = {"type": "pdq", "value": body["query"][0]["value"], "keypoints": [_record(1)]}
    answer = server.client.post("/v1/match", json=single, headers=auth(server.key))
    assert answer.status_code == 422  # keypoints only with a signal set
