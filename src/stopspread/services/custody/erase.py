"""Erasing a case's evidence when she withdraws and chooses "delete" (crypto-shredding).

Inside the withdrawal's write transaction :func:`destroy_case_key` deletes the case's wrapped
key (SQLite's ``secure_delete`` zeroes the row; the withdrawal checkpoints the WAL): from then
on no file of the case, in the evidence folder or in any backup, can be decrypted, even with
the master key. After the commit :func:`remove_case_files` deletes the files themselves.
Files sealed with the master key before case keys existed are only deleted, not shredded: a
backup of them stays readable (docs/security.md).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from stopspread.config import Settings
from stopspread.errors import EvidenceErasedError, NotFoundError
from stopspread.evidence.files import EVIDENCE_DIR, remove_case
from stopspread.storage.models import Case, CaseStatus, CenterEvidence
from stopspread.storage.models_worker import CaseKey, EvidenceRecord

__all__ = [
    "destroy_case_key",
    "evidence_count",
    "evidence_erased",
    "remove_case_files",
    "require_evidence",
]


def evidence_erased(case: Case) -> bool:
    """Whether her withdrawal asked for the center's evidence to be deleted (withdrawals made
    before she was asked count as "delete": she was told everything was deleted)."""
    return case.status is CaseStatus.WITHDRAWN and case.center_evidence is not CenterEvidence.KEEP


def require_evidence(session: Session, case_id: int) -> Case:
    """The case, unless its evidence was erased (:class:`EvidenceErasedError`, 410)."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFoundError("no such case")
    if evidence_erased(case):
        raise EvidenceErasedError(
            "she withdrew the case and asked for the center's evidence to be deleted"
        )
    return case


def evidence_count(session: Session, case_id: int) -> int:
    """How many evidence records the center holds for the case."""
    query = select(func.count()).select_from(EvidenceRecord)
    return int(session.scalar(query.where(EvidenceRecord.case_id == case_id)) or 0)


def destroy_case_key(session: Session, case_id: int) -> bool:
    """Delete the case's wrapped evidence key (call inside a write transaction)."""
    done = session.execute(delete(CaseKey).where(CaseKey.case_id == case_id))
    return bool(getattr(done, "rowcount", 0))


def remove_case_files(settings: Settings, case_id: int) -> int:
    """Delete the case's sealed files from the evidence folder; how many were removed.

    Needs no key: only the folder (a deployment without any evidence has nothing to remove).
    """
    return remove_case(Path(settings.data_dir) / EVIDENCE_DIR, case_id)
