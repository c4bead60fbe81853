"""End to end: a local website hides edited copies of a case's images and a re-encoded copy of
its video among unrelated images; a support worker starts a scan from her page; exactly the
copies become sightings with encrypted WARC evidence; the review page lists them with blurred
previews; the site takes one down (404) and the next scan marks it removed; the site puts it
back at a new URL and the next scan flags a re-upload.

Everything is local: the site is ``http.server`` on 127.0.0.1 port 0, the service is uvicorn
on 127.0.0.1 port 0, and the fetcher allows loopback only for this test.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from PIL import Image
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from stopspread.config import Settings
from stopspread.services.context import Services
from stopspread.services.custody import EvidenceStore, verify_evidence
from stopspread.services.workers import accounts
from stopspread.storage.models_scan import MatchKind, Sighting
from stopspread.storage.models_worker import EvidenceRecord, WorkerRole
from tests.conftest import TESTDATA, fast_settings, make_services
from tests.scankit import VIDEO, Planted, enrol, original, plant_site, reencode_video
from tests.sources.site import LocalSite, local_site
from tests.web.support import live_server
from tests.web.test_worker_pages import login

SEEDS = (1, 2)
PASSWORD = "correct horse battery staple 42"
SCAN_TIMEOUT_S = 180


@dataclass
class World:
    svc: Services
    settings: Settings
    base_url: str
    site: LocalSite
    planted: Planted
    case_id: int


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("scan-e2e")
    url = f"sqlite:///{tmp / 'db.sqlite'}"
    changes = {
        "fetch_allow_loopback": True,
        "fetch_host_interval_s": 0.0,
        "scan_scheduler_interval_s": 3600.0,  # the thread runs; the "scan now" button wakes it
    }
    svc = make_services(url, tmp, **changes)
    video_path = TESTDATA / VIDEO
    code, case_id = enrol(svc, [original(s) for s in SEEDS], [video_path])
    for center, name in (("Seoul Center", "mina"), ("Busan Center", "jiwoo")):
        accounts.create_center(svc, center)
        accounts.create_worker(svc, center, name, PASSWORD, WorkerRole.WORKER)
    accounts.assign_case(svc, code, "Seoul Center")
    settings = fast_settings(url, tmp, **changes)
    with local_site() as site, live_server(settings) as base_url:
        planted = plant_site(site, SEEDS, reencode_video(video_path))
        yield World(svc, settings, base_url, site, planted, case_id)
    svc.db.dispose()


def token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no csrf_token on the page"
    return found.group(1)


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=world.base_url, timeout=30) as c:
        assert login(c, "mina", PASSWORD).status_code == 303
        yield c


def run_scan_from_page(client: httpx.Client) -> dict[str, object]:
    """Press "scan now" for the case's only source and wait for the scan to end."""
    page = client.get("/worker/scans")
    action = re.search(r'action="(/worker/scans/sources/\d+/run)"', page.text)
    assert action, "no scan-now button"
    started = client.post(action.group(1), data={"csrf_token": token(page.text)})
    assert started.status_code == 303
    scan_url = started.headers["location"]
    deadline = time.monotonic() + SCAN_TIMEOUT_S
    while True:
        progress = client.get(f"{scan_url}/progress.json")
        assert progress.status_code == 200
        data = progress.json()
        if not data["active"]:
            break
        assert time.monotonic() < deadline, "the scan did not finish"
        time.sleep(0.2)
    assert data["status"] == "done", data
    shown = client.get(scan_url)
    assert shown.status_code == 200 and 'data-count="hits"' in shown.text
    return data


def sightings(world: World) -> list[Sighting]:
    with world.svc.db.read() as session:
        query = select(Sighting).where(Sighting.case_id == world.case_id).order_by(Sighting.id)
        return list(session.scalars(query))


def test_1_worker_adds_a_crawl_source(world: World, client: httpx.Client) -> None:
    page = client.get("/worker/scans")
    assert page.status_code == 200 and "출처 추가" in page.text
    form = {
        "csrf_token": token(page.text),
        "case_id": str(world.case_id),
        "kind": "crawl",
        "target": world.site.url("/"),
        "depth": "2",
        "every": "",
    }
    refused = client.post("/worker/scans/sources", data={**form, "target": "http://10.0.0.1/"})
    assert refused.status_code == 422 and "내부 주소" in refused.text
    assert client.post("/worker/scans/sources", data=form).status_code == 303
    assert world.site.url("/") in client.get("/worker/scans").text


