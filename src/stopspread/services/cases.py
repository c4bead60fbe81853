"""Survivor use cases: open a case from hashes, add hashes, read counts, withdraw.

The server only ever receives hashes. A case is reached with its code plus its secret;
the secret is checked with argon2 and attempts are rate-limited per case (in the
database, across processes) and per client address (in memory, per process).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from stopspread.errors import (
    CaseWithdrawnError,
    ForbiddenError,
    InvalidRequestError,
    RateLimitedError,
)
from stopspread.services import audit
from stopspread.services.context import Services
from stopspread.services.custody import EvidenceStore
from stopspread.services.custody.erase import destroy_case_key, evidence_count, remove_case_files
from stopspread.services.keypoint_records import (
    MAX_RECORDS_PER_REQUEST,
    KeypointIn,
    delete_records,
    store_records,
)
from stopspread.services.keys import new_case_code, new_case_secret, normalise_case_code
from stopspread.services.removal.dashboard import survivor_counts
from stopspread.services.signal_input import SignalIn, record_change
from stopspread.storage.models import (
    Bank,
    Case,
    CaseStatus,
    CenterEvidence,
    ChainHead,
    ChangeOp,
    MatchRef,
    ReviewItem,
    ReviewStatus,
    Signal,
    SignalStatus,
)

__all__ = [
    "CaseView",
    "CenterEvidence",  # her choice at withdrawal (the API and her page parse it)
    "KeypointIn",
    "NewCase",
    "Withdrawal",
    "add_keypoints",
    "add_signals",
    "authenticate",
    "case_status",
    "create_case",
    "withdraw",
]


@dataclass(frozen=True, slots=True)
class NewCase:
    code: str
    secret: str  # shown once, never stored in clear
    signals: int


@dataclass(frozen=True, slots=True)
class CaseView:
    """What a survivor sees: counts only, never hashes or images."""

    code: str
    status: CaseStatus
    signals: int
    quarantined: int
    matches: int  # items found (a center's scans and platforms' matches), each counted once
    reviews_open: int  # found items waiting for a person's review
    reviews_closed: int  # found items a person confirmed as hers (matches = open + closed)
    feedback_confirmed: int  # platforms' own reviewers said: this is the enrolled image
    feedback_not_ncii: int  # platforms' own reviewers said: this is something else
    notices_sent: int = 0  # takedown notices sent about what support workers found
    removed: int = 0  # found items confirmed gone
    reappeared: int = 0  # items that came back after a removal


def _check_count(svc: Services, signals: Sequence[SignalIn]) -> None:
    if not signals:
        raise InvalidRequestError("at least one signal is needed")
    if len(signals) > svc.settings.max_signals_per_request:
        raise InvalidRequestError(
            f"at most {svc.settings.max_signals_per_request} signals a request"
        )


def _insert_signals(
    session: Session, head: ChainHead, bank_id: int, signals: Sequence[SignalIn]
) -> list[int]:
    rows = [
        Signal(
            bank_id=bank_id,
            type=s.type,
            value=s.value,
            quality=s.quality,
            from_video=s.from_video,
            status=SignalStatus.ACTIVE,
            match_count=0,
            window_matches=0,
        )
        for s in signals
    ]
    session.add_all(rows)
    session.flush()
    for row in rows:
        record_change(session, head, ChangeOp.ADD, row)
    return [row.id for row in rows]


def _keypoint_store(svc: Services, keypoints: Sequence[KeypointIn]) -> EvidenceStore | None:
    """The evidence store whose case keys seal keypoint records (None: there are none)."""
    if len(keypoints) > MAX_RECORDS_PER_REQUEST:
        raise InvalidRequestError(f"at most {MAX_RECORDS_PER_REQUEST} keypoint records a request")
    return EvidenceStore.from_settings(svc.settings, svc.db) if keypoints else None


def create_case(
    svc: Services,
    signals: Sequence[SignalIn],
    *,
    flagged: bool = False,
    keypoints: Sequence[KeypointIn] = (),
) -> NewCase:
    """Open a case; the returned secret is the only copy there will ever be.

    ``flagged``: the enrolment came in bulk (services/enrolment.py): an audit event says so.
    ``keypoints``: the photos' ``ss-kp-1`` records, sealed with the case key
    (``services.keypoint_records``).
    """
    _check_count(svc, signals)
    store = _keypoint_store(svc, keypoints)
    secret = new_case_secret()
    secret_hash = svc.hasher.hash_case_secret(secret)  # slow: outside the write lock
    now = datetime.now(UTC)
    with svc.db.write() as (session, head):
        code = new_case_code()
        while session.scalar(select(Case.id).where(Case.code == code)) is not None:
            code = new_case_code()  # 60 random bits: practically never
        burst = svc.settings.case_attempts_per_minute
        case = Case(
            code=code,
            secret_hash=secret_hash,
            status=CaseStatus.ACTIVE,
            attempt_tokens=burst,
            attempt_at=now,
            signals_withdrawn=0,
        )
        session.add(case)
        session.flush()
        bank = Bank(case_id=case.id, name="case")
        session.add(bank)
        session.flush()
        _insert_signals(session, head, bank.id, signals)
        if store is not None:
            store_records(session, store, case.id, keypoints)
        audit.append(
            session, head, audit.AuditKind.CASE_CREATED, {"case": case.id, "signals": len(signals)}
        )
        if flagged:
            _flag(session, head, case.id, len(signals))
    return NewCase(code=code, secret=secret, signals=len(signals))


def _stored_secret(svc: Services, code: str) -> str | None:
    """The case's stored secret hash (``None``: no such case, or withdrawn). Read only."""
    with svc.db.read() as session:
        return session.scalar(select(Case.secret_hash).where(Case.code == code))


