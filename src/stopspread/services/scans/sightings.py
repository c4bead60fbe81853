"""Sightings: a hit becomes evidence first, then a sighting; repeats, removals, re-uploads.

Rules (``docs/sources-and-scans.md``):

- one sighting per (case, media URL) while it is online: a later scan finding it again only
  moves ``last_seen``;
- the same bytes (SHA-256) or a match on the same enrolled hash at another URL is a new
  sighting linked to the earlier one (``same_content_as``);
- a sighting whose URL was marked removed and is found again, or whose content appears at a
  new URL after a removal, is a new sighting flagged ``reupload`` with ``reupload_of`` set
  (evidence is captured again);
- a rejected sighting never alerts again: the same URL, or the same bytes elsewhere, only
  move its ``last_seen``.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from stopspread.errors import NotFoundError
from stopspread.evidence import HttpCapture
from stopspread.services.custody import EvidenceStore
from stopspread.services.scans.matcher import Hit
from stopspread.sources.fetch import Fetched
from stopspread.storage.db import Database
from stopspread.storage.models import utcnow
from stopspread.storage.models_scan import (
    ReviewState,
    Sighting,
    SightingEvent,
    SightingEventKind,
)

__all__ = [
    "Observation",
    "Outcome",
    "as_capture",
    "mark_removed",
    "mark_removed_in",
    "record_hit",
    "url_key",
]


class Outcome(enum.StrEnum):
    NEW = "new"
    REUPLOAD = "reupload"
    SEEN_AGAIN = "seen_again"
    SUPPRESSED = "suppressed"  # rejected earlier: no alert


@dataclass(frozen=True, slots=True)
class Observation:
    """One matching download, as a scan saw it."""

    case_id: int
    media_url: str  # as found in the page (before redirects): the sighting's identity
    source_id: int | None
    scan_id: int | None
    media: Fetched
    page: Fetched | None
    hit: Hit
    at: datetime

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.media.body).hexdigest()


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8", errors="surrogatepass")).hexdigest()


def as_capture(fetched: Fetched) -> HttpCapture:
    return HttpCapture(
        url=fetched.url,
        status=fetched.status,
        headers=list(fetched.headers),
        body=fetched.body,
        fetched_at=fetched.fetched_at,
        request_headers=list(fetched.request_headers),
        peer=fetched.peer or None,
    )


def _latest_at_url(session: Session, case_id: int, key: str) -> Sighting | None:
    query = (
        select(Sighting)
        .where(Sighting.case_id == case_id, Sighting.url_key == key)
        .order_by(Sighting.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def _same_content(session: Session, obs: Observation, sha256: str) -> list[Sighting]:
    same = Sighting.media_sha256 == sha256
    if obs.hit.signal_id is not None:  # (an ss-kp-1 hit may name no signal: not "IS NULL")
        same = or_(same, Sighting.signal_id == obs.hit.signal_id)
    query = (
        select(Sighting)
        .where(Sighting.case_id == obs.case_id, same)
        .order_by(Sighting.id.desc())
        .limit(50)
    )
    return list(session.scalars(query))


def record_hit(
    session: Session,
    evidence: EvidenceStore,
    obs: Observation,
    page_evidence: dict[str, int],
) -> tuple[Outcome, Sighting]:
    """Record one hit inside the caller's write transaction; evidence is captured first.

    ``page_evidence`` maps page URLs captured in this scan to their evidence ids, so a page
    with several hits is stored once.
    """
    sha256 = obs.sha256
    latest = _latest_at_url(session, obs.case_id, url_key(obs.media_url))
    if latest is not None and (
        latest.review_status is ReviewState.REJECTED or latest.removed_at is None
    ):
        latest.last_seen = obs.at
        rejected = latest.review_status is ReviewState.REJECTED
        return (Outcome.SUPPRESSED if rejected else Outcome.SEEN_AGAIN), latest
    related = _same_content(session, obs, sha256)
    for earlier in related:
        if earlier.media_sha256 == sha256 and earlier.review_status is ReviewState.REJECTED:
            earlier.last_seen = obs.at
            return Outcome.SUPPRESSED, earlier
    removed = latest or next((s for s in related if s.removed_at is not None), None)
    media_id, page_id = _capture(session, evidence, obs, page_evidence)
    sighting = _new_sighting(obs, sha256, media_id, page_id)
    sighting.reupload = removed is not None
    sighting.reupload_of = removed.id if removed is not None else None
    sighting.same_content_as = related[0].id if related else None
    session.add(sighting)
    session.flush()
    kind = SightingEventKind.REUPLOAD if removed is not None else SightingEventKind.FOUND
    event = SightingEvent(
        sighting_id=sighting.id, scan_id=obs.scan_id, kind=kind, at=obs.at,
        detail=obs.hit.detail, evidence_id=media_id,
    )  # fmt: skip
    session.add(event)
    return (Outcome.REUPLOAD if removed is not None else Outcome.NEW), sighting


def _new_sighting(obs: Observation, sha256: str, media_id: int, page_id: int | None) -> Sighting:
    return Sighting(
        case_id=obs.case_id,
        source_id=obs.source_id,
        scan_id=obs.scan_id,
        media_url=obs.media_url,
        url_key=url_key(obs.media_url),
        page_url=obs.page.url if obs.page is not None else None,
        media_sha256=sha256,
        first_seen=obs.at,
        last_seen=obs.at,
        distance=obs.hit.distance,
        signal_type=obs.hit.signal_type,
        signal_id=obs.hit.signal_id,
        match_kind=obs.hit.kind,
        review_status=ReviewState.PENDING,
        reupload=False,
        media_evidence_id=media_id,
        page_evidence_id=page_id,
    )


def _capture(
    session: Session, evidence: EvidenceStore, obs: Observation, page_evidence: dict[str, int]
) -> tuple[int, int | None]:
    reason = f"scan {obs.scan_id}: match" if obs.scan_id is not None else "match"
    items = [as_capture(obs.media)]
    page = obs.page
    need_page = page is not None and page.url not in page_evidence
    if page is not None and need_page:
        items.append(as_capture(page))
    refs = evidence.capture(session, obs.case_id, items, reason=reason)
    if page is not None and need_page:
        page_evidence[page.url] = refs[1].id
    page_id = page_evidence.get(page.url) if page is not None else None
    return refs[0].id, page_id


def mark_removed_in(
    session: Session, sighting: Sighting, *, scan_id: int | None, detail: str
) -> bool:
    """Set ``removed_at`` (once) and record the event; False when it was removed already."""
    if sighting.removed_at is not None:
        return False
    now = utcnow()
    sighting.removed_at = now
    session.add(
        SightingEvent(
            sighting_id=sighting.id,
            scan_id=scan_id,
            kind=SightingEventKind.REMOVED,
            at=now,
            detail=detail[:200],
        )
    )
    return True


def mark_removed(db: Database, sighting_id: int, *, by: str) -> bool:
    """A worker (or a takedown) says the media is gone; its return will be a re-upload."""
    with db.write() as (session, _head):
        sighting = session.get(Sighting, sighting_id)
        if sighting is None:
            raise NotFoundError("no such sighting")
        return mark_removed_in(session, sighting, scan_id=None, detail=f"marked by {by}")
