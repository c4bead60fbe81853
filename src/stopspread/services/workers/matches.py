"""The platform-match review queue: matches that platforms' uploads made with her hashes.

A platform's ``POST /v1/match`` hit opens a review item (one per opaque ``ref``) for the case
that owns the hash. A worker of the center the case is assigned to sees which platform, when,
how many hits, the ref and the platform's own reviewer's feedback, and decides: *confirm*
(it is her image) or *reject* (it is not). The decision is recorded in the audit log, goes
back to the platform (``GET /v1/feedback/{ref}``) and into the survivor's counts (the case
timeline, :mod:`stopspread.services.timeline`). No image is ever shown: a platform sends a
hash, never the upload.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import select

from stopspread.errors import CaseWithdrawnError, NotFoundError
from stopspread.services import audit
from stopspread.services.context import Services
from stopspread.services.workers.accounts import WorkerIdentity, visible_case_ids
from stopspread.storage.models import (
    Case,
    CaseStatus,
    PlatformClient,
    ReviewItem,
    ReviewKind,
    ReviewStatus,
)

__all__ = [
    "MAX_MATCHES",
    "MatchDecision",
    "MatchRow",
    "ReviewStatus",  # a match's review state (open, confirmed, not_ncii)
    "decide_match",
    "list_matches",
]

MAX_MATCHES: Final = 500  # rows on one page, open ones first


class MatchDecision(enum.StrEnum):
    CONFIRM = "confirm"  # it is her image
    REJECT = "reject"  # it is not: the platform is told "not_ncii"

    @property
    def status(self) -> ReviewStatus:
        return ReviewStatus.CONFIRMED if self is MatchDecision.CONFIRM else ReviewStatus.NOT_NCII


@dataclass(frozen=True, slots=True)
class MatchRow:
    review_id: int
    case_id: int
    case_code: str
    case_withdrawn: bool
    platform: str  # the platform client's name
    first_at: datetime
    last_at: datetime
    hits: int
    ref: str
    status: ReviewStatus
    platform_verdict: ReviewStatus | None  # the platform's own reviewer, if it said
    shape_points: bool = False  # found by ss-kp-1 shape points only: less certain


def list_matches(svc: Services, who: WorkerIdentity, *, open_only: bool = False) -> list[MatchRow]:
    """Her center's platform matches, open ones first, newest first within each."""
    with svc.db.read() as session:
        cases = visible_case_ids(session, who)
        query = (
            select(ReviewItem, Case.code, Case.status, PlatformClient.name)
            .join(Case, Case.id == ReviewItem.case_id)
            .outerjoin(PlatformClient, PlatformClient.id == ReviewItem.client_id)
            .where(ReviewItem.kind == ReviewKind.MATCH, ReviewItem.case_id.in_(cases))
            .order_by(ReviewItem.updated_at.desc(), ReviewItem.id.desc())
            .limit(MAX_MATCHES)
        )
        if open_only:
            query = query.where(ReviewItem.status == ReviewStatus.OPEN)
        rows = [
            MatchRow(
                review_id=r.id,
                case_id=r.case_id or 0,
                case_code=code,
                case_withdrawn=status is CaseStatus.WITHDRAWN,
                platform=name or "",
                first_at=r.created_at,
                last_at=r.updated_at,
                hits=r.hits,
                ref=r.ref or "",
                status=r.status,
                platform_verdict=r.platform_verdict,
                shape_points=r.shape_points,
            )
            for r, code, status, name in session.execute(query).all()
        ]
    return sorted(rows, key=lambda m: m.status is not ReviewStatus.OPEN)


def decide_match(
    svc: Services, who: WorkerIdentity, review_id: int, decision: MatchDecision
) -> None:
    """Confirm or reject one platform match of her center's cases; audit-logged."""
    with svc.db.write() as (session, head):
        item = session.get(ReviewItem, review_id)
        if (
            item is None
            or item.kind is not ReviewKind.MATCH
            or item.case_id not in visible_case_ids(session, who)
        ):
            raise NotFoundError("no such platform match")
        case = session.get(Case, item.case_id)
        if case is None or case.status is CaseStatus.WITHDRAWN:
            raise CaseWithdrawnError("this case was withdrawn")
        item.status, item.updated_at = decision.status, datetime.now(UTC)
        payload = {"worker": who.worker_id, "review": item.id, "decision": decision.value}
        audit.append(session, head, audit.AuditKind.MATCH_DECIDED, payload)
