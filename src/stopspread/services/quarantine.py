"""Quarantine that no single platform controls (issue 18, finding 3).

A planted hash (a meme, a logo) must not block everything, so a signal that suddenly
matches far more than others is quarantined. But one API key alone must not be able to
silence a survivor's hash for every other platform by sending it a hundred times. So:

- **Per-key mute.** When one key's open review of a signal collects
  ``quarantine_min_matches`` hits inside the window, the signal is muted *for that key
  only*: that key gets no-match for it from then on, every other platform still gets its
  matches. A ``quarantine`` review item naming the key is opened for the bank's owner.
- **Quarantine for everyone** needs ``quarantine_min_platforms`` distinct keys matching
  the signal inside the window, and counts each key's hits only up to its fair share
  (``min_matches / min_platforms``): the capped sum must reach
  ``max(min_matches, factor x the mean of the other signals matched in their window)``.
- **Release.** The owner (an operator, ``stopspread quarantine release ID``) releases a
  mute or a quarantine: the signal answers again, everywhere, within a second; or keeps
  it. Both are audit events; the survivor's counts show quarantined signals as they are.

Muting and quarantine only ever turn answers into no-match and open a review: nothing
is removed, nothing is punished.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stopspread.errors import InvalidRequestError, NotFoundError
from stopspread.services import audit
from stopspread.services.context import Services
from stopspread.services.signal_input import record_change
from stopspread.storage.db import Database
from stopspread.storage.models import (
    ChainHead,
    ChangeOp,
    ReviewItem,
    ReviewKind,
    ReviewStatus,
    Signal,
    SignalStatus,
)

__all__ = [
    "Outcome",
    "QuarantineRow",
    "after_hit",
    "is_muted",
    "keep",
    "open_quarantines",
    "release",
]


class Outcome(enum.Enum):
    NONE = "none"  # the hit is answered as a match
    MUTED = "muted"  # this key's flood: no-match for this key from now on
    QUARANTINED = "quarantined"  # many platforms: no-match for everyone until released


@dataclass(frozen=True, slots=True)
class QuarantineRow:
    """An open quarantine or mute, as the owner's list shows it (ids and counts only)."""

    review_id: int
    signal_id: int | None
    case_id: int | None
    client_id: int | None  # None: quarantined for every platform; else muted for this key
    hits: int
    created_at: datetime


def is_muted(session: Session, signal_id: int, client_id: int) -> bool:
    """Whether this key's flood muted this signal for it (an open per-key quarantine item)."""
    found = session.scalar(
        select(ReviewItem.id).where(
            ReviewItem.kind == ReviewKind.QUARANTINE,
            ReviewItem.status == ReviewStatus.OPEN,
            ReviewItem.signal_id == signal_id,
            ReviewItem.client_id == client_id,
        )
    )
    return found is not None


def after_hit(
    svc: Services,
    session: Session,
    head: ChainHead,
    signal: Signal,
    case_id: int | None,
    client_id: int,
    review: ReviewItem,
    now: datetime,
) -> Outcome:
    """Decide, right after a hit was counted, whether to mute it for the key or quarantine it."""
    settings = svc.settings
    since = now - timedelta(seconds=settings.quarantine_window_s)
    key_hits = review.hits if review.created_at >= since else 0
    if key_hits >= settings.quarantine_min_matches:
        _open(session, signal, case_id, client_id, key_hits, now)
        payload = {"signal": signal.id, "client": client_id, "hits": key_hits}
        audit.append(session, head, audit.AuditKind.SIGNAL_MUTED, payload)
        return Outcome.MUTED
    if not _quarantine_due(svc, session, signal, since):
        return Outcome.NONE
    signal.status = SignalStatus.QUARANTINED
    record_change(session, head, ChangeOp.REMOVE, signal)
    _open(session, signal, case_id, None, signal.window_matches, now)
    payload = {"signal": signal.id, "window_matches": signal.window_matches}
    audit.append(session, head, audit.AuditKind.SIGNAL_QUARANTINED, payload)
    return Outcome.QUARANTINED


