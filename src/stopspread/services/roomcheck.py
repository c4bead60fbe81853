"""Room checks kept as evidence under a case.

A finished :class:`~stopspread.roomcheck.RoomCheck` (devices, verdicts, reasons, every probe
sent and every answer, times in UTC and KST) is stored as one evidence record: a WARC
``resource`` record ``urn:stopspread:room-check:<check id>`` holding the check's JSON, encrypted
at rest and entered in the hash-chained evidence log like any capture. Listing a case's checks
reads those records back (digests checked); the export is the same JSON, byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from stopspread.errors import CaseWithdrawnError, EvidenceError, NotFoundError
from stopspread.evidence import HttpCapture
from stopspread.languages import Language
from stopspread.report.model import ReportRoomCheck, ReportRoomDevice
from stopspread.roomcheck import Reason, RoomCheck, Verdict, Weight
from stopspread.roomcheck import words as room_words
from stopspread.services.custody import EvidenceStore
from stopspread.services.workers.accounts import WorkerIdentity, require_case
from stopspread.storage.db import Database
from stopspread.storage.models import Case, CaseStatus
from stopspread.storage.models_worker import EvidenceLogEntry, EvidenceRecord

__all__ = [
    "REASON",
    "URN_PREFIX",
    "CheckRecord",
    "case_code",
    "case_id_for_code",
    "export_check",
    "list_checks",
    "load_check",
    "record_check",
    "report_room_checks",
    "room_check_rows",
]

REASON: Final = "room check"  # the evidence row's reason
URN_PREFIX: Final = "urn:stopspread:room-check:"
CONTENT_TYPE: Final = "application/json"


@dataclass(frozen=True, slots=True)
class CheckRecord:
    """One stored check, as a case page lists it."""

    evidence_id: int
    case_id: int
    check_id: str
    network: str
    captured_at: str  # UTC
    captured_at_kst: str
    sha256: str  # of the WARC record (plaintext), as logged
    log_seq: int
    counts: dict[str, int]
    recorded_by: str


def case_code(db: Database, case_id: int, who: WorkerIdentity | None = None) -> str:
    """The case's code, if the case exists (and, with ``who``, is assigned to her center)."""
    with db.read() as session:
        if who is not None:
            require_case(session, who, case_id)
        case = session.get(Case, case_id)
    if case is None:
        raise NotFoundError("no such case")
    return case.code


def case_id_for_code(db: Database, code: str) -> int:
    with db.read() as session:
        case = session.scalars(select(Case).where(Case.code == code.strip().upper())).one_or_none()
    if case is None:
        raise NotFoundError("no case with this code")
    return case.id


def _body(check: RoomCheck, by: str) -> bytes:
    data = {**check.to_json(), "recorded_by": by[:100]}
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")


def record_check(
    db: Database,
    store: EvidenceStore,
    case_id: int,
    check: RoomCheck,
    *,
    by: str,
    who: WorkerIdentity | None = None,
) -> CheckRecord:
    """Keep ``check`` under the case as evidence (one record, one log entry, one transaction).

    ``who`` set: the case must be assigned to her center (else "not found")."""
    capture = HttpCapture(
        url=URN_PREFIX + check.check_id,
        status=200,
        headers=[("Content-Type", CONTENT_TYPE)],
        body=_body(check, by),
        fetched_at=check.finished_at.astimezone(UTC),
    )
    with db.write() as (session, _head):
        if who is not None:
            require_case(session, who, case_id)
        case = session.get(Case, case_id)
        if case is None:
            raise NotFoundError("no such case")
        if case.status is CaseStatus.WITHDRAWN:
            raise CaseWithdrawnError("the case was withdrawn")
        (ref,) = store.capture(session, case_id, [capture], reason=REASON)
        row = session.get(EvidenceRecord, ref.id)
        if row is None:
            raise EvidenceError("the room check's evidence row vanished")  # database misbehaving
        return _record(row, check.to_json(), by)


def _record(row: EvidenceRecord, data: dict[str, Any], by: str) -> CheckRecord:
    counts = data.get("counts", {})
    return CheckRecord(
        evidence_id=row.id,
        case_id=row.case_id,
        check_id=str(data.get("check_id", "")),
        network=str(data.get("network", "")),
        captured_at=row.captured_at,
        captured_at_kst=row.captured_at_kst,
        sha256=row.sha256,
        log_seq=row.log_seq,
        counts={str(k): int(v) for k, v in counts.items()},
        recorded_by=by,
    )


