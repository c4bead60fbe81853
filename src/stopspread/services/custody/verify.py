"""Check all stored evidence: every file, every digest, the log's chain, rows against entries.

Problems are collected, not raised at the first one, so a report lists everything damaged.
Rows are read as plain values (not ORM objects) so an edited enum or number cannot stop the
check. The log entry is the reference: a row that differs from its entry is reported, and
files are checked against the digests the log recorded. Files of a case whose evidence was
erased at her withdrawal (key destroyed, files deleted) are counted as ``erased``, not checked.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from stopspread import hashchain
from stopspread.errors import EvidenceError
from stopspread.evidence.warc import read_warc
from stopspread.services.custody import log
from stopspread.services.custody.store import EvidenceStore
from stopspread.storage.db import Database
from stopspread.storage.models import Case, CaseStatus, CenterEvidence
from stopspread.storage.models_worker import EvidenceLogEntry

__all__ = ["EvidenceCheck", "Problem", "check", "verify_evidence"]

ROWS_SQL = text(
    "SELECT id, case_id, kind, url, http_status, content_type, warc_record_id, sha256,"
    " payload_sha256, size, cipher_sha256, nonce, file_name, captured_at, captured_at_kst,"
    " reason, log_seq FROM evidence_records ORDER BY id"
)

BREAKS: Final = {
    hashchain.Break.GAP: "out of sequence (expected entry {expected})",
    hashchain.Break.UNLINKED: "does not link to the entry before it",
    hashchain.Break.EDITED: "was edited (its hash does not match)",
}


@dataclass(frozen=True, slots=True)
class Problem:
    item: str  # "evidence 12", "log entry 7", "log head"
    message: str

    def __str__(self) -> str:
        return f"{self.item}: {self.message}"


@dataclass(slots=True)
class EvidenceCheck:
    """What a check found: counts, every problem, files no row names (not a problem).

    Not :class:`stopspread.report.model.EvidenceReport`, the PDF's content.
    """

    records: int = 0
    entries: int = 0
    erased: int = 0  # records whose files were erased at her withdrawal (not checked)
    problems: list[Problem] = field(default_factory=list)
    unreferenced_files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, item: str, message: str) -> None:
        self.problems.append(Problem(item, message))


def verify_evidence(db: Database, store: EvidenceStore) -> EvidenceCheck:
    """Check everything in one consistent read."""
    with db.read(snapshot=True) as session:
        return check(session, store)


def check(session: Session, store: EvidenceStore) -> EvidenceCheck:
    report = EvidenceCheck()
    logged = _check_chain(session, report)
    rows = [dict(r._mapping) for r in session.execute(ROWS_SQL)]
    report.records = len(rows)
    seen: set[int] = set()
    for row in rows:
        seen.add(row["id"])
        _check_row(row, logged.get(row["id"]), report)
    for evidence_id, (seq, _) in sorted(logged.items()):
        if evidence_id not in seen:
            report.add(f"log entry {seq}", f"names evidence {evidence_id}, which has no row")
    erased = _erased_cases(session)
    for evidence_id, (seq, payload) in sorted(logged.items()):
        if payload.get("case_id") in erased:
            report.erased += 1
            continue
        _check_file(session, store, evidence_id, seq, payload, report)
    names = {str(p["file_name"]) for _, p in logged.values()} | {str(r["file_name"]) for r in rows}
    report.unreferenced_files = store.files.unreferenced(names)
    return report


def _check_chain(session: Session, report: EvidenceCheck) -> dict[int, tuple[int, dict[str, Any]]]:
    """Walk the chain; returns evidence id → (entry seq, logged payload)."""
    walk = hashchain.Walk()
    logged: dict[int, tuple[int, dict[str, Any]]] = {}
    for entry in session.scalars(select(EvidenceLogEntry).order_by(EvidenceLogEntry.seq)):
        item, expected = f"log entry {entry.seq}", walk.next_seq
        for found in walk.step(
            entry.seq, entry.at, entry.kind, entry.payload, entry.prev_hash, entry.entry_hash
        ):
            report.add(item, BREAKS[found].format(expected=expected))
        report.entries += 1
        payload = _payload(entry.payload)
        if payload is None or not isinstance(payload.get("evidence_id"), int):
            report.add(item, "its payload does not name an evidence record")
            continue
        logged[payload["evidence_id"]] = (entry.seq, payload)
    try:
        head = log.read_head(session)
    except EvidenceError as exc:
        report.add("log head", str(exc))
        return logged
    if head != walk.head:
        report.add("log head", f"says entry {head.seq} but the chain ends at entry {walk.head.seq}")
    return logged


def _erased_cases(session: Session) -> set[int]:
    withdrawn = session.execute(
        select(Case.id, Case.center_evidence).where(Case.status == CaseStatus.WITHDRAWN)
    ).all()
    return {case_id for case_id, choice in withdrawn if choice is not CenterEvidence.KEEP}


def _payload(raw: str) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _check_row(
    row: Mapping[str, Any], entry: tuple[int, dict[str, Any]] | None, report: EvidenceCheck
) -> None:
    item = f"evidence {row['id']}"
    if entry is None:
        report.add(item, "has no log entry")
        return
    seq, payload = entry
    if row["log_seq"] != seq:
        report.add(item, f"points to log entry {row['log_seq']}, but entry {seq} records it")
    for name, value in payload.items():
        column = "id" if name == "evidence_id" else name
        if row.get(column) != value:
            report.add(item, f"{column} differs from its log entry")


def _check_file(
    session: Session,
    store: EvidenceStore,
    evidence_id: int,
    seq: int,
    p: Mapping[str, Any],
    report: EvidenceCheck,
) -> None:
    item = f"evidence {evidence_id}"
    try:
        sealed = store.read_file(str(p["file_name"]))
        if hashlib.sha256(sealed).hexdigest() != p["cipher_sha256"]:
            raise EvidenceError(f"file {p['file_name']} was changed (ciphertext digest)")
        plain = store.decrypt(
            int(p["case_id"]),
            str(p["warc_record_id"]),
            str(p["sha256"]),
            str(p["nonce"]),
            sealed,
            session,
        )
        if hashlib.sha256(plain).hexdigest() != p["sha256"]:
            raise EvidenceError("the WARC digest does not match")
        content = read_warc(plain)
        if content.record_id != p["warc_record_id"]:
            raise EvidenceError("the WARC record id does not match")
        if hashlib.sha256(content.body).hexdigest() != p["payload_sha256"]:
            raise EvidenceError("the body digest does not match")
    except (EvidenceError, KeyError, ValueError, TypeError) as exc:
        report.add(item, f"{exc} (log entry {seq})")
