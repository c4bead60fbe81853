"""Platform use cases: API clients, matching an upload, feedback on a match.

The match answer is only ``match`` plus an opaque ``ref``; never a distance, bank or case.
A match opens (or adds a hit to) a review item for the bank's owner: a person decides,
nothing is punished automatically. A signal that suddenly matches far more than others, on
several platforms, is quarantined; one key's flood only mutes the signal for that key
(:mod:`stopspread.services.quarantine`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from stopspread.errors import (
    AuthError,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
)
from stopspread.services import audit, quarantine
from stopspread.services.context import Services
from stopspread.services.keys import hash_api_key, match_ref, new_api_key
from stopspread.services.signal_input import SignalIn
from stopspread.storage.db import Database
from stopspread.storage.models import (
    Bank,
    MatchRef,
    PlatformClient,
    ReviewItem,
    ReviewKind,
    ReviewStatus,
    Signal,
    SignalStatus,
)

__all__ = [
    "ClientDirectory",
    "ClientInfo",
    "FeedbackStatus",
    "MatchResult",
    "ReviewStatus",  # the verdicts feedback accepts
    "check_limits",
    "create_client",
    "feedback",
    "feedback_status",
    "match",
    "revoke_client",
]


@dataclass(frozen=True, slots=True)
class ClientInfo:
    id: int
    name: str
    can_hash: bool


@dataclass(frozen=True, slots=True)
class MatchResult:
    match: bool
    ref: str | None = None


def create_client(db: Database, name: str, can_hash: bool = False) -> tuple[ClientInfo, str]:
    """Register a platform; returns the API key, which is shown once and stored hashed."""
    if not name.strip() or len(name) > 100:
        raise InvalidRequestError("a client name is 1 to 100 characters")
    key = new_api_key()
    with db.write() as (session, head):
        if session.scalar(select(PlatformClient.id).where(PlatformClient.name == name)):
            raise InvalidRequestError(f"a client named {name!r} exists")
        client = PlatformClient(
            name=name, key_hash=hash_api_key(key), can_hash=can_hash, active=True
        )
        session.add(client)
        session.flush()
        audit.append(
            session,
            head,
            audit.AuditKind.CLIENT_CREATED,
            {"client": client.id, "can_hash": can_hash},
        )
        return ClientInfo(client.id, name, can_hash), key


def revoke_client(db: Database, name: str) -> None:
    with db.write() as (session, head):
        client = session.scalars(
            select(PlatformClient).where(PlatformClient.name == name)
        ).one_or_none()
        if client is None:
            raise NotFoundError(f"no client named {name!r}")
        client.active = False
        audit.append(session, head, audit.AuditKind.CLIENT_REVOKED, {"client": client.id})


class ClientDirectory:
    """Active API clients by key hash, cached in memory and refreshed by the poller."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._by_hash: dict[str, ClientInfo] = {}
        self._lock = threading.Lock()

    def refresh(self) -> None:
        with self._db.read() as session:
            rows = session.execute(
                select(
                    PlatformClient.key_hash,
                    PlatformClient.id,
                    PlatformClient.name,
                    PlatformClient.can_hash,
                ).where(PlatformClient.active.is_(True))
            ).all()
        table = {r[0]: ClientInfo(r[1], r[2], r[3]) for r in rows}
        with self._lock:
            self._by_hash = table

    def authenticate(self, key: str | None) -> ClientInfo:
        if not key:
            raise AuthError("an API key is needed: Authorization: Bearer <key>")
        client = self._by_hash.get(hash_api_key(key))
        if client is None:
            raise ForbiddenError("the API key is not valid")
        return client


def check_limits(svc: Services, client: ClientInfo) -> None:
    """Per-key rate limit (token bucket) and daily quota, both per process."""
    wait = svc.client_limiter.take(client.id)
    if wait:
        raise RateLimitedError("rate limit reached for this API key", wait)
    if not svc.client_quota.take(client.id):
        raise RateLimitedError("daily quota reached for this API key", 3600.0)


def match(svc: Services, client: ClientInfo, signal: SignalIn) -> MatchResult:
    """Look the signal up; a hit is recorded (ref, review item) before it is answered."""
    found = svc.replica.lookup(signal)
    if not found:
        return MatchResult(match=False)
    return record_match(svc, client, found)