def _rows(db: Database, case_id: int, who: WorkerIdentity | None) -> list[EvidenceRecord]:
    query = (
        select(EvidenceRecord)
        .where(EvidenceRecord.case_id == case_id, EvidenceRecord.reason == REASON)
        .where(EvidenceRecord.url.startswith(URN_PREFIX))
        .order_by(EvidenceRecord.id.desc())
    )
    with db.read() as session:
        if who is not None:
            require_case(session, who, case_id)
        return list(session.scalars(query))


def list_checks(
    db: Database, store: EvidenceStore, case_id: int, who: WorkerIdentity | None = None
) -> list[CheckRecord]:
    """The case's room checks, newest first (each decrypted and its digests checked)."""
    found = []
    for row in _rows(db, case_id, who):
        data = json.loads(store.open_payload(row.id))
        found.append(_record(row, data, str(data.get("recorded_by", ""))))
    return found


def _visible_row(
    db: Database, evidence_id: int, case_id: int, who: WorkerIdentity | None
) -> EvidenceRecord:
    for row in _rows(db, case_id, who):
        if row.id == evidence_id:
            return row
    raise NotFoundError("no such room check")


def load_check(
    db: Database,
    store: EvidenceStore,
    case_id: int,
    evidence_id: int,
    who: WorkerIdentity | None = None,
) -> dict[str, Any]:
    """One stored check's JSON, with its evidence record's number, digest and log entry."""
    row = _visible_row(db, evidence_id, case_id, who)
    data: dict[str, Any] = json.loads(store.open_payload(row.id))
    data["evidence"] = {
        "evidence_id": row.id,
        "sha256": row.sha256,
        "payload_sha256": row.payload_sha256,
        "log_seq": row.log_seq,
        "captured_at": row.captured_at,
        "captured_at_kst": row.captured_at_kst,
    }
    return data


def export_check(
    db: Database,
    store: EvidenceStore,
    case_id: int,
    evidence_id: int,
    who: WorkerIdentity | None = None,
) -> bytes:
    """The stored JSON exactly as kept (its SHA-256 is the record's ``payload_sha256``)."""
    return store.open_payload(_visible_row(db, evidence_id, case_id, who).id)


def room_check_rows(session: Session, case_id: int) -> list[tuple[EvidenceRecord, str | None]]:
    """The case's room-check evidence rows, oldest first, with their log entries' hashes
    (for the evidence report; call inside the report's snapshot)."""
    rows = session.scalars(
        select(EvidenceRecord)
        .where(EvidenceRecord.case_id == case_id, EvidenceRecord.reason == REASON)
        .where(EvidenceRecord.url.startswith(URN_PREFIX))
        .order_by(EvidenceRecord.id)
    ).all()
    out = []
    for row in rows:
        entry = session.get(EvidenceLogEntry, row.log_seq)
        out.append((row, entry.entry_hash if entry is not None else None))
    return out


def report_room_checks(
    store: EvidenceStore,
    rows: list[tuple[EvidenceRecord, str | None]],
    language: Language,
    warc_name: Callable[[EvidenceRecord], str],
) -> list[ReportRoomCheck]:
    """The report's room-check section, in its language: counts and the flagged devices."""
    lang = language.value
    out = []
    for row, entry_hash in rows:
        data = json.loads(store.open_payload(row.id))
        flagged = [
            ReportRoomDevice(
                address=str(d["address"]),
                label=", ".join(x for x in (d.get("vendor", ""), *d.get("names", [])[:2]) if x),
                verdict=room_words.VERDICT[Verdict(d["verdict"])][lang],
                reasons=[
                    room_words.reason_text(
                        Reason(r["code"], Weight(r["weight"]), r["detail"]), lang
                    )
                    for r in d["reasons"]
                ],
            )
            for d in data.get("devices", [])
            if d.get("verdict") in (Verdict.LIKELY.value, Verdict.CHECK.value)
        ]
        counts = data.get("counts", {})
        out.append(
            ReportRoomCheck(
                checked_at=datetime.fromisoformat(row.captured_at),
                network=str(data.get("network", "")),
                likely=int(counts.get("likely", 0)),
                check=int(counts.get("check", 0)),
                unlikely=int(counts.get("unlikely", 0)),
                flagged=flagged,
                payload_sha256=row.payload_sha256,
                warc_file=warc_name(row),
                log_seq=row.log_seq,
                log_entry_hash=entry_hash,
            )
        )
    return out
