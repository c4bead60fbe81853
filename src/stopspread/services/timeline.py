"""One case timeline: the single source of every number a worker, a survivor or a report shows.

Items are what was found, each counted once:

- a **scan sighting** (one media URL where a scan found her image or video);
- a **platform match** (one opaque ``ref``: a platform's uploads matching one of her hashes;
  every later hit of the same ref is the same item, its ``hits`` grow).

Entries are what happened to them, in time order: found, re-upload, decision, notice, answer
(a host acknowledged, refused or removed), removal.

A sighting is a **re-upload** only when it came back *after* an earlier item with the same
content (the same bytes or the same enrolled hash) was removed, or after a notice about that
item was sent; the earlier item is linked. Copies found in the same scan, or before any notice
or removal, are separate sightings and never re-uploads. Rejected items (not her image) are
left out of every count.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from stopspread.storage.models import ReviewItem, ReviewKind, ReviewStatus
from stopspread.storage.models_scan import ReviewState, Sighting
from stopspread.storage.models_takedown import TakedownEvent, TakedownRequest
from stopspread.takedown.requests import RequestStatus

__all__ = [
    "EntryKind",
    "ItemSource",
    "ItemState",
    "Timeline",
    "TimelineCounts",
    "TimelineEntry",
    "TimelineItem",
    "case_timeline",
]


class ItemSource(enum.StrEnum):
    SCAN = "scan"  # a center's scan found it at a URL
    PLATFORM = "platform"  # a platform's upload matched (POST /v1/match)


class ItemState(enum.StrEnum):
    UNDER_REVIEW = "under_review"  # waiting for a person (or a second look)
    CONFIRMED = "confirmed"  # a worker confirmed it is her image
    REJECTED = "rejected"  # not her image: left out of every count


class EntryKind(enum.StrEnum):
    FOUND = "found"
    REUPLOAD = "reupload"
    DECISION = "decision"
    NOTICE = "notice"
    ANSWER = "answer"  # the host acknowledged, refused or did not answer
    REMOVAL = "removal"


_ORDER = {kind: n for n, kind in enumerate(EntryKind)}  # at the same moment: this order

_ANSWERS = frozenset(
    {RequestStatus.ACKNOWLEDGED, RequestStatus.REFUSED, RequestStatus.NO_ANSWER}
)  # a request's statuses that are the host's answer (REMOVED is the item's removal)


@dataclass(frozen=True, slots=True)
class TimelineItem:
    key: str  # "scan:<sighting id>" or "platform:<ref>"
    source: ItemSource
    case_id: int
    found_at: datetime
    state: ItemState
    decided_at: datetime | None = None
    sighting_id: int | None = None
    url: str = ""  # a scan sighting's media URL
    scan_id: int | None = None
    ref: str = ""  # a platform match's opaque ref
    review_id: int | None = None  # the platform match's (latest) review item
    client_id: int | None = None
    hits: int = 1
    platform_verdict: ReviewStatus | None = None  # the platform's own reviewer
    notice_sent_at: datetime | None = None  # the first notice about this item
    removed_at: datetime | None = None
    reupload_of: int | None = None  # the earlier sighting it came back after


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    kind: EntryKind
    item: str  # TimelineItem.key
    detail: str = ""  # a decision, a request status, a linked sighting id


@dataclass(frozen=True, slots=True)
class TimelineCounts:
    """Every number, from the same items: ``found == under_review + confirmed``."""

    found: int = 0
    under_review: int = 0
    confirmed: int = 0
    requests_sent: int = 0  # items a notice was sent about
    removed: int = 0
    reuploads: int = 0
    platform_matches: int = 0
    rejected: int = 0  # not her image (shown to workers only)


@dataclass(frozen=True, slots=True)
class Timeline:
    items: list[TimelineItem] = field(default_factory=list)
    entries: list[TimelineEntry] = field(default_factory=list)

    @property
    def counts(self) -> TimelineCounts:
        kept = [i for i in self.items if i.state is not ItemState.REJECTED]
        return TimelineCounts(
            found=len(kept),
            under_review=sum(1 for i in kept if i.state is ItemState.UNDER_REVIEW),
            confirmed=sum(1 for i in kept if i.state is ItemState.CONFIRMED),
            requests_sent=sum(1 for i in kept if i.notice_sent_at is not None),
            removed=sum(1 for i in kept if i.removed_at is not None),
            reuploads=sum(1 for i in kept if i.reupload_of is not None),
            platform_matches=sum(1 for i in kept if i.source is ItemSource.PLATFORM),
            rejected=len(self.items) - len(kept),
        )

    def reuploads(self) -> list[TimelineItem]:
        return [
            i for i in self.items if i.reupload_of is not None and i.state is not ItemState.REJECTED
        ]

    def by_sighting(self) -> dict[int, TimelineItem]:
        return {i.sighting_id: i for i in self.items if i.sighting_id is not None}


_SCAN_STATES = {
    ReviewState.PENDING: ItemState.UNDER_REVIEW,
    ReviewState.SECOND_LOOK: ItemState.UNDER_REVIEW,
    ReviewState.CONFIRMED: ItemState.CONFIRMED,
    ReviewState.REJECTED: ItemState.REJECTED,
}
_PLATFORM_STATES = {
    ReviewStatus.OPEN: ItemState.UNDER_REVIEW,
    ReviewStatus.CONFIRMED: ItemState.CONFIRMED,
    ReviewStatus.NOT_NCII: ItemState.REJECTED,
}


def case_timeline(
    session: Session, case_ids: Sequence[int], center_id: int | None = None
) -> Timeline:
    """The timeline of these cases (a worker's center, or one survivor's case).

    ``center_id``: count only that center's notices (a worker's view); None: every notice.
    """
    if not case_ids:
        return Timeline()
    sightings = list(
        session.scalars(
            select(Sighting).where(Sighting.case_id.in_(case_ids)).order_by(Sighting.id)
        )
    )
    query = select(TakedownRequest).where(TakedownRequest.case_id.in_(case_ids))
    if center_id is not None:
        query = query.where(TakedownRequest.center_id == center_id)
    requests = list(session.scalars(query.order_by(TakedownRequest.id)))
    sent = _first_sent(requests)
    related = _Related(sightings)
    items = [_scan_item(s, sent.get(s.id), _earlier(s, related, sent)) for s in sightings]
    items += _platform_items(session, case_ids)
    items.sort(key=lambda i: (i.found_at, i.key))
    entries = _entries(session, items, requests)
    return Timeline(items, entries)


def _first_sent(requests: Iterable[TakedownRequest]) -> dict[int, datetime]:
    out: dict[int, datetime] = {}
    for r in requests:
        if r.first_sent_at is not None:
            at = out.get(r.sighting_id)
            out[r.sighting_id] = r.first_sent_at if at is None else min(at, r.first_sent_at)
    return out


class _Related:
    """Sightings by content: the same bytes (SHA-256) or the same enrolled hash."""

    def __init__(self, sightings: list[Sighting]) -> None:
        self._by_sha: dict[str, list[Sighting]] = {}
        self._by_signal: dict[int, list[Sighting]] = {}
        for s in sightings:
            self._by_sha.setdefault(s.media_sha256, []).append(s)
            if s.signal_id is not None:
                self._by_signal.setdefault(s.signal_id, []).append(s)

    def before(self, s: Sighting) -> list[Sighting]:
        found = {e.id: e for e in self._by_sha.get(s.media_sha256, []) if e.id < s.id}
        if s.signal_id is not None:
            found.update((e.id, e) for e in self._by_signal.get(s.signal_id, []) if e.id < s.id)
        return [found[k] for k in sorted(found)]


def _earlier(s: Sighting, related: _Related, sent: dict[int, datetime]) -> int | None:
    """The earlier item ``s`` came back after (removed, or a notice sent), else None."""
    if s.review_status is ReviewState.REJECTED:
        return None
    if s.reupload_of is not None:  # the scan saw it come back after a removal
        return s.reupload_of
    candidates = [
        e
        for e in related.before(s)
        if e.review_status is not ReviewState.REJECTED
        and not (s.scan_id is not None and e.scan_id == s.scan_id)  # same scan: a copy
        and _gone_or_noticed_before(e, sent.get(e.id), s.first_seen)
    ]
    if not candidates:
        return None
    linked = next((e for e in candidates if e.id == s.same_content_as), candidates[0])
    return linked.id


def _gone_or_noticed_before(e: Sighting, notice_at: datetime | None, at: datetime) -> bool:
    removed = e.removed_at is not None and e.removed_at < at
    noticed = notice_at is not None and notice_at < at
    return removed or noticed


def _scan_item(s: Sighting, notice_at: datetime | None, earlier: int | None) -> TimelineItem:
    return TimelineItem(
        key=f"scan:{s.id}",
        source=ItemSource.SCAN,
        case_id=s.case_id,
        found_at=s.first_seen,
        state=_SCAN_STATES[s.review_status],
        decided_at=s.reviewed_at,
        sighting_id=s.id,
        url=s.media_url,
        scan_id=s.scan_id,
        notice_sent_at=notice_at,
        removed_at=s.removed_at,
        reupload_of=earlier,
    )


def _platform_items(session: Session, case_ids: Sequence[int]) -> list[TimelineItem]:
    """One item per ref: its hits summed, its state the latest review item's."""
    rows = session.scalars(
        select(ReviewItem)
        .where(ReviewItem.case_id.in_(case_ids), ReviewItem.kind == ReviewKind.MATCH)
        .order_by(ReviewItem.id)
    )
    by_ref: dict[str, list[ReviewItem]] = {}
    for row in rows:
        by_ref.setdefault(row.ref or f"review-{row.id}", []).append(row)
    out = []
    for ref, group in by_ref.items():
        latest = group[-1]
        verdicts = [g.platform_verdict for g in group if g.platform_verdict is not None]
        state = _PLATFORM_STATES[latest.status]
        out.append(
            TimelineItem(
                key=f"platform:{ref}",
                source=ItemSource.PLATFORM,
                case_id=latest.case_id or 0,
                found_at=min(g.created_at for g in group),
                state=state,
                decided_at=latest.updated_at if state is not ItemState.UNDER_REVIEW else None,
                ref=ref,
                review_id=latest.id,
                client_id=latest.client_id,
                hits=sum(g.hits for g in group),
                platform_verdict=verdicts[-1] if verdicts else None,
            )
        )
    return out


