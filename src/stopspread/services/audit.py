"""The audit log: every state change is an append-only event in a SHA-256 hash chain.

Each event's hash is ``SHA-256(prev_hash + canonical JSON of {seq, at, kind, payload})``.
The chain head (last sequence number and hash) lives in ``chain_head``, locked by every
write transaction, so events form one line with no gaps. :func:`verify` recomputes the
chain and reports the first edited, inserted or deleted row. Payloads carry ids and counts,
never a signal value.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from stopspread.errors import AuditChainError
from stopspread.storage.db import Database
from stopspread.storage.models import AuditEvent, ChainHead

__all__ = ["GENESIS_HASH", "AuditKind", "VerifyReport", "append", "event_hash", "verify"]

GENESIS_HASH: Final = "0" * 64  # the "previous hash" of the first event
VERIFY_BATCH: Final = 5_000  # rows read per query while verifying


class AuditKind(enum.StrEnum):
    CASE_CREATED = "case_created"
    SIGNALS_ADDED = "signals_added"
    CASE_WITHDRAWN = "case_withdrawn"
    CLIENT_CREATED = "client_created"
    CLIENT_REVOKED = "client_revoked"
    MATCH_RECORDED = "match_recorded"
    FEEDBACK_RECORDED = "feedback_recorded"
    SIGNAL_QUARANTINED = "signal_quarantined"
    SIGNAL_MUTED = "signal_muted"  # one key's flood: no-match for that key only
    SIGNAL_RELEASED = "signal_released"  # an owner released a quarantine or a mute
    QUARANTINE_KEPT = "quarantine_kept"  # an owner kept a quarantine
    CLIENT_SUSPENDED = "client_suspended"  # the probing detector stopped a key
    ENROLMENT_FLAGGED = "enrolment_flagged"  # an address enrolling in bulk: for review
    CENTER_CREATED = "center_created"
    WORKER_CREATED = "worker_created"
    WORKER_CHANGED = "worker_changed"  # password set, account disabled
    WORKER_LOGIN = "worker_login"
    WORKER_LOGIN_FAILED = "worker_login_failed"
    WORKER_LOGOUT = "worker_logout"
    CASE_ASSIGNED = "case_assigned"
    EVIDENCE_REVEALED = "evidence_revealed"  # a worker looked at the unblurred original
    SIGHTING_REVIEWED = "sighting_reviewed"
    HOST_EDITED = "host_edited"  # a center changed a host's contact
    TAKEDOWN_DRAFTED = "takedown_drafted"
    TAKEDOWN_STATUS = "takedown_status"  # sent, acknowledged, removed, refused, no answer
    REPORT_MADE = "report_made"


def canonical(value: Mapping[str, object]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(prev_hash: str, seq: int, at: str, kind: str, payload: str) -> str:
    body = canonical({"seq": seq, "at": at, "kind": kind, "payload": payload})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def append(
    session: Session, head: ChainHead, kind: AuditKind, payload: Mapping[str, object]
) -> AuditEvent:
    """Append one event inside the caller's write transaction (``head`` is locked)."""
    seq = head.audit_seq + 1
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    body = canonical(payload)
    digest = event_hash(head.audit_hash, seq, at, kind.value, body)
    event = AuditEvent(
        seq=seq, at=at, kind=kind.value, payload=body, prev_hash=head.audit_hash, hash=digest
    )
    session.add(event)
    head.audit_seq, head.audit_hash = seq, digest
    return event


@dataclass(frozen=True, slots=True)
class VerifyReport:
    events: int
    head_hash: str


def verify(db: Database) -> VerifyReport:
    """Check the whole chain; raises :class:`AuditChainError` at the first broken link."""
    prev, expected_seq = GENESIS_HASH, 1
    with db.read(snapshot=True) as session:
        head = session.get(ChainHead, 1)
        if head is None:
            raise AuditChainError("the chain head row is missing")
        while True:
            rows = session.scalars(
                select(AuditEvent)
                .where(AuditEvent.seq >= expected_seq)
                .order_by(AuditEvent.seq)
                .limit(VERIFY_BATCH)
            ).all()
            for row in rows:
                _check_row(row, expected_seq, prev)
                prev, expected_seq = row.hash, expected_seq + 1
            if len(rows) < VERIFY_BATCH:
                break
        if head.audit_seq != expected_seq - 1 or head.audit_hash != prev:
            raise AuditChainError(
                f"the chain ends at event {expected_seq - 1} but its head says {head.audit_seq}"
                " (rows deleted at the end, or the head was edited)"
            )
    return VerifyReport(events=expected_seq - 1, head_hash=prev)


def _check_row(row: AuditEvent, expected_seq: int, prev: str) -> None:
    if row.seq != expected_seq:
        raise AuditChainError(f"event {expected_seq} is missing (next row is {row.seq})")
    if row.prev_hash != prev:
        raise AuditChainError(f"event {row.seq} does not link to the event before it")
    if event_hash(prev, row.seq, row.at, row.kind, row.payload) != row.hash:
        raise AuditChainError(f"event {row.seq} was edited (its hash does not match)")
