"""Issue 16: a support center's day, end to end on SQLite and PostgreSQL, with one set of numbers.

case → a scan finds three edited copies of one photo (one scan: copies, not re-uploads) →
decisions → a notice sent to the SMTP sink → the host removes it → it comes back elsewhere (one
re-upload, linked to the first item) → a platform's ``/v1/match`` hit reviewed on
``/worker/matches``, its decision read back with ``GET /v1/feedback/{ref}``. At every step the
worker's dashboard, the survivor's status and the report's numbers are the same.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stopspread.config import SmtpSecurity
from stopspread.hashing import enrolment_hashes
from stopspread.languages import Language
from stopspread.services import platform
from stopspread.services.case_report import build_report
from stopspread.services.cases import case_status
from stopspread.services.context import Services
from stopspread.services.removal.dashboard import case_history, dashboard
from stopspread.services.removal.rechecks import (
    fetcher_refetch,
    follow_up_open,
    link_reuploads,
    reupload_alerts,
)
from stopspread.services.removal.workflow import draft_request, save_host, send_request
from stopspread.services.scans.queue import ScanDeps
from stopspread.services.timeline import EntryKind
from stopspread.services.workers.accounts import (
    WorkerIdentity,
    assign_case,
    create_center,
    create_worker,
)
from stopspread.services.workers.profile import WorkerProfile, save_profile
from stopspread.services.workers.review import Decision, decide
from stopspread.sources.fetch import Fetcher, FetchLimits
from stopspread.storage.models_worker import WorkerRole
from stopspread.takedown.hosts import HostEntry
from stopspread.takedown.mail import SmtpConfig
from tests.conftest import make_services
from tests.scankit import edited_copies, enrol, original, shapes
from tests.services.removal.test_removal_e2e import loopback, scan_urls, sightings
from tests.services.review_seed import PASSWORD
from tests.smtpsink import SmtpSink
from tests.sources.site import LocalSite, local_site
from tests.web.support import auth, live_server, pdq_body
from tests.web.test_worker_pages import _token, login

# every database here is used through services: a migrated copy (tests/dbtemplate.py)
pytestmark = pytest.mark.usefixtures("migrated_database")

COPIES = ("border", "reencoded", "resized")
Numbers = tuple[int, int, int, int, int, int]  # found, review, confirmed, sent, removed, re-up


@pytest.fixture
def svc(database_url: str, tmp_path: Path) -> Iterator[Services]:
    s = make_services(
        database_url, tmp_path, fetch_allow_loopback=True, fetch_host_interval_s=0.0,
        smtp_from="takedown@center.example",
    )  # fmt: skip
    yield s
    s.db.dispose()


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with local_site() as s:
        yield s


def agree(svc: Services, who: WorkerIdentity, case_id: int, deps: ScanDeps) -> Numbers:
    """The dashboard's, the survivor's and the report's numbers, checked equal; returned."""
    board = dashboard(svc, who, case_id)
    worker = (
        board.sightings, board.under_review, board.confirmed, board.requests_sent,
        board.removed, board.reuploads,
    )  # fmt: skip
    view = case_status(svc, case_id)
    survivor = (
        view.matches, view.reviews_open, view.reviews_closed, view.notices_sent, view.removed,
        view.reappeared,
    )  # fmt: skip
    report, _records = build_report(
        svc, deps.evidence, case_id, language=Language.KO, center="서울 지원센터", worker="kim"
    )
    c = report.counts
    assert c is not None
    in_report = (c.found, c.under_review, c.confirmed, c.requests_sent, c.removed, c.reuploads)
    assert worker == survivor == in_report
    assert worker[0] == worker[1] + worker[2]  # found = under review + confirmed
    assert sum(1 for s in report.sightings if s.reupload_of) == c.reuploads
    return worker