def _entries(
    session: Session, items: list[TimelineItem], requests: list[TakedownRequest]
) -> list[TimelineEntry]:
    out = []
    for i in items:
        kind = EntryKind.REUPLOAD if i.reupload_of is not None else EntryKind.FOUND
        detail = str(i.reupload_of) if i.reupload_of is not None else i.source.value
        out.append(TimelineEntry(i.found_at, kind, i.key, detail))
        if i.decided_at is not None and i.state is not ItemState.UNDER_REVIEW:
            out.append(TimelineEntry(i.decided_at, EntryKind.DECISION, i.key, i.state.value))
        if i.removed_at is not None:
            out.append(TimelineEntry(i.removed_at, EntryKind.REMOVAL, i.key))
    ids = [r.id for r in requests]
    key_of = {r.id: f"scan:{r.sighting_id}" for r in requests}
    events: Sequence[TakedownEvent] = (
        session.scalars(select(TakedownEvent).where(TakedownEvent.request_id.in_(ids))).all()
        if ids
        else []
    )
    for e in events:
        if e.status is RequestStatus.SENT:
            out.append(TimelineEntry(e.at, EntryKind.NOTICE, key_of[e.request_id], e.status.value))
        elif e.status in _ANSWERS:
            out.append(TimelineEntry(e.at, EntryKind.ANSWER, key_of[e.request_id], e.status.value))
    out.sort(key=lambda entry: (entry.at, _ORDER[entry.kind], entry.item))
    return out
