"""The support worker's review: her center's cases and sightings, previews, reveal, decisions.

A worker only ever reaches sightings and evidence of cases assigned to her center; anything
else is "not found". Previews are blurred and greyscale; seeing the original is a deliberate
step recorded in the audit log (who, which sighting, which evidence), as is every decision.
A rejected sighting stops alerting: scans leave it rejected when they see it again.
Once she withdraws, no more decisions (410); if she chose to have the center's evidence
deleted, previews and reveals are refused too (410) and the cards say so.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stopspread.errors import CaseWithdrawnError, InvalidRequestError, NotFoundError
from stopspread.evidence.preview import PreviewLevel
from stopspread.evidence.preview import preview as make_preview
from stopspread.matching.policy import MatchPolicy
from stopspread.services import audit
from stopspread.services.context import Services
from stopspread.services.custody.erase import evidence_erased, require_evidence
from stopspread.services.custody.store import EvidenceStore
from stopspread.services.workers.accounts import WorkerIdentity, require_case
from stopspread.services.workers.closeness import Distance, describe, radius
from stopspread.storage.models import Case, CaseStatus
from stopspread.storage.models_scan import MatchKind, ReviewState, Sighting
from stopspread.storage.models_worker import CaseAssignment, EvidenceRecord

__all__ = [
    "MAX_CARDS",
    "CaseCard",
    "Decision",
    "Original",
    "PreviewLevel",  # how far a preview is from the original (blur, colour, outline)
    "ReviewState",  # the states a sighting's review is in (the filter on the review page)
    "SightingCard",
    "case_card",
    "decide",
    "decide_many",
    "get_card",
    "list_cases",
    "list_sightings",
    "preview",
    "reveal",
    "revealed_media",
]

MAX_CARDS: Final = 200  # sightings on one page


class Decision(enum.StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"
    SECOND_LOOK = "second_look"

    @property
    def state(self) -> ReviewState:
        return {
            Decision.CONFIRM: ReviewState.CONFIRMED,
            Decision.REJECT: ReviewState.REJECTED,
            Decision.SECOND_LOOK: ReviewState.SECOND_LOOK,
        }[self]


@dataclass(frozen=True, slots=True)
class CaseCard:
    id: int
    code: str
    status: CaseStatus
    assigned_at: datetime
    sightings: int
    pending: int
    evidence_erased: bool  # withdrawn and her choice was to delete the center's evidence

    @property
    def withdrawn(self) -> bool:
        return self.status is CaseStatus.WITHDRAWN


@dataclass(frozen=True, slots=True)
class SightingCard:
    id: int
    case_id: int
    case_code: str
    media_url: str
    page_url: str | None
    first_seen: datetime
    last_seen: datetime
    distance: int
    signal_type: str
    signal_id: int | None  # the enrolled signal it matched (None: that signal was withdrawn)
    radius: int  # the match radius in force for its signal type (the match policy's)
    match_kind: MatchKind
    review_status: ReviewState
    reviewed_by: str | None
    reupload: bool
    removed_at: datetime | None
    evidence_id: int
    captured_at: str  # UTC, ISO 8601
    captured_at_kst: str
    evidence_sha256: str
    case_withdrawn: bool  # no decisions any more
    evidence_erased: bool  # no preview, no reveal: her choice at withdrawal

    @property
    def closeness(self) -> Distance:
        """The distance in words (``closeness.describe``), with the numbers behind it."""
        return describe(self.signal_type, self.distance, self.radius)

    @property
    def waiting(self) -> bool:
        return self.review_status in (ReviewState.PENDING, ReviewState.SECOND_LOOK)


@dataclass(frozen=True, slots=True)
class Original:
    evidence_id: int
    content_type: str
    body: bytes
    media_url: str


def list_cases(svc: Services, who: WorkerIdentity) -> list[CaseCard]:
    waiting = Sighting.review_status.in_([ReviewState.PENDING, ReviewState.SECOND_LOOK])
    pending = func.sum(sql_case((waiting, 1), else_=0))
    query = (
        select(Case, CaseAssignment.assigned_at, func.count(Sighting.id), pending)
        .join(CaseAssignment, CaseAssignment.case_id == Case.id)
        .outerjoin(Sighting, Sighting.case_id == Case.id)
        .where(CaseAssignment.center_id == who.center_id)
        .group_by(Case.id, CaseAssignment.assigned_at)
        .order_by(CaseAssignment.assigned_at.desc(), Case.id)
    )
    with svc.db.read() as session:
        rows = session.execute(query).all()
    return [
        CaseCard(
            case.id, case.code, case.status, at, total, int(waiting or 0), evidence_erased(case)
        )
        for case, at, total, waiting in rows
    ]


def case_card(svc: Services, who: WorkerIdentity, case_id: int) -> CaseCard | None:
    """One case of her center (its status: withdrawn, evidence kept or erased); None if not."""
    return next((c for c in list_cases(svc, who) if c.id == case_id), None)


def list_sightings(
    svc: Services,
    who: WorkerIdentity,
    case_id: int | None = None,
    status: ReviewState | None = None,
) -> list[SightingCard]:
    """Her center's sightings, waiting ones first, newest first; one case if ``case_id``."""
    query = (
        select(Sighting, Case, EvidenceRecord)
        .join(Case, Case.id == Sighting.case_id)
        .join(CaseAssignment, CaseAssignment.case_id == Sighting.case_id)
        .join(EvidenceRecord, EvidenceRecord.id == Sighting.media_evidence_id)
        .where(CaseAssignment.center_id == who.center_id)
    )
    if case_id is not None:
        query = query.where(Sighting.case_id == case_id)
    if status is not None:
        query = query.where(Sighting.review_status == status)
    waiting = Sighting.review_status.in_([ReviewState.PENDING, ReviewState.SECOND_LOOK])
    query = query.order_by(waiting.desc(), Sighting.last_seen.desc(), Sighting.id.desc())
    with svc.db.read() as session:
        if case_id is not None:
            require_case(session, who, case_id)
        rows = session.execute(query.limit(MAX_CARDS)).all()
    return [_card(s, case, ev, svc.policy) for s, case, ev in rows]


