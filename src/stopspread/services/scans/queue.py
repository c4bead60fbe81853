"""Scan use cases: sources, queueing, claiming, running, scheduling, progress.

A scan is queued (a worker's button, ``stopspread scan run``, or a source's schedule), then
*claimed* by one process with a conditional update (``queued`` → ``running`` only if it is
still queued), inside the serialised writer: two processes never run the same scan. Runs
happen in :mod:`stopspread.services.scans.run`; the scheduler thread is
:class:`~stopspread.services.scans.scheduler.ScanScheduler`.
"""

from __future__ import annotations

import enum
import ipaddress
import json
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select, update

from stopspread.errors import (
    FetchRefusedError,
    InvalidRequestError,
    NotFoundError,
    SourceRejectedError,
)
from stopspread.services.keys import normalise_case_code
from stopspread.services.scans import run as scan_run
from stopspread.services.scans.run import COUNTERS, ProgressHook, ScanDeps
from stopspread.services.scans.sightings import mark_removed
from stopspread.sources.fetch import check_address
from stopspread.sources.urls import check_url
from stopspread.storage.db import Database
from stopspread.storage.models import Case, CaseStatus, utcnow
from stopspread.storage.models_scan import ScanRow, ScanStatus, Source, SourceKind

__all__ = [
    "MAX_URLS",
    "MIN_SCHEDULE_S",
    "ScanDeps",
    "ScanStatus",
    "ScanView",
    "SourceKind",  # the kinds of source a worker adds (the form's choices)
    "SourceProblem",
    "SourceView",
    "add_source",
    "cancel_scan",
    "case_id_for_code",
    "claim_next",
    "fail_abandoned",
    "list_scans",
    "list_sources",
    "mark_removed",
    "queue_due",
    "queue_scan",
    "run_due",
    "run_scan",
    "scan_view",
    "worker_name",
]

MAX_URLS: Final = 1000  # URLs in one list source
MIN_SCHEDULE_S: Final = 300  # a scheduled source runs at most every 5 minutes
ABANDONED_AFTER_S: Final = 600  # a running scan without a heartbeat this long has died
ACTIVE: Final = (ScanStatus.QUEUED, ScanStatus.RUNNING)


class SourceProblem(enum.StrEnum):
    """Why a source or a scan of it was refused (``SourceRejectedError.reason``)."""

    URL = "url"  # not http(s), credentials, an internal address
    SCHEDULE = "schedule"  # more often than MIN_SCHEDULE_S
    INVALID = "invalid"  # empty, too many URLs, no such folder, malformed
    WITHDRAWN = "withdrawn"  # the case was withdrawn
    FOLDER = "folder"  # folder sources are command-line only


@dataclass(frozen=True, slots=True)
class SourceView:
    id: int
    case_id: int
    kind: SourceKind
    label: str
    spec: dict[str, Any]
    schedule_s: int | None
    next_run_at: datetime | None


@dataclass(frozen=True, slots=True)
class ScanView:
    id: int
    source_id: int
    case_id: int
    status: ScanStatus
    trigger: str
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    counts: dict[str, int]
    error_kinds: dict[str, int]
    last_error: str | None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


