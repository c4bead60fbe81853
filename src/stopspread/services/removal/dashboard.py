"""The worker's dashboard numbers, per center or per case, and the survivor's counts.

Items found, under review, confirmed, re-uploads (all from the one case timeline,
:mod:`stopspread.services.timeline`), requests by status, median time from the first notice
to removal, overdue requests (waiting for the host past their deadline), and hosts without a
contact.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from stopspread.errors import NotFoundError
from stopspread.languages import Language
from stopspread.report.strings import note_text
from stopspread.services.context import Services
from stopspread.services.removal.workflow import host_registry
from stopspread.services.timeline import EntryKind, ItemSource, case_timeline
from stopspread.services.workers.accounts import WorkerIdentity, require_case, visible_case_ids
from stopspread.storage.models import Case, PlatformClient
from stopspread.storage.models_scan import ReviewState, Sighting
from stopspread.storage.models_takedown import FollowUpCheck, TakedownEvent, TakedownRequest
from stopspread.takedown.hosts import UnknownHost
from stopspread.takedown.requests import OPEN_STATUSES, RequestStatus

__all__ = [
    "CaseHistoryLine",
    "Dashboard",
    "HistoryLine",
    "OverdueItem",
    "RequestDetail",
    "RequestRow",
    "SurvivorCounts",
    "WaitingSighting",
    "case_history",
    "dashboard",
    "request_detail",
    "request_rows",
    "survivor_counts",
]


@dataclass(frozen=True, slots=True)
class OverdueItem:
    request_id: int
    reference: str
    case_id: int
    url: str
    domain: str
    deadline: datetime
    hours_over: float


@dataclass(frozen=True, slots=True)
class Dashboard:
    sightings: int  # items found (scan sightings and platform matches), rejected left out
    confirmed: int
    reuploads: int  # came back after a removal or a notice (never copies of one scan)
    requests_by_status: dict[RequestStatus, int]
    median_hours_to_removal: float | None
    overdue: list[OverdueItem] = field(default_factory=list)
    unknown_hosts: list[str] = field(default_factory=list)  # registrable domains to fill in
    under_review: int = 0
    removed: int = 0
    platform_matches: int = 0
    requests_sent: int = 0  # items a notice was sent about


def dashboard(
    svc: Services, who: WorkerIdentity, case_id: int | None = None, now: datetime | None = None
) -> Dashboard:
    """Her center's numbers (all its cases, or one case)."""
    at = (now or datetime.now(UTC)).astimezone(UTC)
    with svc.db.read(snapshot=True) as session:
        if case_id is not None:
            require_case(session, who, case_id)
        cases = [case_id] if case_id is not None else visible_case_ids(session, who)
        sightings = session.scalars(select(Sighting).where(Sighting.case_id.in_(cases))).all()
        counts = case_timeline(session, cases, who.center_id).counts
        requests = session.scalars(
            select(TakedownRequest).where(
                TakedownRequest.case_id.in_(cases), TakedownRequest.center_id == who.center_id
            )
        ).all()
        requested = {r.sighting_id for r in requests}
        waiting = [
            s.media_url
            for s in sightings
            if s.review_status is ReviewState.CONFIRMED and s.id not in requested
        ]
    by_status = {status: 0 for status in RequestStatus}
    for r in requests:
        by_status[r.status] += 1
    return Dashboard(
        sightings=counts.found,
        confirmed=counts.confirmed,
        reuploads=counts.reuploads,
        requests_by_status=by_status,
        median_hours_to_removal=_median_hours(requests),
        overdue=_overdue(requests, at),
        unknown_hosts=_unknown_hosts(svc, who, waiting),
        under_review=counts.under_review,
        removed=counts.removed,
        platform_matches=counts.platform_matches,
        requests_sent=counts.requests_sent,
    )


def _median_hours(requests: Sequence[TakedownRequest]) -> float | None:
    spans = [
        (r.removed_at - r.first_sent_at).total_seconds() / 3600
        for r in requests
        if r.status is RequestStatus.REMOVED and r.removed_at and r.first_sent_at
    ]
    return statistics.median(spans) if spans else None


