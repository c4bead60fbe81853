"""The evidence report of a case: the PDF (Korean or English) and its WARC files alongside.

:func:`export_report` verifies the evidence log first (the report prints the result), writes
the decrypted WARC files of every capture it cites (their SHA-256 digests are the ones the
evidence log holds), then the PDF. Rejected sightings are left out.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from stopspread.errors import NotFoundError, StopSpreadError
from stopspread.evidence.preview import blurred_preview
from stopspread.languages import Language
from stopspread.report.model import (
    EvidenceReport,
    ReportCapture,
    ReportCase,
    ReportCounts,
    ReportProof,
    ReportSighting,
    ReportTakedown,
    ReportTakedownEvent,
    ReportWarc,
)
from stopspread.report.pdf import render_report
from stopspread.report.strings import match_text
from stopspread.services import audit
from stopspread.services import roomcheck as room_checks
from stopspread.services.context import Services
from stopspread.services.custody.erase import require_evidence
from stopspread.services.custody.log import read_head
from stopspread.services.custody.store import EvidenceStore
from stopspread.services.custody.verify import check
from stopspread.services.keys import normalise_case_code
from stopspread.services.removal.workflow import center_name
from stopspread.services.timeline import Timeline, case_timeline
from stopspread.services.workers import review
from stopspread.services.workers.accounts import WorkerIdentity
from stopspread.services.workers.profile import author_name
from stopspread.storage.models import Case
from stopspread.storage.models_scan import MatchKind, ReviewState, Sighting
from stopspread.storage.models_takedown import FollowUpCheck, TakedownEvent, TakedownRequest
from stopspread.storage.models_worker import EvidenceLogEntry, EvidenceRecord

__all__ = [
    "ExportedReport",
    "build_report",
    "export_report",
    "report_case_id",
    "report_pdf",
    "warc_name",
]


@dataclass(frozen=True, slots=True)
class ExportedReport:
    pdf: Path
    warc_files: list[Path]
    verified: bool


def warc_name(row: EvidenceRecord) -> str:
    """The file name of one evidence record's WARC file, in the report and the package."""
    return f"evidence-{row.id}-{row.kind.value}.warc"


def _match(s: Sighting, language: Language) -> str:
    video = s.match_kind is MatchKind.VIDEO
    return match_text(language, s.signal_type, video, s.distance)


def _capture(session: Session, media: EvidenceRecord, page: EvidenceRecord | None) -> ReportCapture:
    entry = session.get(EvidenceLogEntry, media.log_seq)
    return ReportCapture(
        captured_at=datetime.fromisoformat(media.captured_at),
        media_sha256=media.payload_sha256,
        page_sha256=page.payload_sha256 if page is not None else None,
        warc_file=warc_name(media),
        log_seq=media.log_seq,
        log_entry_hash=entry.entry_hash if entry is not None else None,
    )


def _sightings(
    session: Session,
    case_id: int,
    references: dict[int, str],
    timeline: Timeline,
    language: Language,
) -> tuple[list[ReportSighting], list[EvidenceRecord]]:
    rows = session.scalars(
        select(Sighting)
        .where(Sighting.case_id == case_id, Sighting.review_status != ReviewState.REJECTED)
        .order_by(Sighting.id)
    ).all()
    out, records = [], []
    items = timeline.by_sighting()
    urls = {s.id: s.media_url for s in rows}
    for s in rows:
        media = session.get(EvidenceRecord, s.media_evidence_id)
        page = session.get(EvidenceRecord, s.page_evidence_id) if s.page_evidence_id else None
        if media is None:
            raise NotFoundError(f"sighting {s.id}: its evidence record is missing")
        records += [r for r in (media, page) if r is not None and r not in records]
        item = items.get(s.id)
        earlier = item.reupload_of if item is not None else None  # only real re-uploads
        out.append(
            ReportSighting(
                url=s.media_url,
                page_url=s.page_url or "",
                first_seen=s.first_seen,
                last_seen=s.last_seen,
                match_type=_match(s, language),
                review=s.review_status.value,  # the PDF prints it in words
                captures=[_capture(session, media, page)],
                reupload_of=_earlier_label(earlier, references, urls),
            )
        )
    return out, records


def _earlier_label(earlier: int | None, references: dict[int, str], urls: dict[int, str]) -> str:
    """The earlier item's request reference, else its URL (removed before any request)."""
    if earlier is None:
        return ""
    return references.get(earlier) or urls.get(earlier) or str(earlier)


def _counts(timeline: Timeline) -> ReportCounts:
    c = timeline.counts
    return ReportCounts(
        c.found, c.under_review, c.confirmed, c.requests_sent, c.removed, c.reuploads,
        c.platform_matches,
    )  # fmt: skip


def _with_previews(
    store: EvidenceStore, sightings: list[ReportSighting], records: list[EvidenceRecord]
) -> list[ReportSighting]:
    by_url = {r.url: r for r in records if r.kind.value == "media"}
    out = []
    for s in sightings:
        row = by_url.get(s.url)
        preview = None
        if row is not None:
            with contextlib.suppress(StopSpreadError):  # no preview beats no report
                preview = blurred_preview(store.open_payload(row.id), row.content_type)
        out.append(dataclasses.replace(s, preview_png=preview))
    return out


