"""The audit log: every state change is an append-only event in a SHA-256 hash chain.

Each event's hash is ``SHA-256(prev_hash + canonical JSON of {seq, at, kind, payload})``
(:mod:`stopspread.hashchain`, shared with the evidence log). The chain head (last sequence
number and hash) lives in ``chain_head``, locked by every write transaction, so events form
one line with no gaps. :func:`verify` recomputes the chain and reports the first edited,
inserted or deleted row. Payloads carry ids and counts, never a signal value.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from stopspread import hashchain
from stopspread.errors import AuditChainError
from stopspread.hashchain import Break
from stopspread.storage.db import Database
from stopspread.storage.models import AuditEvent, ChainHead

__all__ = ["AuditKind", "VerifyReport", "append", "verify"]

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
    MATCH_DECIDED = "match_decided"  # a worker confirmed or rejected a platform match
    HOST_EDITED = "host_edited"  # a center changed a host's contact
    TAKEDOWN_DRAFTED = "takedown_drafted"
    TAKEDOWN_STATUS = "takedown_status"  # sent, acknowledged, removed, refused, no answer
    REPORT_MADE = "report_made"
    EVIDENCE_PACKAGE_MADE = "evidence_package_made"  # the report ZIP with its WARC files
    FEED_ACCESS = "feed_access"  # a platform allowed to (or stopped from) pulling the feed
    BANK_EXPORTED = "bank_exported"  # hashes written to a tx / CSV file by the operator
    BANK_IMPORTED = "bank_imported"
    PEER_ADDED = "peer_added"  # another center whose feed we pull
    PEER_PULLED = "peer_pulled"  # hashes added / removed from a peer's feed
    CASE_CONSENT_SET = "case_consent_set"  # what the case's notices say about her consent


def append(
    session: Session, head: ChainHead, kind: AuditKind, payload: Mapping[str, object]
) -> AuditEvent:
    """Append one event inside the caller's write transaction (``head`` is locked)."""
    link = hashchain.next_link(head.audit_head, kind.value, payload, datetime.now(UTC))
    event = AuditEvent(**link.columns())
    session.add(event)
    head.audit_head = link.head
    return event


@dataclass(frozen=True, slots=True)
class VerifyReport:
    events: int
    head_hash: str


def verify(db: Database) -> VerifyReport:
    """Check the whole chain; raises :class:`AuditChainError` at the first broken link."""
    walk = hashchain.Walk()
    with db.read(snapshot=True) as session:
        head = session.get(ChainHead, 1)
        if head is None:
            raise AuditChainError("the chain head row is missing")
        while True:
            rows = session.scalars(
                select(AuditEvent)
                .where(AuditEvent.seq >= walk.next_seq)
                .order_by(AuditEvent.seq)
                .limit(VERIFY_BATCH)
            ).all()
            for row in rows:
                _check_row(walk, row)
            if len(rows) < VERIFY_BATCH:
                break
        if head.audit_head != walk.head:
            raise AuditChainError(
                f"the chain ends at event {walk.head.seq} but its head says {head.audit_seq}"
                " (rows deleted at the end, or the head was edited)"
            )
    return VerifyReport(events=walk.head.seq, head_hash=walk.head.hash)


def _check_row(walk: hashchain.Walk, row: AuditEvent) -> None:
    expected_seq = walk.next_seq
    breaks = walk.step(row.seq, row.at, row.kind, row.payload, row.prev_hash, row.hash)
    if Break.GAP in breaks:
        raise AuditChainError(f"event {expected_seq} is missing (next row is {row.seq})")
    if Break.UNLINKED in breaks:
        raise AuditChainError(f"event {row.seq} does not link to the event before it")
    if Break.EDITED in breaks:
        raise AuditChainError(f"event {row.seq} was edited (its hash does not match)")
