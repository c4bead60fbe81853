"""Platform use cases: API clients, matching an upload, feedback on a match.

The match answer is only ``match`` plus an opaque ``ref``; never a distance, bank or case.
A match opens (or adds a hit to) a review item for the bank's owner: a person decides,
nothing is punished automatically. The server decides the answer in memory and journals
it (:mod:`stopspread.services.journal`): the review item follows within an apply interval,
so a hit and a miss take the same time. A signal that suddenly matches far more than others, on
several platforms, is quarantined; one key's flood only mutes the signal for that key
(:mod:`stopspread.services.quarantine`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

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
from stopspread.services.journal import (
    Hit,
    Journal,
    JournalConsumer,
    pack_miss,
    replay_orphans,
)
from stopspread.services.keys import hash_api_key, match_ref, new_api_key
from stopspread.services.signal_input import SignalIn
from stopspread.storage.db import Database
from stopspread.storage.models import (
    Bank,
    ChainHead,
    MatchRef,
    Meta,
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
    "Decision",
    "FeedbackStatus",
    "MatchJournal",
    "MatchResult",
    "ReviewStatus",  # the verdicts feedback accepts
    "apply_hits",
    "check_limits",
    "create_client",
    "decide",
    "feedback",
    "feedback_status",
    "forget_journal",
    "match",
    "record_match",
    "refresh_hitbook",
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

    def forget(self, client_ids: Sequence[int]) -> None:
        """Drop suspended or revoked clients now, before the next refresh."""
        gone = set(client_ids)
        with self._lock:
            self._by_hash = {h: c for h, c in self._by_hash.items() if c.id not in gone}

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


@dataclass(frozen=True, slots=True)
class Decision:
    """A match answer and, for a hit, the (client id, signal id) its journal record holds."""

    result: MatchResult
    hit: tuple[int, int] | None = None
    shape_points: bool = False  # the hit was found by ss-kp-1 keypoints only (less certain)


MISS: Final = Decision(MatchResult(match=False))


def decide(
    svc: Services, client: ClientInfo, found: list[int], shape_only: frozenset[int] = frozenset()
) -> Decision:
    """The answer, in memory only (services/hitbook.py): the same work for a hit as for a
    miss until the journal; the hit's database write follows off the request path.
    ``shape_only``: the signals in ``found`` that only keypoints (shape points) found."""
    if not found:
        return MISS
    signal_id, answer = svc.hitbook.take(client.id, found, datetime.now(UTC))
    if signal_id is None:
        return MISS
    ref = match_ref(svc.server_key, client.id, signal_id) if answer else None
    result = MatchResult(match=answer, ref=ref)
    return Decision(result, (client.id, signal_id), signal_id in shape_only)


class MatchJournal:
    """This process's journal of match answers and the thread that applies its hits."""

    def __init__(self, svc: Services) -> None:
        root = svc.settings.match_journal_dir
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.replayed = replay_orphans(
            root, lambda jid, hits: _apply(svc, jid, hits), lambda jid: forget_journal(svc, jid)
        )
        refresh_hitbook(svc)
        self.journal = Journal(root, svc.settings.journal_sync)
        self.consumer = JournalConsumer(
            self.journal,
            lambda jid, hits: _apply(svc, jid, hits),
            svc.settings.journal_apply_interval_s,
            after=lambda: refresh_hitbook(svc),
        )
        self.consumer.start()

    def record(self, decision: Decision) -> concurrent.futures.Future[None]:
        """Append the decision's fixed-size record (a no-op one for a miss); the future
        completes when the answer may leave."""
        if decision.hit is None:
            return self.journal.append(pack_miss())
        at_us = int(datetime.now(UTC).timestamp() * 1_000_000)
        return self.journal.append_hit(at_us, *decision.hit, decision.shape_points)

    def record_async(self, decision: Decision) -> asyncio.Future[None]:
        """:meth:`record` for a coroutine: the future (of the running loop) completes when
        the answer may leave; one loop wake-up per group commit (``Journal.append_async``)."""
        if decision.hit is None:
            return self.journal.append_async(pack_miss())
        at_us = int(datetime.now(UTC).timestamp() * 1_000_000)
        return self.journal.append_hit_async(at_us, *decision.hit, decision.shape_points)

    def catch_up(self) -> None:
        """Every hit journalled until now is in the database (before a feedback is checked)."""
        self.consumer.run_once(everything=True)

    def stop(self) -> None:
        self.consumer.stop()