def authenticate(svc: Services, code: str, secret: str, address: str) -> int:
    """The case id if ``secret`` opens ``code``.

    The right secret always works: wrong guesses by others never lock the survivor out
    (her secret has 140 bits; a lockout would protect nothing and only let anyone who
    learnt her code stop her withdrawal). Limits: every attempt counts against the
    client's address (checked before the slow hash); a *wrong* answer counts against the
    code, and past ``case_attempts_per_minute`` wrong answers a wrong secret gets ``429``
    instead of ``403`` — the same for an unknown code as for a real one, so neither the
    status nor the body says whether a code exists.
    """
    wait = svc.address_limiter.take(address)
    if wait:
        raise RateLimitedError("too many attempts from this address", wait)
    normal = normalise_case_code(code)[:32]
    stored = _stored_secret(svc, normal)
    if not svc.hasher.verify_case_secret(stored, secret):  # a dummy hash when the code is unknown
        wait = svc.code_limiter.take(normal)
        if wait:
            raise RateLimitedError("too many wrong attempts for this case code", wait)
        raise ForbiddenError("the case code or the secret is wrong")
    with svc.db.read() as session:
        case = session.scalars(select(Case).where(Case.code == normal)).one()
        if case.status is CaseStatus.WITHDRAWN:
            raise CaseWithdrawnError("this case was withdrawn")
        return case.id


def _flag(session: Session, head: ChainHead, case_id: int, signals: int) -> None:
    payload = {"case": case_id, "signals": signals}
    audit.append(session, head, audit.AuditKind.ENROLMENT_FLAGGED, payload)


def add_signals(
    svc: Services,
    case_id: int,
    signals: Sequence[SignalIn],
    *,
    flagged: bool = False,
    keypoints: Sequence[KeypointIn] = (),
) -> int:
    _check_count(svc, signals)
    store = _keypoint_store(svc, keypoints)
    with svc.db.write() as (session, head):
        case = session.get(Case, case_id)
        if case is None or case.status is CaseStatus.WITHDRAWN:
            raise CaseWithdrawnError("this case was withdrawn")
        bank_id = session.scalars(select(Bank.id).where(Bank.case_id == case_id)).first()
        if bank_id is None:
            raise CaseWithdrawnError("this case has no bank")
        _insert_signals(session, head, bank_id, signals)
        if store is not None:
            store_records(session, store, case_id, keypoints)
        audit.append(
            session, head, audit.AuditKind.SIGNALS_ADDED, {"case": case_id, "signals": len(signals)}
        )
        if flagged:
            _flag(session, head, case_id, len(signals))
    return len(signals)


def add_keypoints(svc: Services, case_id: int, keypoints: Sequence[KeypointIn]) -> int:
    """Add photos' ``ss-kp-1`` records to an open case (the CLI's ``case create``, after its
    signals, at most :data:`MAX_RECORDS_PER_REQUEST` a call); how many were stored."""
    store = _keypoint_store(svc, keypoints)
    if store is None:
        return 0
    with svc.db.write() as (session, _head):
        case = session.get(Case, case_id)
        if case is None or case.status is CaseStatus.WITHDRAWN:
            raise CaseWithdrawnError("this case was withdrawn")
        return store_records(session, store, case_id, keypoints)