def test_a_centers_day(svc: Services, site: LocalSite) -> None:
    code, case_id = enrol(svc, [original(1)], [])
    create_center(svc, "서울 지원센터")
    who = create_worker(svc, "서울 지원센터", "kim", PASSWORD, WorkerRole.WORKER)
    save_profile(svc, who, WorkerProfile("김지원", "삭제지원 상담원", "kim@center.test", ""))
    assign_case(svc, code, "서울 지원센터")
    save_host(svc, who, HostEntry("127.0.0.1", Language.KO, "KR", abuse_email="abuse@kr.test"))
    save_host(svc, who, HostEntry("localhost", Language.EN, "US", abuse_email="abuse@us.test"))
    deps = ScanDeps(svc.settings, svc.db, resolver=loopback)
    assert agree(svc, who, case_id, deps) == (0, 0, 0, 0, 0, 0)

    # 1. one scan finds three edited copies among unrelated pictures: copies, not re-uploads
    copies = edited_copies(1)
    tags = []
    for name in COPIES:
        site.file(f"/media/{name}.jpg", copies[name], "image/jpeg")
        tags.append(f'<img src="/media/{name}.jpg" alt="">')
    for n in range(3):
        site.file(f"/media/other-{n}.jpg", shapes(200 + n), "image/jpeg")
        tags.append(f'<img src="/media/other-{n}.jpg" alt="">')
    site.html("/board/1", "<p>post</p>" + "".join(tags))
    scan_urls(deps, case_id, [site.url("/board/1")])
    found = sightings(svc, case_id)
    assert sorted(s.media_url.rsplit("/", 1)[1] for s in found) == sorted(
        f"{n}.jpg" for n in COPIES
    )
    assert agree(svc, who, case_id, deps) == (3, 3, 0, 0, 0, 0)

    # 2. decisions: two confirmed, one needs a second look
    for s in found[:2]:
        decide(svc, who, s.id, Decision.CONFIRM)
    decide(svc, who, found[2].id, Decision.SECOND_LOOK)
    assert agree(svc, who, case_id, deps) == (3, 1, 2, 0, 0, 0)

    # 3. a notice about the first, sent to the SMTP sink: still nothing came back
    first = found[0]
    request_id = draft_request(svc, who, first.id)
    assert agree(svc, who, case_id, deps) == (3, 1, 2, 0, 0, 0)  # a draft is not sent
    with SmtpSink() as sink:
        smtp = SmtpConfig("127.0.0.1", sink.port, SmtpSecurity.NONE, "takedown@center.example")
        send_request(svc, who, request_id, smtp=smtp)
    assert len(sink.messages) == 1
    assert agree(svc, who, case_id, deps) == (3, 1, 2, 1, 0, 0)
    assert reupload_alerts(svc, who) == []  # no "다시 올라온 촬영물", nothing to link
    assert link_reuploads(svc, who) == []

    # 4. the host removes it; the follow-up sees it gone
    first_path = "/media/" + first.media_url.rsplit("/", 1)[1]
    site.remove(first_path)
    with Fetcher(FetchLimits.from_settings(svc.settings), resolver=loopback) as fetcher:
        follow_up_open(svc, fetcher_refetch(fetcher))
    assert agree(svc, who, case_id, deps) == (3, 1, 2, 1, 1, 0)

    # 5. the same file comes back on another host: one re-upload, linked to the first item
    body = copies[first_path.rsplit("/", 1)[1].removesuffix(".jpg")]
    port = site.base_url.rsplit(":", 1)[1]
    site.file("/mirror/copy.jpg", body, "image/jpeg")
    site.html("/mirror/", '<img src="/mirror/copy.jpg" alt="">')
    scan_urls(deps, case_id, [f"http://localhost:{port}/mirror/"])
    back = sightings(svc, case_id)[-1]
    assert back.reupload_of == first.id
    assert agree(svc, who, case_id, deps) == (4, 2, 2, 1, 1, 1)
    [alert] = reupload_alerts(svc, who)
    assert (alert.sighting_id, alert.earlier_sighting_id, alert.earlier_request_id) == (
        back.id, first.id, request_id,
    )  # fmt: skip
    assert not alert.linkable  # waiting for review: nothing to draft yet
    decide(svc, who, back.id, Decision.CONFIRM)
    [linked] = link_reuploads(svc, who)
    assert linked.request_id is not None
    assert link_reuploads(svc, who) == [linked]  # a second click drafts nothing more
    assert agree(svc, who, case_id, deps) == (4, 1, 3, 1, 1, 1)

    # 6. a platform's upload matches: reviewed on /worker/matches, the decision goes back
    _client, key = platform.create_client(svc.db, "사진 앱")
    _other, other_key = platform.create_client(svc.db, "other")  # may not read the first's ref
    value = enrolment_hashes(original(1))[0].hash.hex
    with live_server(svc.settings) as base_url, httpx.Client(base_url=base_url, timeout=60) as c:
        hits = [c.post("/v1/match", json=pdq_body(value), headers=auth(key)).json() for _ in "ab"]
        assert hits[0]["match"] is True and hits[0]["ref"] == hits[1]["ref"]
        ref = hits[0]["ref"]
        told = c.get(f"/v1/feedback/{ref}", headers=auth(key)).json()
        assert (told["decision"], told["hits"], told["decided_at"]) == ("open", 2, None)
        assert agree(svc, who, case_id, deps) == (5, 2, 3, 1, 1, 1)  # counted once

        login(c, "kim")
        page = c.get("/worker/matches")
        assert page.status_code == 200
        assert "플랫폼에서 발견된 것" in page.text and "사진 앱" in page.text and ref in page.text
        assert 'href="/worker/matches" aria-current="page"' in page.text
        review_id = int(re.findall(r'id="match-(\d+)"', page.text)[0])
        done = c.post(
            f"/worker/matches/{review_id}/decision",
            data={"csrf_token": _token(page.text), "decision": "confirm"},
            follow_redirects=True,
        )
        assert done.status_code == 200 and f"항목 {review_id}의 판단을 저장했어요" in done.text
        told = c.get(f"/v1/feedback/{ref}", headers=auth(key)).json()
        assert told["decision"] == "confirmed" and told["decided_at"] is not None
        english = c.get("/worker/matches?lang=en")
        assert "Found on platforms" in english.text and "Confirmed as her image" in english.text
        assert c.get(f"/v1/feedback/{ref}", headers=auth(other_key)).status_code == 404

        # the case's dashboard: the same numbers, and the case timeline entry by entry
        board_page = c.get(f"/worker/takedown?case={case_id}&lang=ko").text
        assert re.search(r'id="n-sightings">5<', board_page)
        assert re.search(r'id="n-reuploads">1<', board_page)
        assert "사건의 흐름" in board_page and f"다시 올라옴 (항목 {first.id}번 뒤에)" in board_page
        assert board_page.count('class="timeline-reupload"') == 1
    kinds = Counter(line.kind for line in case_history(svc, who, case_id))
    assert kinds == {
        EntryKind.FOUND: 4, EntryKind.REUPLOAD: 1, EntryKind.DECISION: 4, EntryKind.NOTICE: 1,
        EntryKind.REMOVAL: 1,
    }  # fmt: skip
    assert agree(svc, who, case_id, deps) == (5, 1, 4, 1, 1, 1)
    board = dashboard(svc, who, case_id)
    assert board.platform_matches == 1