def _apply(svc: Services, journal_id: str, hits: list[Hit]) -> None:
    apply_hits(svc, journal_id, hits)


def match(svc: Services, client: ClientInfo, signal: SignalIn) -> MatchResult:
    """Look the signal up and record a hit at once (no journal: the CLI's and tests' way)."""
    return record_match(svc, client, svc.replica.lookup(signal))


def record_match(svc: Services, client: ClientInfo, found: list[int]) -> MatchResult:
    """Decide on signals already looked up and record a hit at once (no journal)."""
    decision = decide(svc, client, found)
    if decision.hit is None:
        return decision.result
    at_us = int(datetime.now(UTC).timestamp() * 1_000_000)
    (outcome,) = apply_hits(svc, None, [Hit(0, at_us, *decision.hit, decision.shape_points)])
    if outcome is not quarantine.Outcome.NONE:
        return MatchResult(match=False)
    return decision.result


def _journal_key(journal_id: str) -> str:
    return f"journal:{journal_id}"


def apply_hits(svc: Services, journal_id: str | None, hits: list[Hit]) -> list[quarantine.Outcome]:
    """Record journalled hits (ref, review item, counts, audit event, quarantine), in order,
    in one transaction; with a ``journal_id``, hits at or below its applied mark are skipped
    and the mark moves in the same transaction, so a replay applies nothing twice."""
    outcomes: list[quarantine.Outcome] = []
    done: list[tuple[tuple[int, int], tuple[int, datetime] | None, bool]] = []
    with svc.db.write() as (session, head):
        mark = session.get(Meta, _journal_key(journal_id)) if journal_id else None
        applied = int(mark.value) if mark is not None else 0
        for hit in hits:
            if journal_id and hit.seq <= applied:
                outcomes.append(quarantine.Outcome.NONE)
                continue
            outcome, review = _apply_hit(svc, session, head, hit)
            outcomes.append(outcome)
            quarantined = outcome is quarantine.Outcome.QUARANTINED
            done.append(((hit.client_id, hit.signal_id), review, quarantined))
        if journal_id and hits:
            last = str(max(applied, hits[-1].seq))
            if mark is None:
                session.add(Meta(key=_journal_key(journal_id), value=last))
            else:
                mark.value = last
    for pair, review, quarantined in done:
        svc.hitbook.applied(pair, review, quarantined)
    return outcomes


def forget_journal(svc: Services, journal_id: str) -> None:
    """A replayed journal is gone: its applied mark goes too."""
    with svc.db.write() as (session, _head):
        mark = session.get(Meta, _journal_key(journal_id))
        if mark is not None:
            session.delete(mark)


def refresh_hitbook(svc: Services) -> None:
    with svc.db.read() as session:
        svc.hitbook.refresh(session)


def _apply_hit(
    svc: Services, session: Session, head: ChainHead, hit: Hit
) -> tuple[quarantine.Outcome, tuple[int, datetime] | None]:
    now = datetime.fromtimestamp(hit.at_us / 1_000_000, UTC)
    signal = session.get(Signal, hit.signal_id)
    client_id = hit.client_id
    if signal is None:  # withdrawn since the answer: nothing of hers is kept
        return quarantine.Outcome.NONE, None
    ref = match_ref(svc.server_key, client_id, signal.id)
    if session.get(MatchRef, ref) is None:  # the answer gave this ref: feedback may use it
        session.add(MatchRef(ref=ref, client_id=client_id, signal_id=signal.id))
    if signal.status is not SignalStatus.ACTIVE or quarantine.is_muted(
        session, signal.id, client_id
    ):
        return quarantine.Outcome.NONE, None  # quarantined or muted a moment before
    case_id = session.scalar(select(Bank.case_id).where(Bank.id == signal.bank_id))
    review = _open_review(session, ref, case_id, signal.id, client_id, now)
    review.shape_points = hit.shape_points and (review.hits == 1 or review.shape_points)
    _count_hit(signal, now, svc.settings.quarantine_window_s)
    audit.append(
        session,
        head,
        audit.AuditKind.MATCH_RECORDED,
        {"client": client_id, "signal": signal.id, "review": review.id},
    )
    outcome = quarantine.after_hit(svc, session, head, signal, case_id, client_id, review, now)
    return outcome, (review.hits, review.created_at)


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
