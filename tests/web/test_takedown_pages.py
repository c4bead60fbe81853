"""The takedown pages over HTTP: dashboard numbers, a host's contact entered on the page,
drafting, sending to a local SMTP sink, recording the answer, the web-form export, the PDF
button, center isolation and CSRF."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from stopspread.config import SmtpSecurity
from stopspread.services.workers.accounts import WorkerIdentity
from stopspread.services.workers.review import Decision, decide
from stopspread.storage.models import AuditEvent
from stopspread.storage.models_worker import WorkerRole
from tests.conftest import fast_settings, make_services
from tests.report.test_pdf import flat, pdftotext
from tests.services.review_seed import World, build_world
from tests.smtpsink import SmtpSink
from tests.web.support import live_server
from tests.web.test_worker_pages import _token, login


@dataclass
class Site:
    base_url: str
    world: World
    sink: SmtpSink


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("takedown")
    url = f"sqlite:///{tmp / 'db.sqlite'}"
    svc = make_services(url, tmp)
    world = build_world(svc, tmp)
    mina = WorkerIdentity(0, 1, WorkerRole.WORKER, "mina")
    with svc.db.read() as session:
        from sqlalchemy import select

        from stopspread.storage.models_worker import Worker

        row = session.scalars(select(Worker).where(Worker.username == "mina")).one()
        mina = WorkerIdentity(row.id, row.center_id, row.role, row.username)
    for sighting_id in world.sightings_a[:2]:
        decide(svc, mina, sighting_id, Decision.CONFIRM)
    with SmtpSink() as sink:
        settings = fast_settings(
            url, tmp, smtp_host="127.0.0.1", smtp_port=sink.port,
            smtp_security=SmtpSecurity.NONE, smtp_from="takedown@seoul.test",
        )  # fmt: skip
        with live_server(settings) as base_url:
            yield Site(base_url, world, sink)
    svc.db.dispose()


@pytest.fixture
def client(site: Site) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.base_url, timeout=60) as c:
        yield c


def number(html: str, name: str) -> str:
    found = re.search(rf'id="n-{name}">([^<]+)<', html)
    assert found, name
    return found.group(1)


def test_the_takedown_loop_on_the_pages(site: Site, client: httpx.Client) -> None:
    login(client, "mina")
    page = client.get("/worker/takedown")
    assert page.status_code == 200
    assert "삭제 요청 현황" in page.text
    assert (number(page.text, "confirmed"), number(page.text, "sightings")) == ("2", "3")
    assert number(page.text, "reuploads") == "1"
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in page.text
    assert "127.0.0.1" in page.text  # a host without a contact is listed
    token = _token(page.text)

    # drafting before the host is known fails with a clear message
    first = site.world.sightings_a[0]
    refused = client.post(
        "/worker/takedown/draft", data={"csrf_token": token, "sighting_id": first}
    )
    assert refused.status_code == 422 and "127.0.0.1" in refused.text

    saved = client.post(
        "/worker/takedown/hosts",
        data={
            "csrf_token": token, "domain": "127.0.0.1", "abuse_email": "abuse@host.test",
            "language": "ko", "jurisdiction": "kr",
        },
    )  # fmt: skip
    assert saved.status_code == 200 and "연락처를 저장했어요" in saved.text
    assert "우리 센터가 적은 호스트 연락처" in saved.text and "abuse@host.test" in saved.text
    bad = client.post(
        "/worker/takedown/hosts",
        data={"csrf_token": token, "domain": "x.test", "abuse_email": "nobody", "language": "ko"},
    )
    assert bad.status_code == 422 and "e-mail" in bad.text

    drafted = client.post(
        "/worker/takedown/draft", data={"csrf_token": token, "sighting_id": first},
        follow_redirects=False,
    )  # fmt: skip
    assert drafted.status_code == 303
    request_url = drafted.headers["location"]
    detail = client.get(request_url)
    assert "성폭력범죄의 처벌 등에 관한 특례법" in detail.text
    assert "http://127.0.0.1:8081/m/a.jpg" in detail.text

    sent = client.post(request_url + "/send", data={"csrf_token": token})
    assert sent.status_code == 200 and 'id="request-status">보냄<' in sent.text
    [mail] = site.sink.messages
    assert mail["To"] == "abuse@host.test"
    assert "http://127.0.0.1:8081/m/a.jpg" in mail.get_body(("plain",)).get_content()

    wrong = client.post(request_url + "/status", data={"csrf_token": token, "status": "draft"})
    assert wrong.status_code == 409
    acked = client.post(
        request_url + "/status",
        data={"csrf_token": token, "status": "acknowledged", "note": "티켓 123"},
    )
    assert acked.status_code == 200 and "티켓 123" in acked.text

    export = client.get(request_url + "/export.json")
    fields = json.loads(export.text)
    assert fields["reference"] in mail["Subject"] and fields["language"] == "ko"

    board = client.get("/worker/takedown")
    assert "접수 확인" in board.text and number(board.text, "overdue") == "0"

    report = client.get(f"/worker/takedown/report?case={site.world.case_a}&report_lang=en")
    assert report.status_code == 200 and report.content.startswith(b"%PDF-")
    assert report.headers["content-type"] == "application/pdf"


def test_the_evidence_package_download(site: Site, client: httpx.Client, tmp_path: Path) -> None:
    """A worker of the case's center downloads the ZIP (logged); another center gets 404."""
    login(client, "mina")
    board = client.get("/worker/takedown")
    assert 'formaction="/worker/takedown/package"' in board.text
    assert "증거 패키지(ZIP) 내려받기" in board.text
    case = site.world.case_a
    got = client.get(f"/worker/takedown/package?case={case}&report_lang=ko")
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    assert f"evidence-package-{site.world.code_a}-ko-" in got.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(got.content)) as archive:
        lines = archive.read("manifest-sha256.txt").decode().splitlines()
        listed = dict(reversed(line.split("  ", 1)) for line in lines)
        for path, digest in listed.items():
            assert hashlib.sha256(archive.read(path)).hexdigest() == digest
        pdf = archive.read(f"report-{site.world.code_a}-ko.pdf")
    warcs = {p: d for p, d in listed.items() if p.startswith("warc/")}
    assert len(warcs) == 4
    text = pdftotext(pdf, tmp_path)
    assert all(digest in flat(text) for digest in warcs.values())
    assert "이미나" in text  # prepared by the signed-in worker, by her real name
    with site.world.svc.db.read() as session:
        kinds = select(AuditEvent).where(AuditEvent.kind == "evidence_package_made")
        payloads = [json.loads(e.payload) for e in session.scalars(kinds)]
    assert {"case": case, "language": "ko", "by": "mina", "files": 5} in payloads

    client.cookies.clear()
    login(client, "jiwoo")  # Busan: not her center's case
    assert client.get(f"/worker/takedown/package?case={case}").status_code == 404
    assert client.get("/worker/takedown/package?case=999999").status_code == 404
    with site.world.svc.db.read() as session:
        assert len(session.scalars(kinds).all()) == len(payloads)  # refusals make no package


