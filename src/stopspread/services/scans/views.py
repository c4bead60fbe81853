"""Scans as a support worker sees them: only her center's cases, their sources and scans.

Every function takes the worker's identity and answers :class:`NotFoundError` for anything
outside her center's cases (the same answer as for something that does not exist). Folder
sources are not offered here: they read this server's disk, so only the command line
(an administrator with a shell) may add them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from stopspread.errors import NotFoundError, SourceRejectedError
from stopspread.services.scans import queue as scans
from stopspread.services.scans.queue import ScanView, SourceProblem, SourceView
from stopspread.services.workers.accounts import WorkerIdentity, require_case, visible_case_ids
from stopspread.storage.db import Database
from stopspread.storage.models import Case
from stopspread.storage.models_scan import ScanRow, Source, SourceKind

__all__ = [
    "CaseSources",
    "Overview",
    "add_source_for",
    "cancel_for",
    "overview",
    "queue_for",
    "scan_for",
]

WEB_KINDS = (SourceKind.CRAWL, SourceKind.URLS)


@dataclass(frozen=True, slots=True)
class CaseSources:
    case_id: int
    code: str
    sources: list[SourceView]


@dataclass(frozen=True, slots=True)
class Overview:
    cases: list[CaseSources]
    scans: list[ScanView]
    source_labels: dict[int, str]


def overview(db: Database, who: WorkerIdentity, limit: int = 30) -> Overview:
    with db.read() as session:
        case_ids = visible_case_ids(session, who)
        codes = dict(session.execute(select(Case.id, Case.code).where(Case.id.in_(case_ids))).all())
    cases = [CaseSources(cid, codes[cid], scans.list_sources(db, cid)) for cid in case_ids]
    labels = {s.id: s.label for c in cases for s in c.sources}
    return Overview(cases, scans.list_scans(db, case_ids, limit), labels)


def add_source_for(
    db: Database,
    who: WorkerIdentity,
    case_id: int,
    kind: SourceKind,
    spec: dict[str, Any],
    *,
    username: str,
    schedule_s: int | None = None,
    allow_loopback: bool = False,
) -> int:
    if kind not in WEB_KINDS:
        raise SourceRejectedError(
            "folder sources are added on the command line", SourceProblem.FOLDER
        )
    with db.read() as session:
        require_case(session, who, case_id)
    return scans.add_source(
        db, case_id, kind, spec, created_by=username, schedule_s=schedule_s,
        allow_loopback=allow_loopback,
    )  # fmt: skip


def _source_case(db: Database, who: WorkerIdentity, source_id: int) -> int:
    with db.read() as session:
        source = session.get(Source, source_id)
        if source is None or not source.active:
            raise NotFoundError("no such source")
        require_case(session, who, source.case_id)
        return source.case_id


def queue_for(db: Database, who: WorkerIdentity, source_id: int, *, username: str) -> int:
    _source_case(db, who, source_id)
    return scans.queue_scan(db, source_id, trigger=username)


def scan_for(db: Database, who: WorkerIdentity, scan_id: int) -> ScanView:
    with db.read() as session:
        row = session.get(ScanRow, scan_id)
        if row is None:
            raise NotFoundError("no such scan")
        try:
            require_case(session, who, row.case_id)
        except NotFoundError:
            raise NotFoundError("no such scan") from None  # another center's: alike
    return scans.scan_view(db, scan_id)


def cancel_for(db: Database, who: WorkerIdentity, scan_id: int) -> None:
    scan_for(db, who, scan_id)
    scans.cancel_scan(db, scan_id)