def case_status(svc: Services, case_id: int) -> CaseView:
    with svc.db.read(snapshot=True) as session:
        case = session.get(Case, case_id)
        if case is None:
            raise ForbiddenError("the case code or the secret is wrong")
        banks = select(Bank.id).where(Bank.case_id == case_id)
        by_status = dict(
            session.execute(
                select(Signal.status, func.count())
                .where(Signal.bank_id.in_(banks))
                .group_by(Signal.status)
            ).all()
        )
        reviews = session.execute(
            select(ReviewItem.status, ReviewItem.platform_verdict, func.count())
            .where(ReviewItem.case_id == case_id)
            .group_by(ReviewItem.status, ReviewItem.platform_verdict)
        ).all()
        takedowns = survivor_counts(session, case_id)
    count = _counter(reviews)
    return CaseView(
        code=case.code,
        status=case.status,
        signals=int(by_status.get(SignalStatus.ACTIVE, 0)),
        quarantined=int(by_status.get(SignalStatus.QUARANTINED, 0)),
        matches=takedowns.found,  # one timeline behind every number (services/timeline.py)
        reviews_open=takedowns.under_review,
        reviews_closed=takedowns.confirmed,
        feedback_confirmed=count(1, {ReviewStatus.CONFIRMED}),
        feedback_not_ncii=count(1, {ReviewStatus.NOT_NCII}),
        notices_sent=takedowns.notices_sent,
        removed=takedowns.removed,
        reappeared=takedowns.reappeared,
    )


def _counter(rows: Sequence[Any]) -> Callable[[int, set[ReviewStatus]], int]:
    def count(column: int, wanted: set[ReviewStatus]) -> int:
        return sum(int(r[2]) for r in rows if r[column] in wanted)

    return count


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """What a withdrawal did: hashes deleted, and the center's evidence kept or erased."""

    signals: int  # hashes deleted everywhere
    center_evidence: CenterEvidence  # her choice
    evidence_records: int  # captures the center held for the case (0: none)
    evidence_erased: bool  # True: its key destroyed and its files deleted


def withdraw(
    svc: Services, case_id: int, center_evidence: CenterEvidence = CenterEvidence.DELETE
) -> Withdrawal:
    """Delete every signal of the case everywhere; final. ``center_evidence``: her choice for
    what the center captured — KEEP it (encrypted) for her legal case, or DELETE it: the case's
    evidence key is destroyed in the same transaction (crypto-shredding) and its files deleted."""
    with svc.db.write() as (session, head):
        case = session.get(Case, case_id)
        if case is None or case.status is CaseStatus.WITHDRAWN:
            raise CaseWithdrawnError("this case was withdrawn")
        delete_records(session, case_id)  # her photos' keypoints, whatever she chose
        ids = _delete_signals(session, head, case_id)
        case.status, case.secret_hash = CaseStatus.WITHDRAWN, None
        case.withdrawn_at, case.signals_withdrawn = datetime.now(UTC), len(ids)
        case.center_evidence = center_evidence
        records = evidence_count(session, case_id)
        erase = center_evidence is CenterEvidence.DELETE
        if erase:
            destroy_case_key(session, case_id)
        payload = {"case": case_id, "signals": len(ids), "center_evidence": center_evidence.value}
        audit.append(session, head, audit.AuditKind.CASE_WITHDRAWN, payload)
    svc.replica.forget(ids)
    if erase:
        remove_case_files(svc.settings, case_id)
    svc.db.checkpoint()  # SQLite: no copy of her hashes or her case key left in the -wal file
    return Withdrawal(len(ids), center_evidence, records, erase)


def _delete_signals(session: Session, head: ChainHead, case_id: int) -> list[int]:
    banks = select(Bank.id).where(Bank.case_id == case_id)
    signals = session.scalars(select(Signal).where(Signal.bank_id.in_(banks))).all()
    ids = [s.id for s in signals]
    for signal in signals:
        record_change(session, head, ChangeOp.REMOVE, signal)
    if ids:
        session.execute(delete(MatchRef).where(MatchRef.signal_id.in_(ids)))
    session.execute(delete(ReviewItem).where(ReviewItem.case_id == case_id))
    session.execute(delete(Signal).where(Signal.bank_id.in_(banks)))
    session.execute(delete(Bank).where(Bank.case_id == case_id))
    return ids
