"""Hash chains: append-only logs in which each entry's hash covers the entry before it.

The audit log (``services/audit.py``) and the evidence log (``services/custody/log.py``) are
both such chains. Entry *n* is ``(seq, at, kind, payload, prev_hash, hash)`` with

    hash = SHA-256(prev_hash + canonical JSON of {seq, at, kind, payload})

where ``prev_hash`` is entry *n − 1*'s hash (:data:`GENESIS_HASH` for the first), ``at`` the
time in UTC (ISO 8601, microseconds) and ``payload`` itself canonical JSON. A chain's
:class:`Head` (last ``seq`` and ``hash``) is kept beside it, so deleting entries from the end
is noticed too. This module is pure: computing links and checking them; where the entries
and the head are stored is the caller's business.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

__all__ = ["GENESIS_HASH", "Break", "Head", "Link", "Walk", "canonical", "entry_hash", "next_link"]

GENESIS_HASH: Final = "0" * 64  # the "previous hash" of the first entry


def canonical(value: Mapping[str, object]) -> str:
    """Sorted keys, no spaces, UTF-8 as is: the form every hash in a chain is taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev_hash: str, seq: int, at: str, kind: str, payload: str) -> str:
    body = canonical({"seq": seq, "at": at, "kind": kind, "payload": payload})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Head:
    """The last entry of a chain: ``(0, GENESIS_HASH)`` for an empty one."""

    seq: int = 0
    hash: str = GENESIS_HASH


@dataclass(frozen=True, slots=True)
class Link:
    """One entry as it is stored."""

    seq: int
    at: str
    kind: str
    payload: str  # canonical JSON
    prev_hash: str
    hash: str

    @property
    def head(self) -> Head:
        """The chain's head once this entry is appended."""
        return Head(self.seq, self.hash)

    def columns(self, hash_column: str = "hash") -> dict[str, object]:
        """The entry as a table row's columns (the hash under ``hash_column``)."""
        return {
            "seq": self.seq, "at": self.at, "kind": self.kind, "payload": self.payload,
            "prev_hash": self.prev_hash, hash_column: self.hash,
        }  # fmt: skip


def next_link(head: Head, kind: str, payload: Mapping[str, object], at: datetime) -> Link:
    """The entry that follows ``head``; ``at`` must be timezone-aware."""
    seq = head.seq + 1
    when = at.astimezone(UTC).isoformat(timespec="microseconds")
    body = canonical(payload)
    return Link(seq, when, kind, body, head.hash, entry_hash(head.hash, seq, when, kind, body))


class Break(enum.StrEnum):
    """What is wrong with one entry, seen from the entries before it."""

    GAP = "gap"  # its sequence number is not the next one (entries missing or moved)
    UNLINKED = "unlinked"  # its prev_hash is not the hash of the entry before it
    EDITED = "edited"  # its hash is not the hash of its contents


class Walk:
    """Checks a chain entry by entry, in order; the entries may come in batches.

    :meth:`step` returns what is wrong with one entry (nothing for a good one) and moves on
    past it either way, so a caller may stop at the first break or list them all.
    """

    def __init__(self) -> None:
        self.head = Head()

    def step(
        self, seq: int, at: str, kind: str, payload: str, prev_hash: str, digest: str
    ) -> list[Break]:
        """Check one stored entry (``digest`` is its stored hash) and move past it."""
        breaks = []
        if seq != self.head.seq + 1:
            breaks.append(Break.GAP)
        if prev_hash != self.head.hash:
            breaks.append(Break.UNLINKED)
        if entry_hash(self.head.hash, seq, at, kind, payload) != digest:
            breaks.append(Break.EDITED)
        self.head = Head(seq, digest)
        return breaks

    @property
    def next_seq(self) -> int:
        return self.head.seq + 1
