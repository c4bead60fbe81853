"""The request status machine and deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stopspread.config import Settings
from stopspread.errors import ServiceError, TransitionError
from stopspread.takedown.requests import (
    OPEN_STATUSES,
    TRANSITIONS,
    DeadlinePolicy,
    RequestState,
    RequestStatus,
    advance,
    check_transition,
)

S = RequestStatus
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
POLICY = DeadlinePolicy()


def test_every_status_has_a_row_and_no_status_goes_back_to_draft() -> None:
    assert set(TRANSITIONS) == set(RequestStatus)
    assert all(S.DRAFT not in targets for targets in TRANSITIONS.values())
    assert {S.SENT, S.ACKNOWLEDGED} == OPEN_STATUSES


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (S.DRAFT, S.SENT),
        (S.SENT, S.ACKNOWLEDGED),
        (S.SENT, S.REMOVED),
        (S.SENT, S.REFUSED),
        (S.ACKNOWLEDGED, S.REMOVED),
        (S.REFUSED, S.SENT),
        (S.NO_ANSWER, S.SENT),
        (S.REMOVED, S.SENT),
    ],
)
def test_allowed(old: RequestStatus, new: RequestStatus) -> None:
    check_transition(old, new)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (S.DRAFT, S.REMOVED),
        (S.DRAFT, S.ACKNOWLEDGED),
        (S.SENT, S.SENT),
        (S.REMOVED, S.REFUSED),
        (S.ACKNOWLEDGED, S.SENT),
        (S.SENT, S.DRAFT),
    ],
)
def test_refused(old: RequestStatus, new: RequestStatus) -> None:
    with pytest.raises(TransitionError, match=f"cannot become {new}") as caught:
        check_transition(old, new)
    assert isinstance(caught.value, ServiceError) and caught.value.status == 409


def test_deadlines_by_jurisdiction_and_from_settings() -> None:
    assert POLICY.hours_for("US") == 48
    assert POLICY.hours_for("kr") == 24
    assert POLICY.hours_for("JP") == 72
    assert POLICY.deadline(T0, "US") == T0 + timedelta(hours=48)
    custom = DeadlinePolicy.from_settings(Settings(takedown_deadline_default_hours=10.5))
    assert custom.deadline(T0, "ZZ") == T0 + timedelta(hours=10, minutes=30)


def test_a_full_life() -> None:
    state = RequestState(jurisdiction="US")
    assert not state.is_open and not state.is_overdue(T0 + timedelta(days=30))
    state = advance(state, S.SENT, T0, POLICY)
    assert state.deadline == T0 + timedelta(hours=48)
    assert state.is_open
    assert not state.is_overdue(T0 + timedelta(hours=48))
    assert state.is_overdue(T0 + timedelta(hours=48, seconds=1))
    with pytest.raises(TransitionError, match="deadline"):
        advance(state, S.NO_ANSWER, T0 + timedelta(hours=47), POLICY)
    state = advance(state, S.NO_ANSWER, T0 + timedelta(hours=49), POLICY)
    assert not state.is_open and not state.is_overdue(T0 + timedelta(days=9))
    resent_at = T0 + timedelta(hours=50)
    state = advance(state, S.SENT, resent_at, POLICY)  # the deadline starts again
    assert state.deadline == resent_at + timedelta(hours=48)
    state = advance(state, S.ACKNOWLEDGED, resent_at + timedelta(hours=1), POLICY)
    assert state.is_overdue(resent_at + timedelta(hours=49))  # acknowledged is still open
    state = advance(state, S.REMOVED, resent_at + timedelta(hours=2), POLICY)
    assert state.removed_at == resent_at + timedelta(hours=2)
    assert not state.is_overdue(resent_at + timedelta(days=9))
    back = advance(state, S.SENT, resent_at + timedelta(days=3), POLICY)  # it came back
    assert back.removed_at is None and back.is_open


def test_naive_times_are_refused() -> None:
    with pytest.raises(TransitionError, match="timezone-aware"):
        advance(RequestState(), S.SENT, datetime(2026, 1, 1), POLICY)