def _overdue(requests: Sequence[TakedownRequest], at: datetime) -> list[OverdueItem]:
    out = []
    for r in requests:
        if r.status in OPEN_STATUSES and r.deadline is not None and at > r.deadline:
            hours = (at - r.deadline).total_seconds() / 3600
            out.append(
                OverdueItem(r.id, r.reference, r.case_id, r.url, r.domain, r.deadline, hours)
            )
    return sorted(out, key=lambda item: item.deadline)


def _unknown_hosts(svc: Services, who: WorkerIdentity, urls: list[str]) -> list[str]:
    if not urls:
        return []
    registry = host_registry(svc, who.center_id)
    unknown = set()
    for url in urls:
        try:
            found = registry.lookup(url)
        except ValueError:
            continue
        if isinstance(found, UnknownHost):
            unknown.add(found.registrable)
    return sorted(unknown)


@dataclass(frozen=True, slots=True)
class SurvivorCounts:
    """Her numbers, from the case timeline: ``found == under_review + confirmed``."""

    notices_sent: int  # items a removal request was sent about
    removed: int
    reappeared: int
    found: int = 0
    under_review: int = 0
    confirmed: int = 0


def survivor_counts(session: Session, case_id: int) -> SurvivorCounts:
    """Counts only, for the survivor's status page (no URLs, no hosts)."""
    c = case_timeline(session, [case_id]).counts
    return SurvivorCounts(
        c.requests_sent, c.removed, c.reuploads, c.found, c.under_review, c.confirmed
    )


@dataclass(frozen=True, slots=True)
class RequestRow:
    id: int
    reference: str
    case_code: str
    url: str
    domain: str
    language: str
    status: RequestStatus
    sent_at: datetime | None
    deadline: datetime | None
    overdue: bool
    previous_reference: str


@dataclass(frozen=True, slots=True)
class WaitingSighting:
    """A confirmed sighting with no request yet."""

    id: int
    case_code: str
    url: str
    case_id: int = 0


def request_rows(
    svc: Services, who: WorkerIdentity, case_id: int | None = None, now: datetime | None = None
) -> tuple[list[RequestRow], list[WaitingSighting]]:
    """Her center's requests (newest first) and the confirmed sightings still without one."""
    at = (now or datetime.now(UTC)).astimezone(UTC)
    with svc.db.read(snapshot=True) as session:
        if case_id is not None:
            require_case(session, who, case_id)
        cases = [case_id] if case_id is not None else visible_case_ids(session, who)
        codes = dict(session.execute(select(Case.id, Case.code).where(Case.id.in_(cases))).all())
        requests = session.scalars(
            select(TakedownRequest)
            .where(TakedownRequest.case_id.in_(cases), TakedownRequest.center_id == who.center_id)
            .order_by(TakedownRequest.id.desc())
        ).all()
        waiting = session.scalars(
            select(Sighting)
            .where(
                Sighting.case_id.in_(cases),
                Sighting.review_status == ReviewState.CONFIRMED,
                Sighting.id.not_in(select(TakedownRequest.sighting_id)),
            )
            .order_by(Sighting.id)
        ).all()
    references = {r.id: r.reference for r in requests}
    rows = [
        RequestRow(
            id=r.id,
            reference=r.reference,
            case_code=codes.get(r.case_id, ""),
            url=r.url,
            domain=r.domain,
            language=r.language,
            status=r.status,
            sent_at=r.sent_at,
            deadline=r.deadline,
            overdue=r.status in OPEN_STATUSES and r.deadline is not None and at > r.deadline,
            previous_reference=references.get(r.previous_request_id or -1, ""),
        )
        for r in requests
    ]
    return rows, [
        WaitingSighting(s.id, codes.get(s.case_id, ""), s.media_url, s.case_id) for s in waiting
    ]


@dataclass(frozen=True, slots=True)
class HistoryLine:
    at: datetime
    what: str  # a RequestStatus or a FollowUp value
    actor: str
    note: str


