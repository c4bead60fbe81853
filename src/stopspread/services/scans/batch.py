"""Batch scans of a folder or an object-store prefix: the work on each file, and its record.

A batch scan is an ordinary scan of a ``folder`` source (its row, counters, sightings and
evidence are the same as ``run.py``'s), split into batches of files that can be hashed
anywhere — a Dask worker (``stopspread.scale.dask``) or this process:

- :func:`list_files` names every file under the source's path through fsspec (a local
  folder, ``s3://bucket/prefix``, ``https://…`` listings), sorted, and leaves out the
  files the scan already finished with (``scan_items``);
- :func:`hash_batch` runs where the files are hashed: it reads each file (size-capped),
  classifies it, matches it with the case's :class:`CaseMatcher` and returns one
  :class:`ItemResult` per file; the bytes travel back only for a hit (the evidence);
- :func:`record_batch` writes one batch in one transaction: evidence and sightings for the
  hits (``record_hit``, as every scan does), a ``scan_items`` row per file and the counters.

Because the file rows and the sightings commit together, a scan resumed after its client
died (``resume_scan``) skips exactly the files already recorded: nothing is recorded twice
and nothing is lost. A batch whose worker died is simply run again by the scheduler; its
results were never recorded.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import fsspec
from sqlalchemy import select

from stopspread.errors import (
    FetchError,
    FetchTooLargeError,
    InvalidRequestError,
    NotFoundError,
    StopSpreadError,
)
from stopspread.hashing import VideoSandbox
from stopspread.services.scans.matcher import CaseMatcher, Hit
from stopspread.services.scans.queue import queue_scan, worker_name
from stopspread.services.scans.run import COUNTERS, ScanDeps, case_matcher
from stopspread.services.scans.sightings import Observation, Outcome, record_hit
from stopspread.sources.fetch import Fetched
from stopspread.sources.media import BodyKind, classify
from stopspread.storage.models import Case, CaseStatus, utcnow
from stopspread.storage.models_scan import ScanItem, ScanRow, ScanStatus, Source, SourceKind

__all__ = [
    "DEFAULT_BATCH_FILES",
    "BatchScan",
    "ItemResult",
    "file_url",
    "finish",
    "hash_batch",
    "list_files",
    "matcher_for",
    "record_batch",
    "resume_scan",
    "start_scan",
]

DEFAULT_BATCH_FILES: Final = 32  # files per task: ~1 s of hashing, small enough to redo


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What hashing one file gave: ``outcome`` is hashed, skipped or an error class."""

    url: str
    outcome: str
    hit: Hit | None = None
    media: Fetched | None = None  # only for a hit: the bytes become evidence
    error: str = ""


@dataclass(frozen=True, slots=True)
class BatchScan:
    """A claimed scan of a folder source, ready to be split into batches."""

    scan_id: int
    source_id: int
    case_id: int
    path: str


def file_url(fs: Any, path: str) -> str:
    """The URL a file is recorded under: ``file:///…`` locally (as ``run.py`` records
    folder files), else the fsspec URL (``s3://…``)."""
    url: str = fs.unstrip_protocol(path)
    return url


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8", errors="surrogatepass")).hexdigest()


def _claim_for_batch(deps: ScanDeps, scan_id: int, *, resume: bool) -> BatchScan:
    allowed = (
        {ScanStatus.QUEUED}
        if not resume
        else {ScanStatus.QUEUED, ScanStatus.RUNNING, ScanStatus.FAILED, ScanStatus.CANCELLED}
    )
    with deps.db.write() as (session, _head):
        row = session.get(ScanRow, scan_id)
        source = session.get(Source, row.source_id) if row is not None else None
        if row is None or source is None:
            raise NotFoundError("no such scan")
        if source.kind is not SourceKind.FOLDER:
            raise InvalidRequestError("batch scans read folders or object-store prefixes")
        if row.status not in allowed:
            raise InvalidRequestError(f"the scan is {row.status.value}; it cannot be run")
        case = session.get(Case, row.case_id)
        if case is None or case.status is not CaseStatus.ACTIVE:
            raise InvalidRequestError("the case was withdrawn")
        now = utcnow()
        row.status, row.claimed_by, row.heartbeat_at = ScanStatus.RUNNING, worker_name(), now
        row.started_at = row.started_at or now
        row.finished_at = None
        path = str(json.loads(source.spec)["path"])
        return BatchScan(row.id, source.id, source.case_id, path)


def start_scan(deps: ScanDeps, source_id: int, *, trigger: str = "cli") -> BatchScan:
    """Queue and claim a new batch scan of a folder source."""
    return _claim_for_batch(deps, queue_scan(deps.db, source_id, trigger=trigger), resume=False)


def resume_scan(deps: ScanDeps, scan_id: int) -> BatchScan:
    """Claim an unfinished batch scan again (its client died, or it was stopped)."""
    return _claim_for_batch(deps, scan_id, resume=True)


def matcher_for(deps: ScanDeps, scan: BatchScan) -> CaseMatcher:
    """The case's signals as a matcher with no sandbox of its own (one is made per batch)."""
    return case_matcher(deps, scan.case_id)


