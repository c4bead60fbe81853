"""The answer side of a hit, decided in memory (issue 18, finding 4).

A hit's database write happens after the answer (services/journal.py), so what the answer
depended on in the database is mirrored here: which keys are muted for which signal, which
signals are quarantined for everyone, and each key's open review of a signal (its hits and
when it opened) plus the hits journalled but not applied yet. With it the request path
answers as :func:`stopspread.services.quarantine.after_hit` would decide: the hit that
brings a key's flood to ``quarantine_min_matches`` is answered no-match, as before.
Quarantine for everyone is decided by the consumer and answers no-match from the next hit
on (at most one apply interval later). Releases made elsewhere (the CLI, another process)
are read back on every apply pass.

A pass reads the quarantined signals (indexed, few rows) and a one-row fingerprint of the
open review items (count, sum of ids, sum of hits, latest update); the items themselves are
read only when the fingerprint moved, or at least every ``FULL_EVERY_S`` (issue 17: reading
every open review 20 times a second was a tenth of a worker's time under load).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stopspread.storage.models import ReviewItem, ReviewKind, ReviewStatus, Signal, SignalStatus

__all__ = ["HitBook"]

Pair = tuple[int, int]  # (client id, signal id)

FULL_EVERY_S: Final = 1.0  # the open reviews are read at least this often, moved or not


@dataclass(slots=True)
class _Tally:
    hits: int = 0  # the open review's hits as applied; 0 with no open review
    opened: datetime | None = None  # when the open review opened; None: no open review yet
    pending: int = 0  # journalled, not applied yet


class HitBook:
    """Per process; the request path asks :meth:`take`, the consumer reports back."""

    def __init__(
        self, min_matches: int, window_s: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._min, self._window = min_matches, timedelta(seconds=window_s)
        self._clock = clock
        self._fingerprint: tuple[Any, ...] | None = None
        self._full_at = float("-inf")  # when the open reviews were last read in full
        self._lock = threading.Lock()
        self._tallies: dict[Pair, _Tally] = {}
        self._muted: set[Pair] = set()
        self._quarantined: set[int] = set()

    def take(self, client_id: int, candidates: list[int], now: datetime) -> tuple[int | None, bool]:
        """Which signal this hit is recorded against (None: none) and whether it answers match."""
        with self._lock:
            signal_id = next((s for s in candidates if s not in self._quarantined), None)
            if signal_id is None or (client_id, signal_id) in self._muted:
                return None, False
            tally = self._tallies.setdefault((client_id, signal_id), _Tally())
            tally.pending += 1
            if tally.opened is None:
                key_hits = tally.pending  # the first pending hit opens a review now
            elif tally.opened >= now - self._window:
                key_hits = tally.hits + tally.pending
            else:
                key_hits = 0  # as after_hit: an open review older than the window never mutes
            if key_hits >= self._min:
                self._muted.add((client_id, signal_id))
                return signal_id, False
            return signal_id, True

    def applied(self, pair: Pair, review: tuple[int, datetime] | None, quarantined: bool) -> None:
        """The consumer applied one journalled hit: the open review as it now stands."""
        with self._lock:
            tally = self._tallies.setdefault(pair, _Tally())
            tally.pending = max(tally.pending - 1, 0)
            if review is not None:
                tally.hits, tally.opened = review
            if quarantined:
                self._quarantined.add(pair[1])

    def refresh(self, session: Session) -> None:
        """Mutes, quarantines and open reviews as the database has them now (releases, a
        worker's decision), keeping what journalled hits still in flight will write."""
        quarantined = set(
            session.scalars(select(Signal.id).where(Signal.status == SignalStatus.QUARANTINED))
        )
        fingerprint = tuple(session.execute(_FINGERPRINT).one())
        now = self._clock()
        if fingerprint == self._fingerprint and now - self._full_at < FULL_EVERY_S:
            with self._lock:
                self._quarantined = quarantined
            return
        self._read_reviews(session, quarantined)
        self._fingerprint, self._full_at = fingerprint, now

    def _read_reviews(self, session: Session, quarantined: set[int]) -> None:
        mutes: set[tuple[int | None, int | None]] = set(
            session.execute(
                select(ReviewItem.client_id, ReviewItem.signal_id).where(
                    ReviewItem.kind == ReviewKind.QUARANTINE,
                    ReviewItem.status == ReviewStatus.OPEN,
                    ReviewItem.client_id.is_not(None),
                )
            ).all()
        )
        reviews = {
            (c, s): (h, at)
            for c, s, h, at in session.execute(
                select(
                    ReviewItem.client_id,
                    ReviewItem.signal_id,
                    ReviewItem.hits,
                    ReviewItem.created_at,
                ).where(
                    ReviewItem.kind == ReviewKind.MATCH,
                    ReviewItem.status == ReviewStatus.OPEN,
                    ReviewItem.client_id.is_not(None),
                    ReviewItem.signal_id.is_not(None),
                )
            ).all()
        }
        with self._lock:
            in_flight = {pair for pair, t in self._tallies.items() if t.pending}
            muted: set[Pair] = {(c, s) for c, s in mutes if c is not None and s is not None}
            self._muted = muted | {pair for pair in self._muted if pair in in_flight}
            self._quarantined = quarantined
            tallies: dict[Pair, _Tally] = {}
            for pair, (hits, opened) in reviews.items():
                if pair[0] is not None and pair[1] is not None:
                    tallies[(pair[0], pair[1])] = _Tally(hits, opened)
            for pair in in_flight:
                tallies[pair] = self._tallies[pair]
            self._tallies = tallies


# Moves whenever an open match or quarantine review opens, closes or counts a hit.
_FINGERPRINT: Final = select(
    func.count(),
    func.coalesce(func.sum(ReviewItem.id), 0),
    func.coalesce(func.sum(ReviewItem.hits), 0),
    func.max(ReviewItem.updated_at),
).where(
    ReviewItem.kind.in_([ReviewKind.MATCH, ReviewKind.QUARANTINE]),
    ReviewItem.status == ReviewStatus.OPEN,
)
