"""The probing detector's lasting state (issue 18, finding 2): which signals are under attack.

One row per enrolled signal whose edge evidence reached the detector's throttle level
(services/probing.py): until when its answers at the edge are blurred for every key, and
whether its alarm went off (then every key's next new edge hit on it is suspended). Every
process reads the table when it starts and on each poll, so a restart or another process
keeps the walk blurred and stopped. No hash or query is stored, sealed or clear: only the
signal's id, a moment and a flag.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from stopspread.storage.models import Base
from stopspread.storage.types import UtcDateTime

__all__ = ["EdgeWatch"]

Id = BigInteger().with_variant(Integer(), "sqlite")


class EdgeWatch(Base):
    """A signal under attack: blurred edge until ``until`` (a quiet week after its last edge
    hit), ``alarmed`` once its keys were suspended and its ``probing`` review item opened."""

    __tablename__ = "edge_watch"
    signal_id: Mapped[int] = mapped_column(
        Id, ForeignKey("signals.id", ondelete="CASCADE"), primary_key=True
    )
    until: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    alarmed: Mapped[bool] = mapped_column(Boolean, default=False)