def test_2_scan_finds_exactly_the_planted_copies_with_evidence(
    world: World, client: httpx.Client
) -> None:
    data = run_scan_from_page(client)
    found = sightings(world)
    assert sorted(s.media_url for s in found) == sorted(world.planted.copies.values())
    assert data["counts"]["new_sightings"] == len(world.planted.copies)  # type: ignore[index]
    kinds = {s.media_url: s.match_kind for s in found}
    assert kinds[world.planted.copies["video"]] is MatchKind.VIDEO
    store = EvidenceStore.from_settings(world.settings, world.svc.db)
    with world.svc.db.read() as session:
        for sighting in found:
            media = session.get(EvidenceRecord, sighting.media_evidence_id)
            assert media is not None
            records = ArchiveIterator(io.BytesIO(store.open_warc(media)))
            record = next(r for r in records if r.rec_type == "response")
            assert record.rec_headers.get_header("WARC-Target-URI") == sighting.media_url
            body = record.content_stream().read()
            route = world.site.routes[sighting.media_url.removeprefix(world.site.base_url)]
            assert body == route.body  # type: ignore[union-attr]
            assert sighting.page_evidence_id is not None
    assert verify_evidence(world.svc.db, store).ok


def test_3_review_page_lists_them_with_blurred_previews(world: World, client: httpx.Client) -> None:
    page = client.get(f"/worker/review?case={world.case_id}")
    assert page.status_code == 200
    for sighting in sightings(world):
        assert sighting.media_url in page.text
        assert f"/worker/evidence/{sighting.media_evidence_id}/preview.png" in page.text
    first = sightings(world)[0]
    preview = client.get(f"/worker/evidence/{first.media_evidence_id}/preview.png")
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(preview.content)).convert("RGB")
    channels = image.split()
    assert channels[0].tobytes() == channels[1].tobytes() == channels[2].tobytes()  # greyscale


def test_4_another_center_sees_none_of_it(world: World) -> None:
    with httpx.Client(base_url=world.base_url, timeout=30) as other:
        assert login(other, "jiwoo", PASSWORD).status_code == 303
        page = other.get("/worker/scans")
        assert world.site.url("/") not in page.text
        assert other.get("/worker/scans/1").status_code == 404
        assert other.get("/worker/scans/1/progress.json").status_code == 404
        run = other.post("/worker/scans/sources/1/run", data={"csrf_token": token(page.text)})
        assert run.status_code == 404


def test_5_removed_then_reuploaded_at_a_new_url(world: World, client: httpx.Client) -> None:
    site, gone_url = world.site, world.planted.copies["2-caption"]
    gone_path = gone_url.removeprefix(site.base_url)
    body = site.routes.pop(gone_path)
    data = run_scan_from_page(client)
    assert data["counts"]["removed"] == 1  # type: ignore[index]
    removed = next(s for s in sightings(world) if s.media_url == gone_url)
    assert removed.removed_at is not None

    site.routes["/media/reposted.jpg"] = body
    site.html("/page/3", '<img src="/media/reposted.jpg" alt="">')
    home = site.routes["/"]
    site.html("/", home.body.decode() + '<a href="/page/3">3</a>')  # type: ignore[union-attr]
    data = run_scan_from_page(client)
    assert data["counts"]["reuploads"] == 1  # type: ignore[index]
    back = sightings(world)[-1]
    assert back.media_url == site.url("/media/reposted.jpg")
    assert (back.reupload, back.reupload_of) == (True, removed.id)
    review = client.get(f"/worker/review?case={world.case_id}")
    assert site.url("/media/reposted.jpg") in review.text


def test_6_scan_pages_need_a_session_and_the_form_token(world: World, client: httpx.Client) -> None:
    with httpx.Client(base_url=world.base_url, timeout=30) as anonymous:
        for path in ("/worker/scans", "/worker/scans/1", "/worker/scans/1/progress.json"):
            answer = anonymous.get(path)
            assert answer.status_code == 303
            assert answer.headers["location"].startswith("/worker/login?next=")
    form = {"case_id": str(world.case_id), "kind": "crawl", "target": world.site.url("/")}
    assert client.post("/worker/scans/sources", data=form).status_code == 403
    assert (
        client.post("/worker/scans/sources/1/run", data={"csrf_token": "wrong"}).status_code == 403
    )
    assert client.post("/worker/scans/1/cancel", data={}).status_code == 403
