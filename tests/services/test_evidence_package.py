"""The evidence package: one ZIP with the report PDF, every WARC file and a SHA-256 manifest.

The manifest's digests verify; every WARC file's digest is in the manifest and in the PDF's
text; the PDF names the person who prepared it; a Korean package's PDF holds no English.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from stopspread.errors import NotFoundError
from stopspread.languages import Language
from stopspread.services import audit
from stopspread.services.evidence_package import (
    MANIFEST_JSON,
    MANIFEST_TXT,
    package_for_worker,
    write_package,
)
from stopspread.services.removal.workflow import draft_request, save_host, set_status
from stopspread.services.workers import accounts
from stopspread.services.workers.accounts import WorkerIdentity
from stopspread.services.workers.review import Decision, decide
from stopspread.storage.models import AuditEvent
from stopspread.storage.models_takedown import FollowUpCheck, TakedownRequest
from stopspread.takedown.followup import FollowUp
from stopspread.takedown.hosts import HostEntry
from stopspread.takedown.requests import RequestStatus
from tests.conftest import make_services
from tests.report.latin import latin_words
from tests.report.test_pdf import flat, pdftotext
from tests.services.review_seed import PASSWORD, SITE, World, build_world

T0 = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)


@dataclass
class Seeded:
    world: World
    mina: WorkerIdentity  # Seoul
    jiwoo: WorkerIdentity  # Busan
    reference: str


def _login(world: World, name: str) -> WorkerIdentity:
    token = accounts.login(world.svc, name, PASSWORD, "t").token
    return accounts.session_info(world.svc, token).identity


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Seeded]:
    """Case A with a confirmed sighting, a notice e-mailed to its host and two follow-ups."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    svc = make_services(url, tmp_path, smtp_from="takedown@seoul.test")
    world = build_world(svc, tmp_path)
    mina, jiwoo = _login(world, "mina"), _login(world, "jiwoo")
    save_host(svc, mina, HostEntry("127.0.0.1", Language.KO, "KR", abuse_email="abuse@kr.test"))
    first = world.sightings_a[0]
    decide(svc, mina, first, Decision.CONFIRM)
    request = draft_request(svc, mina, first)
    set_status(svc, None, request, RequestStatus.SENT, actor="mina",
               note="e-mail to abuse@kr.test", now=T0)  # fmt: skip
    with svc.db.write() as (session, _head):
        for hours, reason in ((5, "blocked: address 10.0.0.1 is private"), (9, "HTTP 404")):
            session.add(FollowUpCheck(request_id=request, at=T0 + timedelta(hours=hours),
                                      outcome=FollowUp.ERROR if hours == 5 else FollowUp.GONE,
                                      reason=reason))  # fmt: skip
        reference = session.get(TakedownRequest, request).reference  # type: ignore[union-attr]
    set_status(svc, None, request, RequestStatus.REMOVED, actor="follow-up", note="HTTP 404",
               now=T0 + timedelta(hours=9))  # fmt: skip
    yield Seeded(world, mina, jiwoo, reference)
    svc.db.dispose()


def _package(seeded: Seeded, language: Language) -> tuple[zipfile.ZipFile, bytes]:
    buffer = io.BytesIO()
    write_package(
        seeded.world.svc, seeded.world.store, seeded.world.case_a, buffer,
        language=language, center="서울 지원센터", author="김지원", now=T0 + timedelta(days=1),
    )  # fmt: skip
    return zipfile.ZipFile(io.BytesIO(buffer.getvalue())), buffer.getvalue()


def test_the_manifest_verifies_and_the_pdf_lists_every_warc(seeded: Seeded, tmp_path: Path) -> None:
    archive, _raw = _package(seeded, Language.EN)
    names = set(archive.namelist())
    code = seeded.world.code_a
    pdf_name = f"report-{code}-en.pdf"
    warcs = sorted(n for n in names if n.startswith("warc/"))
    assert names == {pdf_name, MANIFEST_TXT, MANIFEST_JSON, *warcs}
    assert len(warcs) == 4  # the seed's two media captures and two pages of case A
    listed = {}
    for line in archive.read(MANIFEST_TXT).decode().splitlines():
        digest, path = line.split("  ", 1)
        listed[path] = digest
    assert set(listed) == {pdf_name, MANIFEST_JSON, *warcs}  # every file but the list itself
    for path, digest in listed.items():  # what `sha256sum -c manifest-sha256.txt` checks
        assert hashlib.sha256(archive.read(path)).hexdigest() == digest
    manifest = json.loads(archive.read(MANIFEST_JSON))
    assert manifest["case"] == code and manifest["prepared_by"] == "김지원"
    assert {f["path"]: f["sha256"] for f in manifest["files"]} == {
        path: digest for path, digest in listed.items() if path != MANIFEST_JSON
    }
    assert all(f["size"] == archive.getinfo(f["path"]).file_size for f in manifest["files"])
    assert manifest["evidence_log"]["verified"] is True
    text = pdftotext(archive.read(pdf_name), tmp_path)
    compact = flat(text)
    for path in warcs:
        assert listed[path] in compact
        assert flat(path.removeprefix("warc/")) in compact
    assert "김지원" in text
    assert "The 4 captured files (WARC)" in " ".join(text.split())  # page 1 agrees with §6


def test_a_korean_package_has_no_english_in_its_pdf(seeded: Seeded, tmp_path: Path) -> None:
    archive, _raw = _package(seeded, Language.KO)
    pdf_name = f"report-{seeded.world.code_a}-ko.pdf"
    text = pdftotext(archive.read(pdf_name), tmp_path)
    manifest = json.loads(archive.read(MANIFEST_JSON))
    facts = [seeded.world.code_a, seeded.reference, SITE, "abuse@kr.test"]
    facts += [f["path"] for f in manifest["files"]] + [f["sha256"] for f in manifest["files"]]
    facts += [manifest["evidence_log"]["chain_head"]]
    assert latin_words(text, facts) == []
    words = " ".join(text.split())
    assert "원본 채증 파일(WARC) 4개" in words  # page 1 and section 6 agree
    assert "abuse@kr.test 주소로 이메일 보냄" in words
    assert "피해 촬영물로 확인" in words and "같은 사진" not in words  # distance 6: near
    assert "작성자" in words and "김지원" in words


def test_making_a_package_is_in_the_audit_log(seeded: Seeded) -> None:
    _package(seeded, Language.KO)
    with seeded.world.svc.db.read() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.kind == audit.AuditKind.EVIDENCE_PACKAGE_MADE)
        ).all()
    assert [json.loads(e.payload) for e in events] == [
        {"case": seeded.world.case_a, "language": "ko", "by": "김지원", "files": 5}
    ]
    audit.verify(seeded.world.svc.db)


def test_a_worker_gets_the_package_of_her_center_only(seeded: Seeded) -> None:
    svc, case = seeded.world.svc, seeded.world.case_a
    made = package_for_worker(svc, seeded.mina, case, Language.KO, io.BytesIO())
    assert made.file_name.startswith(f"evidence-package-{seeded.world.code_a}-ko-")
    assert made.verified and len(made.files) == 5
    with pytest.raises(NotFoundError):
        package_for_worker(svc, seeded.jiwoo, case, Language.KO, io.BytesIO())
    with pytest.raises(NotFoundError):
        package_for_worker(svc, seeded.mina, 999_999, Language.KO, io.BytesIO())