def test_other_centers_and_missing_tokens(site: Site, client: httpx.Client) -> None:
    login(client, "jiwoo")
    assert client.get("/worker/takedown/requests/1").status_code == 404
    assert client.get(f"/worker/takedown/report?case={site.world.case_a}").status_code == 404
    page = client.get("/worker/takedown")
    assert "127.0.0.1" not in page.text  # Busan's dashboard shows none of Seoul's work
    no_token = client.post("/worker/takedown/draft", data={"sighting_id": 1})
    assert no_token.status_code == 403


def test_export_without_a_reply_address_names_the_setting(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A server with no STOPSPREAD_SMTP_FROM answers an export with 503 naming the setting, and
    an id that is not hers with 404 — never a server error."""
    from sqlalchemy import select

    from stopspread.languages import Language
    from stopspread.services.removal.workflow import draft_request, save_host
    from stopspread.storage.models_worker import Worker
    from stopspread.takedown.hosts import HostEntry

    tmp = tmp_path_factory.mktemp("no-reply-address")
    url = f"sqlite:///{tmp / 'db.sqlite'}"
    svc = make_services(url, tmp, smtp_from="takedown@seoul.test")
    world = build_world(svc, tmp)
    with svc.db.read() as session:
        row = session.scalars(select(Worker).where(Worker.username == "mina")).one()
        mina = WorkerIdentity(row.id, row.center_id, row.role, row.username)
    first = world.sightings_a[0]
    decide(svc, mina, first, Decision.CONFIRM)
    save_host(svc, mina, HostEntry("127.0.0.1", Language.KO, "KR", abuse_email="abuse@host.test"))
    request_id = draft_request(svc, mina, first)
    svc.db.dispose()
    with live_server(fast_settings(url, tmp)) as base_url, httpx.Client(base_url=base_url) as c:
        login(c, "mina")
        unset = c.get(f"/worker/takedown/requests/{request_id}/export.json")
        assert unset.status_code == 503 and "STOPSPREAD_SMTP_FROM" in unset.json()["error"]
        assert c.get("/worker/takedown/requests/999999/export.json").status_code == 404
