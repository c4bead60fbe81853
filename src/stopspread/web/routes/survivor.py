"""Survivor API: hashes only; the server never receives her images."""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request

from stopspread.errors import HashFormatError, InvalidRequestError
from stopspread.hashing import PdqHash
from stopspread.services import cases
from stopspread.services.enrolment import EnrolmentLimits
from stopspread.services.keypoint_records import KeypointIn, decode_record
from stopspread.services.signal_input import SignalIn, parse_signal
from stopspread.web.deps import CaseId, Svc, client_address
from stopspread.web.schemas import (
    AddSignalsIn,
    AddSignalsOut,
    CaseOut,
    CreateCaseIn,
    KeypointModel,
    NewCaseOut,
    SignalModel,
    WithdrawIn,
    WithdrawOut,
    error_responses,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1/cases", tags=["survivors"])

ENROL: Final[dict[int | str, dict[str, Any]]] = error_responses(413, 422, 429)
CASE: Final = error_responses(401, 403, 410, 413, 429)
CASE_BODY: Final = error_responses(401, 403, 410, 413, 422, 429)
CASE_ENROL: Final = error_responses(401, 403, 410, 413, 422, 429)


def _signals(items: list[SignalModel]) -> list[SignalIn]:
    return [parse_signal(s.type, s.value, s.quality, s.media == "video") for s in items]


def _keypoints(items: list[KeypointModel]) -> list[KeypointIn]:
    """The records, decoded and checked strictly (422 with what is wrong)."""
    out: list[KeypointIn] = []
    for number, item in enumerate(items, start=1):
        keypoints = decode_record(item.data, f"keypoints[{number}]")
        out.append(KeypointIn(keypoints, _pdq(item.pdq, number)))
    return out


def _pdq(value: str | None, number: int) -> str | None:
    if value is None:
        return None
    try:
        return PdqHash.from_hex(value).hex
    except (HashFormatError, ValueError) as exc:
        raise InvalidRequestError(f"keypoints[{number}]: pdq is not a PDQ hash") from exc


def _enrol_limits(request: Request, count: int) -> bool:
    """Count the signals against the enrolment limits; ``True``: flag it (bulk)."""
    limits: EnrolmentLimits = request.app.state.enrol_limits
    return limits.take(client_address(request), count)


@router.post("", status_code=201, responses=ENROL)
def create_case(body: CreateCaseIn, request: Request, svc: Svc) -> NewCaseOut:
    """Open a case from hashes. The secret is shown only in this answer."""
    signals, keypoints = _signals(body.signals), _keypoints(body.keypoints)
    flagged = _enrol_limits(request, len(signals))
    new = cases.create_case(svc, signals, flagged=flagged, keypoints=keypoints)
    return NewCaseOut(case_code=new.code, secret=new.secret, signals=new.signals)


@router.post("/{code}/signals", responses=CASE_ENROL)
def add_signals(body: AddSignalsIn, request: Request, case_id: CaseId, svc: Svc) -> AddSignalsOut:
    """Add hashes to the case (needs ``X-Case-Secret``)."""
    signals, keypoints = _signals(body.signals), _keypoints(body.keypoints)
    flagged = _enrol_limits(request, len(signals))
    added = cases.add_signals(svc, case_id, signals, flagged=flagged, keypoints=keypoints)
    return AddSignalsOut(added=added)


@router.get("/{code}", responses=CASE)
def case_status(case_id: CaseId, svc: Svc) -> CaseOut:
    """Counts of what was matched and reviewed; never hashes or images."""
    view = cases.case_status(svc, case_id)
    return CaseOut(
        case_code=view.code,
        status=view.status.value,
        signals=view.signals,
        quarantined=view.quarantined,
        matches=view.matches,
        reviews_open=view.reviews_open,
        reviews_closed=view.reviews_closed,
        feedback_confirmed=view.feedback_confirmed,
        feedback_not_ncii=view.feedback_not_ncii,
        notices_sent=view.notices_sent,
        removed=view.removed,
        reappeared=view.reappeared,
    )


@router.post("/{code}/withdraw", responses=CASE_BODY)
def withdraw(case_id: CaseId, svc: Svc, body: WithdrawIn | None = None) -> WithdrawOut:
    """Delete every hash of the case, everywhere. Final.

    ``center_evidence``: what happens to the evidence a center captured for her case —
    ``delete`` (the default): its key is destroyed and its files deleted, so no copy, backups
    included, can be read again, and workers can no longer open it nor make a report;
    ``keep``: kept, encrypted, for her legal case (her hashes are deleted all the same).
    """
    choice = cases.CenterEvidence((body or WithdrawIn()).center_evidence)
    done = cases.withdraw(svc, case_id, choice)
    return WithdrawOut(
        withdrawn=done.signals,
        center_evidence=done.center_evidence.value,
        evidence_records=done.evidence_records,
        evidence_erased=done.evidence_erased,
    )