def _takedowns(session: Session, case_id: int) -> list[ReportTakedown]:
    rows = session.scalars(
        select(TakedownRequest)
        .where(TakedownRequest.case_id == case_id)
        .order_by(TakedownRequest.id)
    ).all()
    out = []
    for r in rows:
        # a follow-up comes before the status change it caused at the same moment
        timed = [
            (c.at, 0, ReportTakedownEvent(c.at, c.outcome.value, c.reason))
            for c in session.scalars(select(FollowUpCheck).where(FollowUpCheck.request_id == r.id))
        ]
        timed += [
            (e.at, 1, ReportTakedownEvent(e.at, e.status.value, e.note))
            for e in session.scalars(select(TakedownEvent).where(TakedownEvent.request_id == r.id))
        ]
        events = [event for _at, _order, event in sorted(timed, key=lambda x: (x[0], x[1]))]
        out.append(ReportTakedown(r.reference, r.url, r.domain, r.recipient, r.language, events))
    return out


def build_report(
    svc: Services,
    store: EvidenceStore,
    case_id: int,
    *,
    language: Language,
    center: str,
    worker: str,
    survivor_name: str | None = None,
    now: datetime | None = None,
    blurred_previews: bool = False,
) -> tuple[EvidenceReport, list[EvidenceRecord]]:
    """The report's content, and the evidence records whose WARC files go alongside.

    The report lists every one of those WARC files (name, SHA-256 of the plaintext, size), so
    the PDF names exactly the files that :func:`export_report` and the evidence package write.

    ``blurred_previews``: a worker chose to include each sighting's blurred, greyscale
    preview (the default report holds no image at all).
    """
    at = (now or datetime.now(UTC)).astimezone(UTC)
    with svc.db.read(snapshot=True) as session:
        case = require_evidence(session, case_id)  # 410 once she had it erased
        verification = check(session, store)
        head_hash = read_head(session).hash
        references = {
            r.sighting_id: r.reference
            for r in session.scalars(
                select(TakedownRequest)
                .where(TakedownRequest.case_id == case_id)
                .order_by(TakedownRequest.id.desc())
            )
        }
        timeline = case_timeline(session, [case_id])
        sightings, records = _sightings(session, case_id, references, timeline, language)
        takedowns = _takedowns(session, case_id)
        room_rows = room_checks.room_check_rows(session, case_id)
        records += [row for row, _hash in room_rows]
        opened = case.created_at
        code = case.code
    if blurred_previews:
        sightings = _with_previews(store, sightings, records)
    proof = ReportProof(
        verified=verification.ok,
        verified_at=at,
        chain_head=head_hash,
        entries=verification.entries,
        detail="; ".join(str(p) for p in verification.problems[:5]),
    )
    report = EvidenceReport(
        case=ReportCase(code, center, opened, worker, survivor_name or None),
        proof=proof,
        generated_at=at,
        language=language,
        sightings=sightings,
        takedowns=takedowns,
        room_checks=room_checks.report_room_checks(store, room_rows, language, warc_name),
        warc_files=[ReportWarc(warc_name(r), r.sha256, r.size) for r in records],
        counts=_counts(timeline),
    )
    return report, records


def export_report(
    svc: Services,
    store: EvidenceStore,
    case_id: int,
    folder: Path,
    *,
    language: Language,
    center: str,
    worker: str,
    survivor_name: str | None = None,
    now: datetime | None = None,
    blurred_previews: bool = False,
) -> ExportedReport:
    """Write ``<folder>/report-<code>-<lang>.pdf`` and ``<folder>/warc/*.warc``."""
    report, records = build_report(
        svc, store, case_id, language=language, center=center, worker=worker,
        survivor_name=survivor_name, now=now, blurred_previews=blurred_previews,
    )  # fmt: skip
    warc_dir = folder / "warc"
    warc_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for row in records:
        path = warc_dir / warc_name(row)
        path.write_bytes(store.open_warc(row))  # digest checked against the row
        paths.append(path)
    pdf = folder / f"report-{report.case.code}-{language.value}.pdf"
    pdf.write_bytes(render_report(report))
    with svc.db.write() as (session, head):
        payload = {"case": case_id, "language": language.value, "by": worker[:100]}
        audit.append(session, head, audit.AuditKind.REPORT_MADE, payload)
    return ExportedReport(pdf=pdf, warc_files=paths, verified=report.proof.verified)


def report_case_id(svc: Services, code: str) -> int:
    """The case a report is asked for by its code (``stopspread report``); a withdrawn case
    whose evidence she kept still has one, one whose evidence was erased is refused (410)."""
    with svc.db.read() as session:
        found = session.scalars(select(Case).where(Case.code == normalise_case_code(code))).first()
        if found is None:
            raise NotFoundError("no such case")
        return require_evidence(session, found.id).id


def report_pdf(
    svc: Services, who: WorkerIdentity, case_id: int, language: Language
) -> tuple[str, bytes]:
    """``(case code, PDF)`` for a case of her center: the dashboard's download button.

    Only the PDF (its WARC files come in the evidence package,
    :mod:`stopspread.services.evidence_package`); the evidence key must exist already (a
    download never creates one).
    """
    cases = {c.id: c for c in review.list_cases(svc, who)}
    if case_id not in cases:
        raise NotFoundError("no such case")  # another center's case looks like none at all
    store = EvidenceStore.from_settings(svc.settings, svc.db, create_key=False)
    center = center_name(svc, who.center_id)
    report, _records = build_report(
        svc, store, case_id, language=language, center=center, worker=author_name(svc, who)
    )
    return cases[case_id].code, render_report(report)