def record_match(svc: Services, client: ClientInfo, signal_ids: list[int]) -> MatchResult:
    now = datetime.now(UTC)
    with svc.db.write() as (session, head):
        signal = None
        for sid in signal_ids:  # closest first; skip any withdrawn a moment ago
            candidate = session.get(Signal, sid)
            if candidate is not None and candidate.status is SignalStatus.ACTIVE:
                signal = candidate
                break
        if signal is None or quarantine.is_muted(session, signal.id, client.id):
            return MatchResult(match=False)
        ref = match_ref(svc.server_key, client.id, signal.id)
        case_id = session.scalar(select(Bank.case_id).where(Bank.id == signal.bank_id))
        if session.get(MatchRef, ref) is None:
            session.add(MatchRef(ref=ref, client_id=client.id, signal_id=signal.id))
        review = _open_review(session, ref, case_id, signal.id, client.id, now)
        _count_hit(signal, now, svc.settings.quarantine_window_s)
        audit.append(
            session,
            head,
            audit.AuditKind.MATCH_RECORDED,
            {"client": client.id, "signal": signal.id, "review": review.id},
        )
        outcome = quarantine.after_hit(svc, session, head, signal, case_id, client.id, review, now)
        if outcome is not quarantine.Outcome.NONE:
            return MatchResult(match=False)
    return MatchResult(match=True, ref=ref)


def _open_review(
    session: Session, ref: str, case_id: int | None, signal_id: int, client_id: int, now: datetime
) -> ReviewItem:
    """The ref's open review item; a hit after a decision opens a new one (the per-key mute
    counts the open item's hits). The case timeline counts one item per ref either way."""
    review = session.scalars(
        select(ReviewItem).where(ReviewItem.ref == ref, ReviewItem.status == ReviewStatus.OPEN)
    ).first()
    if review is None:
        review = ReviewItem(
            kind=ReviewKind.MATCH,
            status=ReviewStatus.OPEN,
            case_id=case_id,
            signal_id=signal_id,
            client_id=client_id,
            ref=ref,
            hits=0,
            created_at=now,
            updated_at=now,
        )
        session.add(review)
    review.hits += 1
    review.updated_at = now
    session.flush()
    return review


def _count_hit(signal: Signal, now: datetime, window_s: int) -> None:
    signal.match_count += 1
    if signal.window_start is None or now - signal.window_start > timedelta(seconds=window_s):
        signal.window_start, signal.window_matches = now, 0
    signal.window_matches += 1


def feedback(svc: Services, client: ClientInfo, ref: str, verdict: ReviewStatus) -> None:
    """A platform's reviewer says what the matched upload was; goes to the owner's queue."""
    if verdict is ReviewStatus.OPEN:
        raise InvalidRequestError("a verdict is confirmed or not_ncii")
    now = datetime.now(UTC)
    with svc.db.write() as (session, head):
        row = session.get(MatchRef, ref[:64])
        if row is None or row.client_id != client.id:
            raise NotFoundError("no such ref for this client")
        review = session.scalars(
            select(ReviewItem).where(ReviewItem.ref == ref).order_by(ReviewItem.id.desc())
        ).first()
        if review is None:
            raise NotFoundError("no such ref for this client")
        review.platform_verdict, review.updated_at = verdict, now
        audit.append(
            session,
            head,
            audit.AuditKind.FEEDBACK_RECORDED,
            {"client": client.id, "review": review.id, "verdict": verdict.value},
        )


@dataclass(frozen=True, slots=True)
class FeedbackStatus:
    """The center's decision on one of this platform's matches (its own ref only)."""

    ref: str
    decision: ReviewStatus  # open: a person has not decided yet
    decided_at: datetime | None
    your_verdict: ReviewStatus | None  # what this platform's reviewer sent
    hits: int


def feedback_status(svc: Services, client: ClientInfo, ref: str) -> FeedbackStatus:
    """The feedback path back to the platform: what the center's worker decided."""
    with svc.db.read() as session:
        row = session.get(MatchRef, ref[:64])
        review = None
        if row is not None and row.client_id == client.id:
            review = session.scalars(
                select(ReviewItem)
                .where(ReviewItem.ref == ref, ReviewItem.kind == ReviewKind.MATCH)
                .order_by(ReviewItem.id.desc())
            ).first()
        if review is None:
            raise NotFoundError("no such ref for this client")
        decided = review.updated_at if review.status is not ReviewStatus.OPEN else None
        return FeedbackStatus(ref, review.status, decided, review.platform_verdict, review.hits)
