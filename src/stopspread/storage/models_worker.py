"""Tables for support workers and evidence: centers, workers, sessions, assignments, evidence.

Passwords and session tokens are stored only as hashes (argon2id; SHA-256 of a random
token). Evidence bytes live encrypted on disk; a row holds the digests, the file name and the
nonce, and every row has one entry in the hash-chained ``evidence_log``.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from stopspread.storage.models import Base, Id, _enum, utcnow
from stopspread.storage.types import UtcDateTime

__all__ = [
    "CaseAssignment",
    "CaseKey",
    "Center",
    "EvidenceKind",
    "EvidenceLogEntry",
    "EvidenceRecord",
    "Worker",
    "WorkerRole",
    "WorkerSession",
]


class WorkerRole(enum.StrEnum):
    WORKER = "worker"  # reviews sightings of her center's cases
    ADMIN = "admin"  # also manages the workers and case assignments of her center


class EvidenceKind(enum.StrEnum):
    PAGE = "page"  # an HTML page where media was found
    MEDIA = "media"  # an image or video response
    RESOURCE = "resource"  # a file from a folder source (no HTTP exchange)


class Center(Base):
    __tablename__ = "centers"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Worker(Base):
    __tablename__ = "workers"
    __table_args__ = (Index(None, "center_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[WorkerRole] = mapped_column(_enum(WorkerRole, "worker_role"))
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # her profile: who signs a takedown notice (the login name never does)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role_title: Mapped[str] = mapped_column(String(100), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")


class WorkerSession(Base):
    """A server-side session; the cookie holds the token, the row only its SHA-256."""

    __tablename__ = "worker_sessions"
    __table_args__ = (Index(None, "worker_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))  # synchroniser token for every POST
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CaseAssignment(Base):
    """A case a center may see; recorded in the audit log when made."""

    __tablename__ = "case_assignments"
    __table_args__ = (UniqueConstraint("case_id", "center_id"), Index(None, "center_id"))
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id", ondelete="CASCADE"))
    assigned_by: Mapped[str] = mapped_column(String(100))  # a worker's username, or "cli"
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class EvidenceRecord(Base):
    """One captured response: an AES-GCM encrypted WARC file plus its digests."""

    __tablename__ = "evidence_records"
    __table_args__ = (Index(None, "case_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))  # evidence outlives nothing
    kind: Mapped[EvidenceKind] = mapped_column(_enum(EvidenceKind, "evidence_kind"))
    url: Mapped[str] = mapped_column(Text)
    http_status: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(200))
    warc_record_id: Mapped[str] = mapped_column(String(100))  # the response/resource record
    sha256: Mapped[str] = mapped_column(String(64))  # of the WARC file's plaintext
    payload_sha256: Mapped[str] = mapped_column(String(64))  # of the HTTP body alone
    size: Mapped[int] = mapped_column(Integer)  # plaintext bytes
    cipher_sha256: Mapped[str] = mapped_column(String(64))  # of the encrypted file on disk
    nonce: Mapped[str] = mapped_column(String(24))  # 96-bit AES-GCM nonce, hex
    file_name: Mapped[str] = mapped_column(String(100))  # under <data_dir>/evidence/
    captured_at: Mapped[str] = mapped_column(String(40))  # ISO 8601 UTC, exactly as logged
    captured_at_kst: Mapped[str] = mapped_column(String(40))  # the same instant in Asia/Seoul
    reason: Mapped[str] = mapped_column(String(100))
    log_seq: Mapped[int] = mapped_column(Id)  # its entry in evidence_log


class EvidenceLogEntry(Base):
    """Append-only; ``entry_hash`` = SHA-256(prev_hash + canonical JSON of seq, at, kind,
    payload), the payload naming the record and its plaintext and ciphertext digests."""

    __tablename__ = "evidence_log"
    seq: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class CaseKey(Base):
    """A case's evidence key, wrapped (AES-GCM) by the master evidence key.

    Deleting the row is crypto-shredding: every file sealed with it, in the folder or in any
    backup, can no longer be read, even with the master key.
    """

    __tablename__ = "case_keys"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(24))  # hex, 96 bits
    wrapped: Mapped[str] = mapped_column(String(100))  # hex: 32-byte key + 16-byte tag
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
