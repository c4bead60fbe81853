"""Follow-up use cases: re-check requested URLs, and link re-uploads to earlier requests.

A re-check fetches the URL with the scan fetcher (same SSRF checks, caps and politeness)
and classifies the answer (:func:`stopspread.takedown.followup.classify`). *Gone* moves the
request to *removed* (when its status allows) and marks the sighting removed, so that a later
copy is a re-upload. A scan that flags a re-upload (or the same file at a new URL) of a
sighting that had a request gets a new draft request linked to the first
(:func:`link_reuploads`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from stopspread.errors import (
    FetchError,
    FetchRefusedError,
    FetchTimeoutError,
    FetchTooLargeError,
    HashFormatError,
    NoticeError,
    StopSpreadError,
)
from stopspread.hashing.pdq import PdqHash
from stopspread.services.context import Services
from stopspread.services.removal.workflow import draft_request, set_status
from stopspread.services.scans.sightings import mark_removed_in
from stopspread.services.timeline import case_timeline
from stopspread.services.workers.accounts import WorkerIdentity, visible_case_ids
from stopspread.sources.fetch import Fetcher, FetchLimits
from stopspread.storage.models import Signal, SignalType
from stopspread.storage.models_scan import ReviewState, Sighting
from stopspread.storage.models_takedown import FollowUpCheck, TakedownRequest
from stopspread.takedown.followup import (
    FetchFailure,
    FetchOutcome,
    FollowUp,
    FollowUpResult,
    Refetcher,
    classify,
    pdq_matcher,
)
from stopspread.takedown.requests import TRANSITIONS, RequestStatus

__all__ = [
    "FollowUp",
    "FollowUpScheduler",
    "ReuploadAlert",
    "fetcher_refetch",
    "follow_up",
    "follow_up_one",
    "follow_up_open",
    "link_reuploads",
    "reupload_alerts",
]

log = logging.getLogger(__name__)
_CHECKED: frozenset[RequestStatus] = frozenset(
    {RequestStatus.SENT, RequestStatus.ACKNOWLEDGED, RequestStatus.NO_ANSWER, RequestStatus.REFUSED}
)


def fetcher_refetch(fetcher: Fetcher) -> Refetcher:
    """The scan fetcher as a :class:`Refetcher`: every failure becomes a typed outcome."""

    def refetch(url: str) -> FetchOutcome:
        try:
            got = fetcher.get(url)
        except FetchRefusedError as exc:
            return FetchOutcome(failure=FetchFailure.BLOCKED, detail=str(exc)[:100])
        except FetchTimeoutError:
            return FetchOutcome(failure=FetchFailure.TIMEOUT)
        except FetchTooLargeError:
            return FetchOutcome(failure=FetchFailure.TOO_LARGE)
        except FetchError as exc:
            text = str(exc)
            if "resolve" in text:
                return FetchOutcome(failure=FetchFailure.DNS, detail="the name does not resolve")
            if "ConnectError" in text:
                return FetchOutcome(failure=FetchFailure.REFUSED, detail="connection refused")
            return FetchOutcome(failure=FetchFailure.OTHER, detail=text[:100])
        return FetchOutcome(status=got.status, body=got.body)

    return refetch


def _matcher(svc: Services, signal_id: int | None) -> Callable[[bytes], bool] | None:
    if signal_id is None:
        return None
    with svc.db.read() as session:
        signal = session.get(Signal, signal_id)
        if signal is None or signal.type is not SignalType.PDQ:
            return None
        value = signal.value
    try:
        rule = svc.policy.pdq  # the one match policy (services/match_policy.py)
        return pdq_matcher(PdqHash.from_hex(value), rule.radius, min_quality=rule.min_query_quality)
    except HashFormatError:
        return None


def follow_up(
    svc: Services, request_id: int, refetch: Refetcher, *, now: datetime | None = None
) -> FollowUpResult:
    """Re-check one request's URL and record the answer."""
    at = (now or datetime.now(UTC)).astimezone(UTC)
    with svc.db.read() as session:
        row = session.get(TakedownRequest, request_id)
        if row is None:
            raise ValueError(f"no takedown request {request_id}")
        url, sha256, status = row.url, row.sha256, row.status
        sighting = session.get(Sighting, row.sighting_id)
        signal_id = sighting.signal_id if sighting is not None else None
    result = classify(refetch(url), sha256, _matcher(svc, signal_id))
    with svc.db.write() as (session, _head):
        session.add(
            FollowUpCheck(
                request_id=request_id,
                at=at,
                outcome=result.outcome,
                http_status=result.http_status,
                reason=result.reason[:200],
            )
        )
        row = session.get(TakedownRequest, request_id)
        if row is not None:
            row.last_check_at, row.last_check = at, result.outcome
    if result.outcome is FollowUp.GONE and RequestStatus.REMOVED in TRANSITIONS[status]:
        set_status(
            svc,
            None,
            request_id,
            RequestStatus.REMOVED,
            actor="follow-up",
            note=result.reason,
            now=at,
        )
        _sighting_removed(svc, request_id, result.reason)
    return result


