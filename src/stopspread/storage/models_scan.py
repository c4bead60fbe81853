"""Tables for scans: sources, scans with their progress, sightings and their history.

A *sighting* is one media URL where a case's image or video was found. It holds URLs,
times, the match distance and the evidence ids — never a hash. ``media_sha256`` is the
SHA-256 of the downloaded bytes (the same digest the evidence record keeps), used to
recognise the same file at another URL.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from stopspread.storage import models_worker  # noqa: F401  (evidence_records, for the FKs)
from stopspread.storage.models import Base, Id, _enum, utcnow
from stopspread.storage.types import UtcDateTime

__all__ = [
    "MatchKind",
    "ReviewState",
    "ScanItem",
    "ScanRow",
    "ScanStatus",
    "Sighting",
    "SightingEvent",
    "SightingEventKind",
    "Source",
    "SourceKind",
]


class SourceKind(enum.StrEnum):
    FOLDER = "folder"  # files on this machine (CLI only)
    URLS = "urls"  # a list of page or media URLs
    CRAWL = "crawl"  # a website, same site, depth and page limits


class ScanStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class MatchKind(enum.StrEnum):
    IMAGE = "image"
    VIDEO = "video"


class ReviewState(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"  # not the survivor's image: never alerts again
    SECOND_LOOK = "second_look"


class SightingEventKind(enum.StrEnum):
    FOUND = "found"  # first seen (evidence captured)
    REUPLOAD = "reupload"  # seen again after a removal (evidence captured again)
    REMOVED = "removed"  # the URL answered 404/410, or a worker marked it removed


class Source(Base):
    __tablename__ = "sources"
    __table_args__ = (Index(None, "case_id"), Index(None, "next_run_at"))
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[SourceKind] = mapped_column(_enum(SourceKind, "source_kind"))
    spec: Mapped[str] = mapped_column(Text)  # canonical JSON: {"start", "max_depth", ...}
    label: Mapped[str] = mapped_column(String(200))
    schedule_s: Mapped[int | None] = mapped_column(Integer)  # None: on demand only
    next_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ScanRow(Base):
    __tablename__ = "scans"
    __table_args__ = (Index(None, "status"), Index(None, "source_id"), Index(None, "case_id"))
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    status: Mapped[ScanStatus] = mapped_column(_enum(ScanStatus, "scan_status"))
    trigger: Mapped[str] = mapped_column(String(100))  # "schedule", "cli", a worker's name
    queued_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(100))  # host:pid running it
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    media_found: Mapped[int] = mapped_column(Integer, default=0)
    media_hashed: Mapped[int] = mapped_column(Integer, default=0)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    new_sightings: Mapped[int] = mapped_column(Integer, default=0)
    reuploads: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)  # robots.txt refusals
    errors: Mapped[int] = mapped_column(Integer, default=0)
    error_kinds: Mapped[str] = mapped_column(Text, default="{}")  # JSON {error class: count}
    last_error: Mapped[str | None] = mapped_column(Text)


class ScanItem(Base):
    """One file a batch scan has finished with (hashed, skipped or failed), written in the
    same transaction as its sightings: a resumed scan skips exactly these, so nothing is
    hashed twice or lost (``services/scans/batch.py``)."""

    __tablename__ = "scan_items"

    scan_id: Mapped[int] = mapped_column(
        Id, ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True
    )
    url_key: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the URL
    outcome: Mapped[str] = mapped_column(String(60))  # hashed, hit, skipped or an error class


class Sighting(Base):
    __tablename__ = "sightings"
    __table_args__ = (
        Index(None, "case_id", "url_key"),
        Index(None, "case_id", "media_sha256"),
        Index(None, "case_id", "review_status"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id", ondelete="SET NULL"))
    media_url: Mapped[str] = mapped_column(Text)
    url_key: Mapped[str] = mapped_column(String(64))  # SHA-256 of media_url: an index key
    page_url: Mapped[str | None] = mapped_column(Text)
    media_sha256: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    distance: Mapped[int] = mapped_column(Integer)  # bits (0 for an exact MD5 match)
    signal_type: Mapped[str] = mapped_column(String(16))  # pdq, md5, vpdq
    signal_id: Mapped[int | None] = mapped_column(ForeignKey("signals.id", ondelete="SET NULL"))
    match_kind: Mapped[MatchKind] = mapped_column(_enum(MatchKind, "match_kind"))
    review_status: Mapped[ReviewState] = mapped_column(_enum(ReviewState, "review_state"))
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reupload: Mapped[bool] = mapped_column(Boolean, default=False)
    reupload_of: Mapped[int | None] = mapped_column(ForeignKey("sightings.id"))
    same_content_as: Mapped[int | None] = mapped_column(ForeignKey("sightings.id"))
    media_evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence_records.id"))
    page_evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_records.id"))


class SightingEvent(Base):
    """The history of a sighting: found, removed, re-uploaded (with evidence ids)."""

    __tablename__ = "sighting_events"
    __table_args__ = (Index(None, "sighting_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    sighting_id: Mapped[int] = mapped_column(ForeignKey("sightings.id", ondelete="CASCADE"))
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id", ondelete="SET NULL"))
    kind: Mapped[SightingEventKind] = mapped_column(_enum(SightingEventKind, "sighting_event"))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    detail: Mapped[str] = mapped_column(String(200), default="")
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_records.id"))
