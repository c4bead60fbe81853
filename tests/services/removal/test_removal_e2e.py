"""Issue 9's end-to-end run on a local website and a local SMTP sink (SQLite and PostgreSQL):

sighting → notice in Korean → sent to the sink (message checked) → the site removes the item
→ follow-up marks the request removed → the item reappears on another host → re-upload alert
linked to the first request → confirmed → a linked notice in English → the dashboard's
numbers and the survivor's counts checked against what happened.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from stopspread.config import SmtpSecurity
from stopspread.languages import Language
from stopspread.services.cases import case_status
from stopspread.services.context import Services
from stopspread.services.removal.dashboard import dashboard, survivor_counts
from stopspread.services.removal.rechecks import (
    fetcher_refetch,
    follow_up_open,
    link_reuploads,
    reupload_alerts,
)
from stopspread.services.removal.workflow import draft_request, save_host, send_request
from stopspread.services.scans import queue as scans
from stopspread.services.scans.queue import ScanDeps
from stopspread.services.workers.accounts import (
    WorkerIdentity,
    assign_case,
    create_center,
    create_worker,
)
from stopspread.services.workers.profile import WorkerProfile, save_profile
from stopspread.services.workers.review import Decision, decide
from stopspread.sources.fetch import Fetcher, FetchLimits
from stopspread.storage.models_scan import ScanStatus, Sighting, SourceKind
from stopspread.storage.models_takedown import TakedownEvent, TakedownRequest
from stopspread.storage.models_worker import WorkerRole
from stopspread.takedown.followup import FollowUp
from stopspread.takedown.hosts import HostEntry
from stopspread.takedown.mail import SmtpConfig
from stopspread.takedown.requests import RequestStatus
from tests.conftest import make_services
from tests.scankit import edited_copies, enrol, original
from tests.smtpsink import SmtpSink
from tests.sources.site import LocalSite, local_site

# every database here is used through services: a migrated copy (tests/dbtemplate.py)
pytestmark = pytest.mark.usefixtures("migrated_database")

T0 = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "report"


def loopback(_host: str, _port: int) -> list[str]:
    """``localhost`` is the second host: the same server, another name (no DNS involved)."""
    return ["127.0.0.1"]


@pytest.fixture
def svc(database_url: str, tmp_path: Path) -> Iterator[Services]:
    s = make_services(
        database_url,
        tmp_path,
        fetch_allow_loopback=True,
        fetch_host_interval_s=0.0,
        smtp_from="takedown@center.example",
    )
    yield s
    s.db.dispose()


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with local_site() as s:
        yield s


def scan_urls(deps: ScanDeps, case_id: int, urls: list[str]) -> None:
    source = scans.add_source(
        deps.db, case_id, SourceKind.URLS, {"urls": urls}, created_by="t", allow_loopback=True
    )
    view = scans.run_scan(deps, scans.queue_scan(deps.db, source, trigger="test"))
    assert view.status is ScanStatus.DONE, view.last_error


def sightings(svc: Services, case_id: int) -> list[Sighting]:
    with svc.db.read() as session:
        return list(
            session.scalars(
                select(Sighting).where(Sighting.case_id == case_id).order_by(Sighting.id)
            )
        )


def worker(svc: Services, code: str) -> WorkerIdentity:
    create_center(svc, "서울 지원센터")
    who = create_worker(svc, "서울 지원센터", "kim", "a long enough password", WorkerRole.WORKER)
    assign_case(svc, code, "서울 지원센터")
    save_profile(svc, who, WorkerProfile("김지원", "삭제지원 상담원"))
    save_host(svc, who, HostEntry("127.0.0.1", Language.KO, "KR", abuse_email="abuse@kr.test"))
    save_host(svc, who, HostEntry("localhost", Language.EN, "US", abuse_email="abuse@us.test"))
    return who


def test_sighting_to_notice_to_removal_to_reupload(svc: Services, site: LocalSite) -> None:
    code, case_id = enrol(svc, [original(1)], [])
    who = worker(svc, code)
    body = edited_copies(1)["border"]
    site.file("/media/a.jpg", body, "image/jpeg")
    site.html("/board/1", '<p>post</p><img src="/media/a.jpg" alt="">')
    deps = ScanDeps(svc.settings, svc.db, resolver=loopback)

    # 1. a scan finds the copy; a worker confirms it on the review page
    scan_urls(deps, case_id, [site.url("/board/1")])
    [first] = sightings(svc, case_id)
    decide(svc, who, first.id, Decision.CONFIRM)

    # 2. a notice in the host's language (Korean), sent to the local SMTP sink
    request_id = draft_request(svc, who, first.id, now=T0)
    with SmtpSink() as sink:
        smtp = SmtpConfig("127.0.0.1", sink.port, SmtpSecurity.NONE, "takedown@center.example")
        message_id = send_request(svc, who, request_id, smtp=smtp, now=T0 + timedelta(minutes=5))
    [mail] = sink.messages
    assert mail["Message-ID"].strip() == message_id
    assert mail["To"] == "abuse@kr.test"
    text = mail.get_body(("plain",)).get_content()
    assert site.url("/media/a.jpg") in text and site.url("/board/1") in text
    assert first.media_sha256 in text
    assert "성폭력범죄의 처벌 등에 관한 특례법 제14조" in text
    assert not list(mail.iter_attachments())
    with svc.db.read() as session:
        row = session.get(TakedownRequest, request_id)
        assert row is not None and row.status is RequestStatus.SENT
        assert row.reference in mail["Subject"]
        first_reference = row.reference

    # 3. the site removes the item; the follow-up sees a 404 and marks the request removed
    site.remove("/media/a.jpg")
    with Fetcher(FetchLimits.from_settings(svc.settings), resolver=loopback) as fetcher:
        checks = follow_up_open(svc, fetcher_refetch(fetcher), now=T0 + timedelta(hours=5))
    assert [(i, r.outcome) for i, r in checks] == [(request_id, FollowUp.GONE)]
    with svc.db.read() as session:
        row = session.get(TakedownRequest, request_id)
        assert row is not None and row.status is RequestStatus.REMOVED
        statuses = session.scalars(
            select(TakedownEvent.status).where(TakedownEvent.request_id == request_id)
        ).all()
    assert statuses == [RequestStatus.DRAFT, RequestStatus.SENT, RequestStatus.REMOVED]
    assert sightings(svc, case_id)[0].removed_at is not None

    # 4. it reappears on another host; the scan flags a re-upload, linked to the first request
    port = site.base_url.rsplit(":", 1)[1]
    site.file("/mirror/copy.jpg", body, "image/jpeg")
    site.html("/mirror/", '<img src="/mirror/copy.jpg" alt="">')
    scan_urls(deps, case_id, [f"http://localhost:{port}/mirror/"])
    second = sightings(svc, case_id)[-1]
    assert second.reupload and second.reupload_of == first.id
    [alert] = reupload_alerts(svc, who)
    assert (alert.sighting_id, alert.earlier_request_id) == (second.id, request_id)
    assert alert.earlier_reference == first_reference and alert.request_id is None

    # 5. once a worker confirms it, the linked notice is drafted — in English for the US host
    assert link_reuploads(svc, who, now=T0 + timedelta(days=1))[0].request_id is None
    decide(svc, who, second.id, Decision.CONFIRM)
    [linked] = link_reuploads(svc, who, now=T0 + timedelta(days=1))
    assert linked.request_id is not None
    with SmtpSink() as sink:
        smtp = SmtpConfig("127.0.0.1", sink.port, SmtpSecurity.NONE, "takedown@center.example")
        send_request(svc, who, linked.request_id, smtp=smtp, now=T0 + timedelta(days=1))
    english = sink.messages[0].get_body(("plain",)).get_content()
    assert "TAKE IT DOWN Act" in english and f"http://localhost:{port}/mirror/copy.jpg" in english
    with svc.db.read() as session:
        again = session.get(TakedownRequest, linked.request_id)
        assert again is not None and again.previous_request_id == request_id
        assert again.language == "en"

    # 6. the dashboard's numbers and the survivor's counts
    board = dashboard(svc, who, now=T0 + timedelta(days=4))
    assert (board.sightings, board.confirmed, board.reuploads) == (2, 2, 1)
    assert board.requests_by_status[RequestStatus.REMOVED] == 1
    assert board.requests_by_status[RequestStatus.SENT] == 1
    assert board.median_hours_to_removal == pytest.approx(5 - 5 / 60)
    [late] = board.overdue  # the US host had 48 hours
    assert late.request_id == linked.request_id and late.hours_over == pytest.approx(24)
    assert board.unknown_hosts == []
    assert dashboard(svc, who, case_id, now=T0 + timedelta(days=1, hours=1)).overdue == []
    with svc.db.read() as session:
        counts = survivor_counts(session, case_id)
    assert (counts.notices_sent, counts.removed, counts.reappeared) == (2, 1, 1)
    view = case_status(svc, case_id)  # what the survivor's status page and API show
    assert (view.notices_sent, view.removed, view.reappeared) == (2, 1, 1)

    # 7. the evidence report: the PDF with the WARC files alongside
    from stopspread.languages import Language
    from stopspread.services.case_report import export_report
    from tests.report.test_pdf import flat, pdftotext

    out = Path(svc.settings.data_dir) / "report"
    done = export_report(
        svc, deps.evidence, case_id, out, language=Language.KO, center="서울 지원센터",
        worker="김지원", now=T0 + timedelta(days=4),
    )  # fmt: skip
    assert done.verified
    assert len(done.warc_files) == 4  # each sighting's media and page
    text = pdftotext(done.pdf.read_bytes(), out)
    compact = flat(text)
    for s in sightings(svc, case_id):
        assert flat(s.media_url) in compact and s.media_sha256 in compact
    assert "증거 기록 검증" in text and "삭제 요청 이력" in text and "검증 통과" in text
    assert first_reference in compact
    for path in done.warc_files:
        assert hashlib.sha256(path.read_bytes()).hexdigest() in compact
    # no English in the Korean PDF: match, review, notes ("e-mail to", follow-ups) in Korean
    from tests.report.latin import latin_words

    facts = [s.media_url for s in sightings(svc, case_id)]
    facts += [s.page_url or "" for s in sightings(svc, case_id)]
    facts += [first_reference, "abuse@kr.test", "abuse@us.test", "localhost"]
    facts += [p.name for p in done.warc_files]
    with svc.db.read() as session:
        facts += [r.reference for r in session.scalars(select(TakedownRequest))]
    assert latin_words(text, facts) == [], text
    if shutil.which("pdftoppm"):  # page images to look at: test-artifacts/report/e2e-ko-N.png
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for old in ARTIFACTS.glob("e2e-ko-*.png"):
            old.unlink()
        prefix = str(ARTIFACTS / "e2e-ko")
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(done.pdf), prefix], check=True)
        assert len(list(ARTIFACTS.glob("e2e-ko-*.png"))) >= 2
