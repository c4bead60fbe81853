"""Signals under attack, kept in the database (issue 18, finding 2; services/probing.py).

The probing detector's counts live in memory; what must outlive a restart and reach every
process is its verdict: a signal whose edge evidence reached the throttle level has a blurred
edge for a quiet week, and once alarmed, every key's next new edge hit on it is suspended.
:class:`DatabaseEdgeStore` keeps that as one ``edge_watch`` row per signal (an id, a moment,
a flag: no hash, sealed or clear); each process loads the rows at start-up and on every poll.
A withdrawn signal's row goes with it (``ON DELETE CASCADE``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import select

from stopspread.matching.cloak import IndexCloak
from stopspread.services.probing import EdgeMark
from stopspread.storage.db import Database
from stopspread.storage.models import Signal, SignalType
from stopspread.storage.models_probing import EdgeWatch

__all__ = ["DatabaseEdgeStore"]

PDQ_KIND: Final = SignalType.PDQ.value


class DatabaseEdgeStore:
    """An :class:`~stopspread.services.probing.EdgeStore` in the ``edge_watch`` table; an
    alarmed signal's value is read (unsealed) and cloaked as the index replica holds it."""

    def __init__(self, db: Database, cloak: IndexCloak | None) -> None:
        self._db, self._cloak = db, cloak

    def save(self, marks: Sequence[EdgeMark]) -> None:
        """Each mark's end and alarm, never moving either back; a withdrawn signal is skipped."""
        with self._db.write() as (session, _head):
            for mark in marks:
                row = session.get(EdgeWatch, mark.signal_id)
                if row is None:
                    if session.get(Signal, mark.signal_id) is None:
                        continue
                    session.add(EdgeWatch(signal_id=mark.signal_id, until=mark.until,
                                          alarmed=mark.alarmed))  # fmt: skip
                    continue
                row.until = max(row.until, mark.until)
                row.alarmed = row.alarmed or mark.alarmed

    def query_value(self, value_hex: str) -> str:
        return value_hex if self._cloak is None else self._cloak.value(PDQ_KIND, value_hex)

    def values(self, signal_ids: Sequence[int]) -> dict[int, str]:
        with self._db.read() as session:
            rows = session.execute(
                select(Signal.id, Signal.value).where(
                    Signal.id.in_(signal_ids), Signal.type == SignalType.PDQ
                )
            ).all()
        return {signal_id: self.query_value(value) for signal_id, value in rows}

    def load(self) -> list[EdgeMark]:
        now = datetime.now(UTC)
        with self._db.read() as session:
            rows = session.execute(
                select(EdgeWatch.signal_id, EdgeWatch.until, EdgeWatch.alarmed).where(
                    EdgeWatch.until > now
                )
            ).all()
        return [EdgeMark(signal_id, until, alarmed) for signal_id, until, alarmed in rows]