def list_files(deps: ScanDeps, scan: BatchScan) -> list[str]:
    """Every file under the source's path (sorted), less those the scan finished with."""
    fs, root = fsspec.core.url_to_fs(scan.path)
    paths = sorted(fs.find(root))
    with deps.db.read() as session:
        done = set(
            session.scalars(select(ScanItem.url_key).where(ScanItem.scan_id == scan.scan_id))
        )
    return [p for p in paths if url_key(file_url(fs, p)) not in done]


def _read(fs: Any, path: str, max_bytes: int) -> bytes:
    try:
        size = fs.size(path)
        if size is not None and size > max_bytes:
            raise FetchTooLargeError(f"file is over the {max_bytes:,}-byte cap")
        with fs.open(path, "rb") as f:
            body: bytes = f.read(max_bytes + 1)
    except OSError as exc:
        raise FetchError(exc.strerror or str(exc)) from None
    if len(body) > max_bytes:
        raise FetchTooLargeError(f"file is over the {max_bytes:,}-byte cap")
    return body


def _one(fs: Any, path: str, matcher: CaseMatcher, max_bytes: int) -> ItemResult:
    url = file_url(fs, path)
    try:
        body = _read(fs, path, max_bytes)
        ctype = mimetypes.guess_type(path)[0] or "application/octet-stream"
        kind = classify(body, ctype, url)
        if kind is BodyKind.IMAGE:
            hit = matcher.match_image(body)
        elif kind is BodyKind.VIDEO:
            hit = matcher.match_video(body)
        else:
            return ItemResult(url, "skipped")
    except StopSpreadError as exc:
        return ItemResult(url, type(exc).__name__, error=f"{type(exc).__name__}: {exc}"[:500])
    if hit is None:
        return ItemResult(url, "hashed")
    media = Fetched(
        url=url, status=200, body=body, fetched_at=datetime.now(UTC), peer="",
        headers=(("content-type", ctype), ("content-length", str(len(body)))),
    )  # fmt: skip
    return ItemResult(url, "hit", hit, media)


def hash_batch(
    matcher: CaseMatcher, root: str, paths: Sequence[str], max_bytes: int
) -> list[ItemResult]:
    """Hash and match ``paths`` (fsspec paths under ``root``'s filesystem); one result each.

    Runs on a Dask worker (or here); videos go through one sandbox for the batch.
    """
    fs, _root = fsspec.core.url_to_fs(root)
    with VideoSandbox() as sandbox:
        local = matcher.with_sandbox(sandbox)
        return [_one(fs, path, local, max_bytes) for path in paths]


def record_batch(deps: ScanDeps, scan: BatchScan, results: Sequence[ItemResult]) -> bool:
    """Record one batch (evidence, sightings, file rows, counters) in one transaction.

    Files recorded before (a batch run twice) are left out. Returns ``False`` when the scan
    must stop: cancelled, or the case was withdrawn (nothing of this batch is recorded).
    """
    page_evidence: dict[str, int] = {}
    with deps.db.write() as (session, _head):
        row = session.get(ScanRow, scan.scan_id)
        case = session.get(Case, scan.case_id)
        if row is None or case is None or case.status is not CaseStatus.ACTIVE:
            return False
        if row.cancel_requested:
            return False
        keys = [url_key(r.url) for r in results]
        done = set(
            session.scalars(
                select(ScanItem.url_key).where(
                    ScanItem.scan_id == scan.scan_id, ScanItem.url_key.in_(keys)
                )
            )
        )
        counts = dict.fromkeys(COUNTERS, 0)
        kinds: dict[str, int] = json.loads(row.error_kinds or "{}")
        for result, key in zip(results, keys, strict=True):
            if key in done:
                continue
            done.add(key)
            session.add(ScanItem(scan_id=scan.scan_id, url_key=key, outcome=result.outcome[:60]))
            counts["media_found"] += 1
            if result.outcome == "skipped":
                counts["skipped"] += 1
            elif result.outcome not in ("hashed", "hit"):
                counts["errors"] += 1
                kinds[result.outcome] = kinds.get(result.outcome, 0) + 1
                row.last_error = result.error
                continue
            else:
                counts["media_hashed"] += 1
            if result.hit is not None and result.media is not None:
                counts["hits"] += 1
                obs = Observation(
                    case_id=scan.case_id, media_url=result.url, source_id=scan.source_id,
                    scan_id=scan.scan_id, media=result.media, page=None, hit=result.hit,
                    at=utcnow(),
                )  # fmt: skip
                outcome, _ = record_hit(session, deps.evidence, obs, page_evidence)
                if outcome in (Outcome.NEW, Outcome.REUPLOAD):
                    counts["new_sightings"] += 1
                if outcome is Outcome.REUPLOAD:
                    counts["reuploads"] += 1
        for name, value in counts.items():
            setattr(row, name, getattr(row, name) + value)
        row.error_kinds = json.dumps(dict(sorted(kinds.items())))
        row.heartbeat_at = utcnow()
    return True


def finish(deps: ScanDeps, scan: BatchScan, status: ScanStatus) -> dict[str, int]:
    """Mark the scan finished; returns its counters."""
    with deps.db.write() as (session, _head):
        row = session.get(ScanRow, scan.scan_id)
        if row is None:
            return {}
        row.status, row.finished_at = status, utcnow()
        return {name: int(getattr(row, name)) for name in COUNTERS}