def _quarantine_due(svc: Services, session: Session, signal: Signal, since: datetime) -> bool:
    settings = svc.settings
    if signal.window_matches < settings.quarantine_min_matches:
        return False  # cheap first: almost every hit stops here
    per_key = session.execute(
        select(ReviewItem.client_id, func.sum(ReviewItem.hits))
        .where(
            ReviewItem.kind == ReviewKind.MATCH,
            ReviewItem.signal_id == signal.id,
            ReviewItem.updated_at >= since,
            ReviewItem.client_id.is_not(None),
        )
        .group_by(ReviewItem.client_id)
    ).all()
    if len(per_key) < settings.quarantine_min_platforms:
        return False
    share = math.ceil(settings.quarantine_min_matches / settings.quarantine_min_platforms)
    counted = sum(min(int(hits), share) for _client, hits in per_key)
    mean = session.scalar(
        select(func.avg(Signal.window_matches)).where(
            Signal.window_start >= since, Signal.window_matches > 0, Signal.id != signal.id
        )
    )
    needed = max(settings.quarantine_min_matches, settings.quarantine_factor * float(mean or 0))
    return counted >= needed


def _open(
    session: Session,
    signal: Signal,
    case_id: int | None,
    client_id: int | None,
    hits: int,
    now: datetime,
) -> None:
    session.add(
        ReviewItem(
            kind=ReviewKind.QUARANTINE,
            status=ReviewStatus.OPEN,
            case_id=case_id,
            signal_id=signal.id,
            client_id=client_id,
            hits=hits,
            created_at=now,
            updated_at=now,
        )
    )


def open_quarantines(db: Database) -> list[QuarantineRow]:
    """Every open quarantine and per-key mute, oldest first (kept ones are not listed)."""
    with db.read() as session:
        rows = session.scalars(
            select(ReviewItem)
            .where(ReviewItem.kind == ReviewKind.QUARANTINE, ReviewItem.status == ReviewStatus.OPEN)
            .order_by(ReviewItem.id)
        ).all()
        return [
            QuarantineRow(r.id, r.signal_id, r.case_id, r.client_id, r.hits, r.created_at)
            for r in rows
        ]


def _decidable(session: Session, review_id: int) -> ReviewItem:
    item = session.get(ReviewItem, review_id)
    if item is None or item.kind is not ReviewKind.QUARANTINE:
        raise NotFoundError("no such quarantine")
    kept = item.status is ReviewStatus.NOT_NCII and item.client_id is None
    if item.status is not ReviewStatus.OPEN and not kept:
        raise InvalidRequestError("this quarantine was released already")
    return item


def release(db: Database, review_id: int, by: str) -> None:
    """The hash is the survivor's: it answers again (for the muted key, or for everyone).

    The quarantine item closes as ``confirmed`` (the owner confirmed the hash). The
    signal's window restarts, so the hits that led here do not count twice; after a mute,
    the key's open match review — the flood — closes as ``confirmed`` too (the owner has
    seen it), so the key's next hit starts a new one.
    """
    now = datetime.now(UTC)
    with db.write() as (session, head):
        item = _decidable(session, review_id)
        signal = session.get(Signal, item.signal_id) if item.signal_id is not None else None
        if signal is not None:
            signal.window_start, signal.window_matches = now, 0
            if item.client_id is None and signal.status is SignalStatus.QUARANTINED:
                signal.status = SignalStatus.ACTIVE
                record_change(session, head, ChangeOp.ADD, signal)
        if item.client_id is not None:
            flood = session.scalars(
                select(ReviewItem).where(
                    ReviewItem.kind == ReviewKind.MATCH,
                    ReviewItem.status == ReviewStatus.OPEN,
                    ReviewItem.signal_id == item.signal_id,
                    ReviewItem.client_id == item.client_id,
                )
            )
            for match_item in flood:
                match_item.status, match_item.updated_at = ReviewStatus.CONFIRMED, now
        item.status, item.updated_at = ReviewStatus.CONFIRMED, now
        payload = {"review": item.id, "signal": item.signal_id, "client": item.client_id}
        audit.append(session, head, audit.AuditKind.SIGNAL_RELEASED, {**payload, "by": by[:100]})


def keep(db: Database, review_id: int, by: str) -> None:
    """The owner agrees the hash matches what it should not: it stays quarantined.

    Only for a quarantine for everyone (closed as ``not_ncii``; it can still be released
    later). A per-key mute needs no decision to stay: it lasts until it is released.
    """
    now = datetime.now(UTC)
    with db.write() as (session, head):
        item = _decidable(session, review_id)
        if item.client_id is not None:
            raise InvalidRequestError("a per-key mute lasts until it is released")
        if item.status is not ReviewStatus.OPEN:
            raise InvalidRequestError("this quarantine was kept already")
        item.status, item.updated_at = ReviewStatus.NOT_NCII, now
        payload = {"review": item.id, "signal": item.signal_id, "by": by[:100]}
        audit.append(session, head, audit.AuditKind.QUARANTINE_KEPT, payload)
