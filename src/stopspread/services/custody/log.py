"""The evidence log: append-only, SHA-256 hash-chained, separate from the service's audit log.

Each entry's hash is ``SHA-256(prev_hash + canonical JSON of {seq, at, kind, payload})``
(:mod:`stopspread.hashchain`, shared with the audit log); the payload names the evidence row
and carries its plaintext and ciphertext digests. The head (last seq and hash) is kept in
``meta`` under ``evidence_head`` so deleting the last entries is noticed too. Appends run
inside :meth:`Database.write`, whose writer lock keeps the chain linear.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

from sqlalchemy.orm import Session

from stopspread import hashchain
from stopspread.errors import EvidenceError
from stopspread.hashchain import GENESIS_HASH, Head
from stopspread.storage.models import Meta
from stopspread.storage.models_worker import EvidenceLogEntry

__all__ = ["HEAD_KEY", "LogKind", "append", "read_head"]

HEAD_KEY: Final = "evidence_head"


class LogKind(enum.StrEnum):
    CAPTURED = "captured"


def read_head(session: Session) -> Head:
    """The last entry; ``Head()`` (0, the genesis hash) for an empty log."""
    row = session.get(Meta, HEAD_KEY)
    if row is None:
        return Head()
    seq, _, digest = row.value.partition(":")
    if not seq.isdigit() or len(digest) != len(GENESIS_HASH):
        raise EvidenceError("the evidence log head is unreadable")
    return Head(int(seq), digest)


def append(
    session: Session, kind: LogKind, payload: Mapping[str, object], at: datetime | None = None
) -> EvidenceLogEntry:
    """Append one entry inside the caller's write transaction and move the head."""
    link = hashchain.next_link(read_head(session), kind.value, payload, at or datetime.now(UTC))
    entry = EvidenceLogEntry(
        seq=link.seq, at=link.at, kind=link.kind, payload=link.payload,
        prev_hash=link.prev_hash, entry_hash=link.hash,
    )  # fmt: skip
    session.add(entry)
    head = session.get(Meta, HEAD_KEY)
    value = f"{link.seq}:{link.hash}"
    if head is None:
        session.add(Meta(key=HEAD_KEY, value=value))
    else:
        head.value = value
    return entry
