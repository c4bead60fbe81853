"""Content-anchored signals (``ss-kp-1``) of a case's enrolled photos (issue 14).

One row per enrolled photo: its keypoint record (``hashing.keypoints``, at most 13,607
bytes) sealed with AES-GCM under the case's own evidence key (``case_keys``), bound to the
case id. Keypoints are personal data: a withdrawal deletes the rows, and destroying the
case key (crypto-shredding) makes every copy of them, backups included, unreadable.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from stopspread.storage import models_worker  # noqa: F401  (case_keys beside it)
from stopspread.storage.models import Base, Id, utcnow
from stopspread.storage.types import UtcDateTime

__all__ = ["KeypointRecord"]


class KeypointRecord(Base):
    """One enrolled photo's sealed ``ss-kp-1`` keypoints."""

    __tablename__ = "keypoint_records"
    __table_args__ = (Index(None, "case_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    # the photo's whole-picture PDQ signal, when known (a hit is grouped under that photo)
    signal_id: Mapped[int | None] = mapped_column(ForeignKey("signals.id", ondelete="SET NULL"))
    version: Mapped[str] = mapped_column(String(16))  # "ss-kp-1"
    nonce: Mapped[str] = mapped_column(String(24))  # hex, 96 bits
    sealed: Mapped[bytes] = mapped_column(LargeBinary)  # AES-GCM: record + 16-byte tag
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