def get_card(svc: Services, who: WorkerIdentity, sighting_id: int) -> SightingCard:
    """One sighting of her center's cases; :class:`NotFoundError` otherwise."""
    query = (
        select(Sighting, Case, EvidenceRecord)
        .join(Case, Case.id == Sighting.case_id)
        .join(CaseAssignment, CaseAssignment.case_id == Sighting.case_id)
        .join(EvidenceRecord, EvidenceRecord.id == Sighting.media_evidence_id)
        .where(CaseAssignment.center_id == who.center_id, Sighting.id == sighting_id)
    )
    with svc.db.read() as session:
        row = session.execute(query).first()
    if row is None:
        raise NotFoundError("no such sighting")
    return _card(*row, svc.policy)


def _card(s: Sighting, case: Case, ev: EvidenceRecord, policy: MatchPolicy) -> SightingCard:
    return SightingCard(
        id=s.id,
        case_id=s.case_id,
        case_code=case.code,
        media_url=s.media_url,
        page_url=s.page_url,
        first_seen=s.first_seen,
        last_seen=s.last_seen,
        distance=s.distance,
        signal_type=s.signal_type,
        signal_id=s.signal_id,
        radius=radius(s.signal_type, policy),
        match_kind=s.match_kind,
        review_status=s.review_status,
        reviewed_by=s.reviewed_by,
        reupload=s.reupload,
        removed_at=s.removed_at,
        evidence_id=ev.id,
        captured_at=ev.captured_at,
        captured_at_kst=ev.captured_at_kst,
        evidence_sha256=ev.sha256,
        case_withdrawn=case.status is CaseStatus.WITHDRAWN,
        evidence_erased=evidence_erased(case),
    )