def _sighting_removed(svc: Services, request_id: int, reason: str) -> None:
    with svc.db.write() as (session, _head):
        row = session.get(TakedownRequest, request_id)
        sighting = session.get(Sighting, row.sighting_id) if row is not None else None
        if sighting is not None:
            mark_removed_in(session, sighting, scan_id=None, detail=f"follow-up: {reason}")


def follow_up_open(
    svc: Services, refetch: Refetcher | None = None, *, now: datetime | None = None
) -> list[tuple[int, FollowUpResult]]:
    """Re-check every request waiting for the host (sent, acknowledged, refused, no answer)."""
    with svc.db.read() as session:
        ids = session.scalars(
            select(TakedownRequest.id)
            .where(TakedownRequest.status.in_(sorted(_CHECKED)))
            .order_by(TakedownRequest.id)
        ).all()
    if refetch is None:
        with Fetcher(FetchLimits.from_settings(svc.settings)) as fetcher:
            return [(i, follow_up(svc, i, fetcher_refetch(fetcher), now=now)) for i in ids]
    return [(i, follow_up(svc, i, refetch, now=now)) for i in ids]


def follow_up_one(
    svc: Services, request_id: int, refetch: Refetcher | None = None
) -> FollowUpResult:
    """Re-check one request now (with the scan fetcher unless ``refetch`` is given)."""
    if refetch is not None:
        return follow_up(svc, request_id, refetch)
    with Fetcher(FetchLimits.from_settings(svc.settings)) as fetcher:
        return follow_up(svc, request_id, fetcher_refetch(fetcher))


@dataclass(frozen=True, slots=True)
class ReuploadAlert:
    """An item that came back after the earlier one was removed or a notice about it sent.

    Copies found in the same scan, or before any notice or removal, are not re-uploads
    (the case timeline, :mod:`stopspread.services.timeline`).
    """

    sighting_id: int
    url: str
    review_status: ReviewState
    earlier_request_id: int | None  # the earlier item's first request, if it had one
    earlier_reference: str
    request_id: int | None  # its own request, once drafted
    earlier_sighting_id: int = 0

    @property
    def linkable(self) -> bool:
        """Confirmed and without a request yet: :func:`link_reuploads` drafts one."""
        return self.request_id is None and self.review_status is ReviewState.CONFIRMED


def reupload_alerts(svc: Services, who: WorkerIdentity) -> list[ReuploadAlert]:
    """Every re-upload in her center's cases, linked to the earlier item and its request."""
    with svc.db.read(snapshot=True) as session:
        cases = visible_case_ids(session, who)
        timeline = case_timeline(session, cases, who.center_id)
        requests = session.scalars(
            select(TakedownRequest)
            .where(TakedownRequest.center_id == who.center_id)
            .order_by(TakedownRequest.id)
        ).all()
        first_by_sighting: dict[int, TakedownRequest] = {}
        for r in requests:
            first_by_sighting.setdefault(r.sighting_id, r)
        states = dict(
            session.execute(
                select(Sighting.id, Sighting.review_status).where(Sighting.case_id.in_(cases))
            ).all()
        )
    alerts = []
    for item in sorted(timeline.reuploads(), key=lambda i: i.sighting_id or 0):
        if item.sighting_id is None or item.reupload_of is None:
            continue
        earlier = first_by_sighting.get(item.reupload_of)
        own = first_by_sighting.get(item.sighting_id)
        alerts.append(
            ReuploadAlert(
                sighting_id=item.sighting_id,
                url=item.url,
                review_status=states[item.sighting_id],
                earlier_request_id=earlier.id if earlier is not None else None,
                earlier_reference=earlier.reference if earlier is not None else "",
                request_id=own.id if own is not None else None,
                earlier_sighting_id=item.reupload_of,
            )
        )
    return alerts


def link_reuploads(
    svc: Services, who: WorkerIdentity, *, now: datetime | None = None
) -> list[ReuploadAlert]:
    """Draft a request, linked to the earlier one, for each *confirmed* re-upload without one.

    Re-uploads still waiting for review are left alone (a match starts a review first).
    Returns the alerts as they stand afterwards.
    """
    for alert in reupload_alerts(svc, who):
        if alert.linkable:
            with contextlib.suppress(NoticeError):  # unknown host: the dashboard lists it
                draft_request(
                    svc, who, alert.sighting_id, previous_request_id=alert.earlier_request_id,
                    now=now,
                )  # fmt: skip
    return reupload_alerts(svc, who)


class FollowUpScheduler:
    """Re-checks every waiting request every ``interval_s`` seconds, in a thread of the app."""

    def __init__(self, svc: Services, interval_s: float) -> None:
        self._svc = svc
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="takedown-checks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                follow_up_open(self._svc)
            except (StopSpreadError, SQLAlchemyError, OSError) as exc:
                log.warning("takedown checks: %s", type(exc).__name__)
