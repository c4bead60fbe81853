"""Tables of the exchange paths (issue 15): the hash feed's records and who may pull it.

``feed_records`` holds one row per (feed type, hash value) that a platform pulling the
StopNCII-compatible feed may see: active hashes, and tombstones (``Withdrawn``/``Deleted``)
kept for the published retention so that consumers learn to drop them. Rows carry no case:
the cases behind an active hash are looked up when a page is served.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from stopspread.storage.models import Base, utcnow
from stopspread.storage.sealing import SealedHex
from stopspread.storage.types import UtcDateTime

__all__ = ["ExchangePeer", "FeedAccess", "FeedRecord"]

Id = BigInteger().with_variant(Integer(), "sqlite")


class FeedRecord(Base):
    """One hash as the feed shows it; ``seq`` is the change-log position of its last change."""

    __tablename__ = "feed_records"
    __table_args__ = (
        UniqueConstraint("signal_type", "value"),
        Index(None, "seq", unique=True),
        Index(None, "status", "modified_ts"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    signal_type: Mapped[str] = mapped_column(String(16))  # ImagePDQ, VideoMD5
    value: Mapped[str] = mapped_column(SealedHex())
    status: Mapped[str] = mapped_column(String(16))  # Active, Withdrawn, Deleted
    seq: Mapped[int] = mapped_column(Id)  # commit order: the change log's sequence number
    modified_ts: Mapped[int] = mapped_column(BigInteger)  # unix seconds, never decreasing


class FeedAccess(Base):
    """A platform client the operator allowed to pull the whole feed (off by default)."""

    __tablename__ = "feed_access"
    client_id: Mapped[int] = mapped_column(
        ForeignKey("platform_clients.id", ondelete="CASCADE"), primary_key=True
    )
    allowed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ExchangePeer(Base):
    """Another StopSpread whose feed this one pulls into its own bank (center to center).

    ``api_key`` is the key the other center issued to us: a credential, readable by whoever
    reads this database (like the SMTP password in the settings).
    """

    __tablename__ = "exchange_peers"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(Text)  # the peer's base URL, without /v1
    api_key: Mapped[str] = mapped_column(String(200))
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"))
    checkpoint_ts: Mapped[int] = mapped_column(BigInteger, default=0)  # nextSetTimestamp
    page_token: Mapped[str | None] = mapped_column(String(200))  # mid-pull: resume here
    feedback_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_pull_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