def _visible_sighting(session: Session, who: WorkerIdentity, sighting_id: int) -> Sighting:
    sighting = session.get(Sighting, sighting_id)
    if sighting is None:
        raise NotFoundError("no such sighting")
    require_case(session, who, sighting.case_id)
    return sighting


def _visible_evidence(session: Session, who: WorkerIdentity, evidence_id: int) -> EvidenceRecord:
    row = session.get(EvidenceRecord, evidence_id)
    if row is None:
        raise NotFoundError("no such evidence")
    require_case(session, who, row.case_id)
    require_evidence(session, row.case_id)
    return row


def preview(
    svc: Services,
    store: EvidenceStore,
    who: WorkerIdentity,
    evidence_id: int,
    level: PreviewLevel = PreviewLevel.BLUR,
) -> bytes:
    """A preview PNG (blurred grey by default) of one piece of evidence of her center's
    cases; no level shows the original (``evidence.preview``)."""
    with svc.db.read() as session:
        row = _visible_evidence(session, who, evidence_id)
    return make_preview(store.open_payload(row.id), row.content_type, level)


def reveal(svc: Services, store: EvidenceStore, who: WorkerIdentity, sighting_id: int) -> Original:
    """The original media of a sighting, for one view; recorded in the audit log first."""
    with svc.db.write() as (session, head):
        sighting = _visible_sighting(session, who, sighting_id)
        require_evidence(session, sighting.case_id)
        evidence = session.get(EvidenceRecord, sighting.media_evidence_id)
        if evidence is None:
            raise NotFoundError("no evidence for this sighting")
        payload = {"worker": who.worker_id, "sighting": sighting.id, "evidence": evidence.id}
        audit.append(session, head, audit.AuditKind.EVIDENCE_REVEALED, payload)
        content_type, url = evidence.content_type, sighting.media_url
    return Original(evidence.id, content_type, store.open_payload(evidence.id), url)


def revealed_media(
    svc: Services, store: EvidenceStore, who: WorkerIdentity, evidence_id: int
) -> Original:
    """The original behind a reveal link (already logged by :func:`reveal`); still checks
    that the evidence belongs to one of her center's cases."""
    with svc.db.read() as session:
        row = _visible_evidence(session, who, evidence_id)
        content_type, url = row.content_type, row.url
    return Original(evidence_id, content_type, store.open_payload(evidence_id), url)


def decide(svc: Services, who: WorkerIdentity, sighting_id: int, decision: Decision) -> None:
    """Confirm, reject or ask for a second look; recorded in the audit log."""
    decide_many(svc, who, [sighting_id], decision)


def decide_many(
    svc: Services, who: WorkerIdentity, sighting_ids: Sequence[int], decision: Decision
) -> list[int]:
    """One decision for several sightings (a group's bulk form), in one transaction: all of
    them or, when any is not one of her center's (:class:`NotFoundError`), none. Each is
    recorded in the audit log as if decided alone. Returns the ids, in order, once each."""
    ids = list(dict.fromkeys(sighting_ids))
    if not ids or len(ids) > MAX_CARDS:
        raise InvalidRequestError(f"decide 1 to {MAX_CARDS} sightings at a time")
    now = datetime.now(UTC)
    with svc.db.write() as (session, head):
        for sighting_id in ids:
            sighting = _visible_sighting(session, who, sighting_id)
            case = session.get(Case, sighting.case_id)
            if case is None or case.status is CaseStatus.WITHDRAWN:
                raise CaseWithdrawnError("the case was withdrawn: no more decisions")
            sighting.review_status = decision.state
            sighting.reviewed_by = who.username[:100]
            sighting.reviewed_at = now
            payload = {"worker": who.worker_id, "sighting": sighting.id, "decision": decision.value}
            audit.append(session, head, audit.AuditKind.SIGHTING_REVIEWED, payload)
    return ids
