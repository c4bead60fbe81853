"""A takedown request's life: its statuses, the moves allowed between them, and its deadline.

::

    draft ──send──▶ sent ──▶ acknowledged ──▶ removed
                     │  ╲          │   ╲
                     │   ╲         │    ▶ refused ──re-send──▶ sent
                     │    ▶ removed│
                     ▼             ▼
                 no_answer (only once the deadline has passed) ──re-send──▶ sent

A request is *open* while it waits for the host (sent, acknowledged); it is *overdue* when it
is open and its deadline has passed. The deadline is counted from the last time it was sent,
in hours that depend on the host's jurisdiction (:class:`DeadlinePolicy`, from the settings).
A removed item that comes back at the same URL is sent again (removed → sent); a copy found
at another URL is a new request that links to the first (services do that).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from stopspread.config import Settings
from stopspread.errors import TransitionError

__all__ = [
    "OPEN_STATUSES",
    "TRANSITIONS",
    "DeadlinePolicy",
    "RequestState",
    "RequestStatus",
    "advance",
    "check_transition",
]


class RequestStatus(enum.StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    REMOVED = "removed"
    REFUSED = "refused"
    NO_ANSWER = "no_answer"


_S = RequestStatus
TRANSITIONS: Final[Mapping[RequestStatus, frozenset[RequestStatus]]] = {
    _S.DRAFT: frozenset({_S.SENT}),
    _S.SENT: frozenset({_S.ACKNOWLEDGED, _S.REMOVED, _S.REFUSED, _S.NO_ANSWER}),
    _S.ACKNOWLEDGED: frozenset({_S.REMOVED, _S.REFUSED, _S.NO_ANSWER}),
    _S.REFUSED: frozenset({_S.SENT, _S.REMOVED}),  # re-sent (appeal), or it went anyway
    _S.NO_ANSWER: frozenset({_S.SENT, _S.ACKNOWLEDGED, _S.REMOVED, _S.REFUSED}),  # a late answer
    _S.REMOVED: frozenset({_S.SENT}),  # it came back at the same URL: ask again
}
OPEN_STATUSES: Final = frozenset({_S.SENT, _S.ACKNOWLEDGED})  # waiting for the host


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    """Hours a host has to act, by jurisdiction (ISO country code)."""

    kr_hours: float = 24.0
    us_hours: float = 48.0  # TAKE IT DOWN Act: 48 hours after a valid request
    default_hours: float = 72.0

    @classmethod
    def from_settings(cls, settings: Settings) -> DeadlinePolicy:
        return cls(
            kr_hours=settings.takedown_deadline_kr_hours,
            us_hours=settings.takedown_deadline_us_hours,
            default_hours=settings.takedown_deadline_default_hours,
        )

    def hours_for(self, jurisdiction: str) -> float:
        return {"KR": self.kr_hours, "US": self.us_hours}.get(
            jurisdiction.upper(), self.default_hours
        )

    def deadline(self, sent_at: datetime, jurisdiction: str) -> datetime:
        return sent_at + timedelta(hours=self.hours_for(jurisdiction))


@dataclass(frozen=True, slots=True)
class RequestState:
    """What the status machine needs to know about one request."""

    status: RequestStatus = RequestStatus.DRAFT
    jurisdiction: str = "ZZ"
    sent_at: datetime | None = None  # the last time it was sent
    deadline: datetime | None = None
    removed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, now: datetime) -> bool:
        """Open and past its deadline."""
        return self.is_open and self.deadline is not None and now > self.deadline


def check_transition(old: RequestStatus, new: RequestStatus) -> None:
    """Raise :class:`TransitionError` unless ``old → new`` is allowed."""
    if new not in TRANSITIONS[old]:
        allowed = ", ".join(sorted(TRANSITIONS[old])) or "nothing"
        raise TransitionError(f"a request that is {old} cannot become {new} (allowed: {allowed})")


def advance(
    state: RequestState, new: RequestStatus, at: datetime, policy: DeadlinePolicy
) -> RequestState:
    """The state after moving to ``new`` at time ``at`` (timezone-aware).

    Sending (again) restarts the deadline; ``no_answer`` is refused before the deadline.
    """
    if at.tzinfo is None:
        raise TransitionError("times must be timezone-aware")
    check_transition(state.status, new)
    if new is RequestStatus.NO_ANSWER and (state.deadline is None or at < state.deadline):
        raise TransitionError("a request is 'no answer' only once its deadline has passed")
    if new is RequestStatus.SENT:
        return replace(
            state,
            status=new,
            sent_at=at,
            deadline=policy.deadline(at, state.jurisdiction),
            removed_at=None,
        )
    if new is RequestStatus.REMOVED:
        return replace(state, status=new, removed_at=at)
    return replace(state, status=new)
