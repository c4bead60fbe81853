"""The evidence log: append-only, SHA-256 hash-chained, separate from the service's audit log.

Each entry's hash is ``SHA-256(prev_hash + canonical JSON of {seq, at, kind, payload})``
(:mod:`stopspread.hashchain`, shared with the audit log); the payload names the evidence row
and carries its plaintext and ciphertext digests. The head (last seq and hash) is kept on the
``chain_head`` row beside the audit log's, so deleting the last entries is noticed too.
Appends run inside :meth:`Database.write`, whose writer lock keeps the chain linear.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from stopspread import hashchain
from stopspread.errors import EvidenceError
from stopspread.hashchain import Head
from stopspread.storage.models import ChainHead
from stopspread.storage.models_worker import EvidenceLogEntry

__all__ = ["LogKind", "append", "read_head"]


class LogKind(enum.StrEnum):
    CAPTURED = "captured"


def read_head(session: Session) -> Head:
    """The last entry; ``Head()`` (0, the genesis hash) for an empty log."""
    row = session.get(ChainHead, 1)
    if row is None:
        raise EvidenceError("the chain head row is missing")
    return row.evidence_head


def append(
    session: Session, kind: LogKind, payload: Mapping[str, object], at: datetime | None = None
) -> EvidenceLogEntry:
    """Append one entry inside the caller's write transaction and move the head."""
    head = session.get(ChainHead, 1)  # locked by Database.write
    if head is None:
        raise EvidenceError("the chain head row is missing")
    link = hashchain.next_link(head.evidence_head, kind.value, payload, at or datetime.now(UTC))
    entry = EvidenceLogEntry(**link.columns("entry_hash"))
    session.add(entry)
    head.evidence_head = link.head
    return entry