def worker_name() -> str:
    """``host:pid``: who claimed a scan."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}"


def _source_view(row: Source) -> SourceView:
    return SourceView(
        row.id, row.case_id, row.kind, row.label, json.loads(row.spec), row.schedule_s,
        row.next_run_at,
    )  # fmt: skip


def _scan_view(row: ScanRow) -> ScanView:
    return ScanView(
        id=row.id,
        source_id=row.source_id,
        case_id=row.case_id,
        status=row.status,
        trigger=row.trigger,
        queued_at=row.queued_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        counts={name: int(getattr(row, name)) for name in COUNTERS},
        error_kinds=json.loads(row.error_kinds or "{}"),
        last_error=row.last_error,
    )


def case_id_for_code(db: Database, code: str) -> int:
    with db.read() as session:
        case = session.scalars(select(Case).where(Case.code == normalise_case_code(code))).first()
    if case is None:
        raise NotFoundError("no such case")
    if case.status is not CaseStatus.ACTIVE:
        raise SourceRejectedError(
            "the case was withdrawn: nothing to scan for", SourceProblem.WITHDRAWN
        )
    return case.id


def _check_url(url: str, allow_loopback: bool) -> None:
    """Scheme, credentials, and an address written in the URL: refused when adding already."""
    host = check_url(url).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return  # a name: resolved and checked at every fetch
    check_address(host, allow_loopback)


def _check_spec(kind: SourceKind, spec: dict[str, Any], allow_loopback: bool) -> dict[str, Any]:
    try:
        if kind is SourceKind.CRAWL:
            _check_url(str(spec["start"]), allow_loopback)
            out: dict[str, Any] = {"start": str(spec["start"]).strip()}
            for key in ("max_depth", "max_pages"):
                if spec.get(key) is not None:
                    out[key] = max(0, int(spec[key]))
            return out
        if kind is SourceKind.URLS:
            urls = [str(u).strip() for u in spec["urls"] if str(u).strip()]
            if not 0 < len(urls) <= MAX_URLS:
                raise SourceRejectedError(
                    f"a URL list holds 1 to {MAX_URLS} URLs", SourceProblem.INVALID
                )
            for url in urls:
                _check_url(url, allow_loopback)
            return {"urls": urls}
        if "://" in str(spec["path"]) and not str(spec["path"]).startswith("file://"):
            return {"path": str(spec["path"])}  # s3://, https://…: fsspec, for batch scans
        path = Path(str(spec["path"])).expanduser().resolve()
        if not path.is_dir():
            raise SourceRejectedError("the folder does not exist", SourceProblem.INVALID)
        return {"path": str(path)}
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceRejectedError(f"invalid {kind.value} source", SourceProblem.INVALID) from exc
    except FetchRefusedError as exc:
        raise SourceRejectedError(f"URL refused: {exc}", SourceProblem.URL) from exc


def add_source(
    db: Database,
    case_id: int,
    kind: SourceKind,
    spec: dict[str, Any],
    *,
    created_by: str,
    label: str = "",
    schedule_s: int | None = None,
    allow_loopback: bool = False,
) -> int:
    """A new source for a case; with ``schedule_s`` it is scanned that often."""
    clean = _check_spec(kind, spec, allow_loopback)
    if schedule_s is not None and schedule_s < MIN_SCHEDULE_S:
        raise SourceRejectedError(
            f"a schedule is at least {MIN_SCHEDULE_S} seconds", SourceProblem.SCHEDULE
        )
    shown = label.strip() or str(clean.get("start") or clean.get("path") or clean["urls"][0])
    with db.write() as (session, _head):
        if session.get(Case, case_id) is None:
            raise NotFoundError("no such case")
        source = Source(
            case_id=case_id, kind=kind, spec=json.dumps(clean, sort_keys=True),
            label=shown[:200], schedule_s=schedule_s, active=True, created_by=created_by[:100],
            next_run_at=utcnow() if schedule_s is not None else None,
        )  # fmt: skip
        session.add(source)
        session.flush()
        return source.id


def list_sources(db: Database, case_id: int) -> list[SourceView]:
    with db.read() as session:
        rows = session.scalars(
            select(Source).where(Source.case_id == case_id, Source.active).order_by(Source.id)
        )
        return [_source_view(row) for row in rows]


def queue_scan(db: Database, source_id: int, *, trigger: str) -> int:
    """Queue a scan of a source; a queued or running one of it is returned instead."""
    with db.write() as (session, _head):
        source = session.get(Source, source_id)
        if source is None or not source.active:
            raise NotFoundError("no such source")
        case = session.get(Case, source.case_id)
        if case is None or case.status is not CaseStatus.ACTIVE:
            raise SourceRejectedError("the case was withdrawn", SourceProblem.WITHDRAWN)
        running = session.scalars(
            select(ScanRow.id).where(ScanRow.source_id == source_id, ScanRow.status.in_(ACTIVE))
        ).first()
        if running is not None:
            return running
        scan = ScanRow(
            source_id=source_id, case_id=source.case_id, status=ScanStatus.QUEUED,
            trigger=trigger[:100], queued_at=utcnow(), cancel_requested=False,
            error_kinds="{}", **dict.fromkeys(COUNTERS, 0),
        )  # fmt: skip
        session.add(scan)
        session.flush()
        return scan.id


def queue_due(db: Database, now: datetime | None = None) -> list[int]:
    """Queue a scan of every scheduled source that is due; moves its next run on."""
    now = now or utcnow()
    with db.read() as session:
        due = session.scalars(
            select(Source.id).where(Source.active, Source.next_run_at <= now)
        ).all()
    queued = []
    for source_id in due:
        with db.write() as (session, _head):
            source = session.get(Source, source_id)
            if source is None or source.schedule_s is None or source.next_run_at is None:
                continue
            if source.next_run_at > now:  # another process took it meanwhile
                continue
            source.next_run_at = now + timedelta(seconds=source.schedule_s)
        try:
            queued.append(queue_scan(db, source_id, trigger="schedule"))
        except SourceRejectedError:
            _switch_off(db, source_id)  # its case was withdrawn
    return queued


def _switch_off(db: Database, source_id: int) -> None:
    with db.write() as (session, _head):
        source = session.get(Source, source_id)
        if source is not None:
            source.active, source.next_run_at = False, None


def _claim(db: Database, scan_id: int, who: str) -> bool:
    now = utcnow()
    with db.write() as (session, _head):
        result = session.execute(
            update(ScanRow)
            .where(ScanRow.id == scan_id, ScanRow.status == ScanStatus.QUEUED)
            .values(status=ScanStatus.RUNNING, claimed_by=who, started_at=now, heartbeat_at=now)
        )
        return bool(getattr(result, "rowcount", 0) == 1)


def claim_next(db: Database, who: str) -> int | None:
    """The oldest queued scan, now running for ``who``; ``None`` when none is queued."""
    for _attempt in range(10):
        with db.read() as session:
            scan_id = session.scalars(
                select(ScanRow.id).where(ScanRow.status == ScanStatus.QUEUED).order_by(ScanRow.id)
            ).first()
        if scan_id is None:
            return None
        if _claim(db, scan_id, who):
            return scan_id
    return None


def run_scan(deps: ScanDeps, scan_id: int, on_progress: ProgressHook | None = None) -> ScanView:
    """Claim a queued scan and run it here, to its end."""
    if not _claim(deps.db, scan_id, worker_name()):
        raise InvalidRequestError("the scan is not queued (running elsewhere, or finished)")
    scan_run.run_claimed(deps, scan_id, on_progress)
    return scan_view(deps.db, scan_id)


def run_due(deps: ScanDeps, on_progress: ProgressHook | None = None) -> list[ScanView]:
    """Queue what is due, then run queued scans one by one until none is left (cron)."""
    fail_abandoned(deps.db)
    queue_due(deps.db)
    done = []
    who = worker_name()
    while (scan_id := claim_next(deps.db, who)) is not None:
        scan_run.run_claimed(deps, scan_id, on_progress)
        done.append(scan_view(deps.db, scan_id))
    return done


def fail_abandoned(db: Database, after_s: float = ABANDONED_AFTER_S) -> int:
    """Running scans whose process stopped sending heartbeats are marked failed."""
    limit = utcnow() - timedelta(seconds=after_s)
    with db.write() as (session, _head):
        result = session.execute(
            update(ScanRow)
            .where(ScanRow.status == ScanStatus.RUNNING, ScanRow.heartbeat_at < limit)
            .values(status=ScanStatus.FAILED, finished_at=utcnow(), last_error="abandoned")
        )
        return int(getattr(result, "rowcount", 0))


def cancel_scan(db: Database, scan_id: int) -> ScanStatus:
    """A queued scan is cancelled at once; a running one stops at its next progress write.
    Returns the scan's status now (``running`` with the request noted; a finished scan's)."""
    with db.write() as (session, _head):
        scan = session.get(ScanRow, scan_id)
        if scan is None:
            raise NotFoundError("no such scan")
        if scan.status is ScanStatus.QUEUED:
            scan.status, scan.finished_at = ScanStatus.CANCELLED, utcnow()
        elif scan.status is ScanStatus.RUNNING:
            scan.cancel_requested = True
        return scan.status


def scan_view(db: Database, scan_id: int) -> ScanView:
    with db.read() as session:
        row = session.get(ScanRow, scan_id)
        if row is None:
            raise NotFoundError("no such scan")
        return _scan_view(row)


def list_scans(
    db: Database, case_ids: Sequence[int] | None = None, limit: int = 50
) -> list[ScanView]:
    query = select(ScanRow).order_by(ScanRow.id.desc()).limit(limit)
    if case_ids is not None:
        query = query.where(ScanRow.case_id.in_(list(case_ids)))
    with db.read() as session:
        return [_scan_view(row) for row in session.scalars(query)]