# Who wrote a history line when no person did, in the page's words (a worker's name stays).
_SYSTEM_ACTORS: dict[str, dict[Language, str]] = {
    "follow-up": {Language.KO: "자동 재확인", Language.EN: "automatic re-check"},
}


def history_in(language: Language, history: list[HistoryLine]) -> list[HistoryLine]:
    """The history as a page in ``language`` shows it: the follow-up's notes ("e-mail to …",
    "blocked: …", "same file") and system actors in that language, a worker's own words and
    name as written (``report.strings.note_text``, the report's one home for these words)."""
    return [
        HistoryLine(
            h.at,
            h.what,
            _SYSTEM_ACTORS.get(h.actor, {}).get(language, h.actor),
            note_text(language, h.note),
        )
        for h in history
    ]


@dataclass(frozen=True, slots=True)
class RequestDetail:
    row: RequestRow
    recipient: str
    channel: str
    subject: str
    notice_text: str
    page_url: str
    history: list[HistoryLine]
    notice_id: int | None = None  # the notice per host it is sent with, if any
    sending: bool = False  # a draft whose send was interrupted: it goes again unchanged


def request_detail(
    svc: Services, who: WorkerIdentity, request_id: int, now: datetime | None = None
) -> RequestDetail:
    """One request of her center: the notice as stored, and its whole history."""
    with svc.db.read(snapshot=True) as session:
        r = session.get(TakedownRequest, request_id)
        if r is None or r.center_id != who.center_id:
            raise NotFoundError("no such takedown request")
        events = session.scalars(
            select(TakedownEvent).where(TakedownEvent.request_id == r.id)
        ).all()
        checks = session.scalars(
            select(FollowUpCheck).where(FollowUpCheck.request_id == r.id)
        ).all()
        # checks first: at the same moment, a follow-up comes before the change it caused
        history = [HistoryLine(c.at, c.outcome.value, "follow-up", c.reason) for c in checks]
        history += [HistoryLine(e.at, e.status.value, e.actor, e.note) for e in events]
        recipient, channel, subject, text = r.recipient, r.channel.value, r.subject, r.notice_text
        page_url, notice_id = r.page_url or "", r.notice_id
        sending = r.status is RequestStatus.DRAFT and r.message_id is not None
    rows, _ = request_rows(svc, who, None, now)
    row = next(x for x in rows if x.id == request_id)
    history.sort(key=lambda line: line.at)
    return RequestDetail(
        row, recipient, channel, subject, text, page_url, history, notice_id, sending
    )


@dataclass(frozen=True, slots=True)
class CaseHistoryLine:
    """One entry of a case's timeline as the worker's case page lists it."""

    at: datetime
    kind: EntryKind
    detail: str  # a decision (confirmed, rejected), a request status, or "" (see kind)
    item: str  # a scan sighting's media URL, or "<platform> · <ref>"
    sighting_id: int | None
    earlier_sighting_id: int | None  # for a re-upload: the item it came back after


def case_history(svc: Services, who: WorkerIdentity, case_id: int) -> list[CaseHistoryLine]:
    """The case timeline, oldest first: found, re-upload, decision, notice, answer, removal."""
    with svc.db.read(snapshot=True) as session:
        require_case(session, who, case_id)
        timeline = case_timeline(session, [case_id], who.center_id)
        names = dict(session.execute(select(PlatformClient.id, PlatformClient.name)).all())
    items = {i.key: i for i in timeline.items}
    out = []
    for e in timeline.entries:
        item = items[e.item]
        if item.source is ItemSource.PLATFORM:
            label = f"{names.get(item.client_id or -1, '')} · {item.ref}"
        else:
            label = item.url
        detail = e.detail if e.kind in (EntryKind.DECISION, EntryKind.ANSWER) else ""
        earlier = item.reupload_of if e.kind is EntryKind.REUPLOAD else None
        out.append(CaseHistoryLine(e.at, e.kind, detail, label, item.sighting_id, earlier))
    return out
