"""The evidence log: append-only, SHA-256 hash-chained, separate from the service's audit log.

Each entry's hash is ``SHA-256(prev_hash + canonical JSON of {seq, at, kind, payload})``; the
payload names the evidence row and carries its plaintext and ciphertext digests. The head
(last seq and hash) is kept in ``meta`` under ``evidence_head`` so deleting the last entries
is noticed too. Appends run inside :meth:`Database.write`, whose writer lock keeps the chain
linear.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

from sqlalchemy.orm import Session

from stopspread.errors import EvidenceError
from stopspread.storage.models import Meta
from stopspread.storage.models_worker import EvidenceLogEntry

__all__ = ["GENESIS_HASH", "HEAD_KEY", "LogKind", "append", "canonical", "entry_hash", "read_head"]

GENESIS_HASH: Final = "0" * 64
HEAD_KEY: Final = "evidence_head"


class LogKind(enum.StrEnum):
    CAPTURED = "captured"


def canonical(value: Mapping[str, object]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev_hash: str, seq: int, at: str, kind: str, payload: str) -> str:
    body = canonical({"seq": seq, "at": at, "kind": kind, "payload": payload})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def read_head(session: Session) -> tuple[int, str]:
    """``(seq, hash)`` of the last entry; ``(0, GENESIS_HASH)`` for an empty log."""
    row = session.get(Meta, HEAD_KEY)
    if row is None:
        return 0, GENESIS_HASH
    seq, _, digest = row.value.partition(":")
    if not seq.isdigit() or len(digest) != len(GENESIS_HASH):
        raise EvidenceError("the evidence log head is unreadable")
    return int(seq), digest


def append(
    session: Session, kind: LogKind, payload: Mapping[str, object], at: datetime | None = None
) -> EvidenceLogEntry:
    """Append one entry inside the caller's write transaction and move the head."""
    seq, prev = read_head(session)
    seq += 1
    when = (at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
    body = canonical(payload)
    digest = entry_hash(prev, seq, when, kind.value, body)
    entry = EvidenceLogEntry(
        seq=seq, at=when, kind=kind.value, payload=body, prev_hash=prev, entry_hash=digest
    )
    session.add(entry)
    head = session.get(Meta, HEAD_KEY)
    if head is None:
        session.add(Meta(key=HEAD_KEY, value=f"{seq}:{digest}"))
    else:
        head.value = f"{seq}:{digest}"
    return entry
