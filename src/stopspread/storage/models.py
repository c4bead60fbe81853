"""SQLAlchemy 2 models: the tables the service keeps, on SQLite and PostgreSQL alike.

Signal values (hashes) are personal data: they live only in ``signals.value``; audit events,
logs and change-log rows carry ids and counts, never a value.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from stopspread.hashchain import Head
from stopspread.storage.sealing import SealedHex
from stopspread.storage.types import UtcDateTime
from stopspread.takedown.consent import ConsentBasis

__all__ = [
    "AuditEvent",
    "Bank",
    "Base",
    "Case",
    "CaseStatus",
    "CenterEvidence",
    "ChainHead",
    "ChangeOp",
    "IndexChange",
    "MatchRef",
    "Meta",
    "PlatformClient",
    "ReviewItem",
    "ReviewKind",
    "ReviewStatus",
    "Signal",
    "SignalStatus",
    "SignalType",
    "utcnow",
]

# SQLite only aliases the rowid for exactly "INTEGER PRIMARY KEY"; PostgreSQL gets BIGINT.
Id = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class SignalType(enum.StrEnum):
    """The names signal types are stored under; what each type does is its class in
    ``matching.signal_types`` (``SIGNAL_TYPES[name]``)."""

    PDQ = "pdq"  # 64 hex chars, Meta's bit order; matched within a Hamming radius
    MD5 = "md5"  # 32 hex chars, exact match of the file bytes


class SignalStatus(enum.StrEnum):
    ACTIVE = "active"
    QUARANTINED = "quarantined"  # matched far more than others: answers no-match until reviewed
    WITHDRAWN = "withdrawn"  # reserved for per-signal withdrawal; a case withdrawal deletes rows


class CaseStatus(enum.StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class CenterEvidence(enum.StrEnum):
    """Her choice when she withdraws: what happens to the evidence a center captured."""

    KEEP = "keep"  # kept (encrypted) for her legal case; her hashes are withdrawn all the same
    DELETE = "delete"  # its case key is destroyed: every capture is unreadable, backups too


class ReviewKind(enum.StrEnum):
    MATCH = "match"  # a platform's upload matched a signal
    QUARANTINE = "quarantine"  # a signal was quarantined for matching far more than others
    PROBING = "probing"  # a key walked near this signal, bit by bit: it was suspended


class ReviewStatus(enum.StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    NOT_NCII = "not_ncii"


class ChangeOp(enum.StrEnum):
    ADD = "add"
    REMOVE = "remove"


def _enum(cls: type[enum.Enum], name: str, length: int = 16) -> Enum:
    # VARCHAR on every database (no native enum types to migrate); the app validates values.
    return Enum(
        cls,
        name=name,
        values_callable=lambda e: [m.value for m in e],
        length=length,
        native_enum=False,
        create_constraint=False,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str | None] = mapped_column(String(200))  # argon2; None once withdrawn
    status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus, "case_status"))
    attempt_tokens: Mapped[float] = mapped_column()  # secret attempts left (token bucket)
    attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    signals_withdrawn: Mapped[int] = mapped_column(Integer, default=0)
    # what she did not agree to, as her worker recorded it: the notices' consent sentence
    consent_basis: Mapped[ConsentBasis] = mapped_column(
        _enum(ConsentBasis, "consent_basis", 24), default=ConsentBasis.UNKNOWN
    )
    # her choice at withdrawal; None while active (and for withdrawals made before the choice,
    # which the services treat as "delete": she was told everything was deleted)
    center_evidence: Mapped[CenterEvidence | None] = mapped_column(
        _enum(CenterEvidence, "center_evidence")
    )


class Bank(Base):
    __tablename__ = "banks"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Signal(Base):
    __tablename__ = "signals"
    __table_args__ = (
        Index(None, "type", "value"),
        Index(None, "bank_id"),
        Index(None, "status"),  # the quarantined ones, read every journal pass (0012)
        {"sqlite_autoincrement": True},  # ids are never reused: a withdrawn id never comes back
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"))
    type: Mapped[SignalType] = mapped_column(_enum(SignalType, "signal_type"))
    value: Mapped[str] = mapped_column(SealedHex())
    quality: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[SignalStatus] = mapped_column(_enum(SignalStatus, "signal_status"))
    match_count: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime | None] = mapped_column(UtcDateTime())
    window_matches: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # an MD5 of a video file (published in the hash feed as VideoMD5); migration 0006
    from_video: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class PlatformClient(Base):
    __tablename__ = "platform_clients"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 hex of the key
    can_hash: Mapped[bool] = mapped_column(Boolean, default=False)  # opted in to /v1/hash
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class MatchRef(Base):
    """The opaque reference a platform got for a match; resolves feedback to the signal."""

    __tablename__ = "match_refs"
    __table_args__ = (Index(None, "signal_id"),)
    ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("platform_clients.id", ondelete="CASCADE"))
    signal_id: Mapped[int | None] = mapped_column(ForeignKey("signals.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ReviewItem(Base):
    __tablename__ = "review_items"
    __table_args__ = (
        Index(None, "case_id", "status"),
        Index(None, "ref"),
        Index(None, "kind", "status"),  # the open ones, read every journal pass (0012)
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[ReviewKind] = mapped_column(_enum(ReviewKind, "review_kind"))
    status: Mapped[ReviewStatus] = mapped_column(_enum(ReviewStatus, "review_status"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    signal_id: Mapped[int | None] = mapped_column(ForeignKey("signals.id", ondelete="SET NULL"))
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("platform_clients.id", ondelete="SET NULL")
    )
    ref: Mapped[str | None] = mapped_column(String(64))
    hits: Mapped[int] = mapped_column(Integer, default=1)
    platform_verdict: Mapped[ReviewStatus | None] = mapped_column(
        _enum(ReviewStatus, "review_status")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # a platform match whose every hit so far was found by ss-kp-1 shape points only, no
    # hash: less certain, and the worker's card says so (issue 14)
    shape_points: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class IndexChange(Base):
    """The change log every API process polls to keep its in-memory index current."""

    __tablename__ = "index_changes"
    seq: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=False)
    op: Mapped[ChangeOp] = mapped_column(_enum(ChangeOp, "change_op"))
    signal_id: Mapped[int] = mapped_column(Id)
    signal_type: Mapped[SignalType] = mapped_column(_enum(SignalType, "signal_type"))


class AuditEvent(Base):
    """One append-only event; ``hash`` = SHA-256(prev_hash + canonical JSON of the event)."""

    __tablename__ = "audit_events"
    seq: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))  # ISO 8601 UTC, exactly as hashed
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly as hashed
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ChainHead(Base):
    """One row: the heads of both hash chains (audit, evidence) and the change-log sequence.

    Every write transaction locks this row first, so writers are serialised, each chain is
    one line, and the change log's sequence order is its commit order (pollers never skip a
    change). Both chains keep their head here the same way: ``<log>_seq``, ``<log>_hash``.
    """

    __tablename__ = "chain_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    audit_seq: Mapped[int] = mapped_column(Id)
    audit_hash: Mapped[str] = mapped_column(String(64))
    change_seq: Mapped[int] = mapped_column(Id)
    evidence_seq: Mapped[int] = mapped_column(Id, server_default="0")
    evidence_hash: Mapped[str] = mapped_column(String(64), server_default="0" * 64)

    @property
    def audit_head(self) -> Head:
        return Head(self.audit_seq, self.audit_hash)

    @audit_head.setter
    def audit_head(self, head: Head) -> None:
        self.audit_seq, self.audit_hash = head.seq, head.hash

    @property
    def evidence_head(self) -> Head:
        return Head(self.evidence_seq, self.evidence_hash)

    @evidence_head.setter
    def evidence_head(self, head: Head) -> None:
        self.evidence_seq, self.evidence_hash = head.seq, head.hash


class Meta(Base):
    """Small key/value facts about this deployment (the generated ref HMAC key)."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
