"""Sightings grouped by which of her enrolled pictures they matched.

Five edited copies of one photo are one group, not five unrelated cards: a worker looks at
the group once and can decide all its waiting sightings together (``review.decide_many``).

A group is one enrolled signal of one case (``Sighting.signal_id``). Her pictures are
numbered as she enrolled them, per kind of signal: "사진 3" is the case's third PDQ signal
(one per photo; a video's frames are several), "파일 2" its second MD5 (an exact file).
Sightings whose signal was withdrawn since form one group of their case without a number.
Groups keep the order of their first card (waiting ones first, then newest).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from stopspread.services.context import Services
from stopspread.services.workers.review import SightingCard
from stopspread.storage.models import Bank, Signal, SignalType

__all__ = ["PhotoGroup", "group_sightings"]


@dataclass(frozen=True, slots=True)
class PhotoGroup:
    case_id: int
    case_code: str
    signal_id: int | None  # None: the enrolled signal was withdrawn
    signal_type: SignalType | None
    number: int | None  # her enrolled picture's number among the case's signals of its type
    cards: tuple[SightingCard, ...]

    @property
    def key(self) -> str:
        """A stable id for the page (``group-<case>-<signal>``)."""
        return f"{self.case_id}-{self.signal_id if self.signal_id is not None else 'none'}"

    @property
    def waiting(self) -> tuple[int, ...]:
        """The sightings of the group still waiting for a decision (the bulk form's ids)."""
        return tuple(c.id for c in self.cards if c.waiting)

    @property
    def closest(self) -> SightingCard:
        return min(self.cards, key=lambda c: (c.distance, c.id))


def _numbers(svc: Services, case_ids: Iterable[int]) -> dict[int, tuple[SignalType, int]]:
    """Each signal of these cases: its type and its number among the case's of that type."""
    query = (
        select(Signal.id, Signal.type, Bank.case_id)
        .join(Bank, Bank.id == Signal.bank_id)
        .where(Bank.case_id.in_(sorted(set(case_ids))))
        .order_by(Signal.id)
    )
    seen: dict[tuple[int | None, SignalType], int] = {}
    numbers: dict[int, tuple[SignalType, int]] = {}
    with svc.db.read() as session:
        for signal_id, kind, case_id in session.execute(query):
            count = seen[(case_id, kind)] = seen.get((case_id, kind), 0) + 1
            numbers[signal_id] = (kind, count)
    return numbers


def group_sightings(svc: Services, cards: Sequence[SightingCard]) -> list[PhotoGroup]:
    """``cards`` (one worker's, as ``review.list_sightings`` returns them) in groups."""
    numbers = _numbers(svc, {c.case_id for c in cards}) if cards else {}
    buckets: dict[tuple[int, int | None], list[SightingCard]] = {}
    for card in cards:
        signal = card.signal_id if card.signal_id in numbers else None
        buckets.setdefault((card.case_id, signal), []).append(card)
    groups = []
    for (case_id, signal_id), members in buckets.items():
        kind, number = numbers[signal_id] if signal_id is not None else (None, None)
        groups.append(
            PhotoGroup(case_id, members[0].case_code, signal_id, kind, number, tuple(members))
        )
    return groups
