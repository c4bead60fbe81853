"""Running one claimed scan: walk the source, hash every media file, record hits.

Per item, failures are counted (by error class) and the scan goes on; a failure of the scan
itself (its source cannot be read at all, the database is gone) fails it, and so does a scan
that fetched nothing at all because robots.txt could not be read or refused every page, or
because every page and media URL failed: it ends ``failed`` with the reason in ``last_error``,
never ``done`` with zero counts. Progress
counters are written to the scan's row at most once a second (and at the end), which is
also the moment a cancel request is noticed.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlsplit

from sqlalchemy import select

from stopspread.config import Settings
from stopspread.errors import FetchError, FetchStatusError, StopSpreadError
from stopspread.hashing import VideoSandbox
from stopspread.services.custody import EvidenceStore
from stopspread.services.keypoint_records import EnrolledKeypoints, load_records
from stopspread.services.match_policy import MatchPolicy, build_policy
from stopspread.services.scans.matcher import CaseMatcher, EnrolledSignal, Hit
from stopspread.services.scans.sightings import Observation, Outcome, mark_removed_in, record_hit
from stopspread.sources.crawl import (
    Event,
    ItemFailed,
    MediaFound,
    PageVisited,
    RobotsRefused,
    url_list,
)
from stopspread.sources.crawl import crawl as crawl_site
from stopspread.sources.fetch import Fetched, Fetcher, FetchLimits, Resolver, system_resolver
from stopspread.sources.folder import folder_media
from stopspread.sources.media import BodyKind, classify
from stopspread.storage.db import Database
from stopspread.storage.models import Bank, Case, CaseStatus, Signal, SignalStatus, utcnow
from stopspread.storage.models_keypoints import KeypointRecord
from stopspread.storage.models_scan import ScanRow, ScanStatus, Sighting, Source, SourceKind

__all__ = [
    "COUNTERS",
    "GONE_STATUSES",
    "ProgressHook",
    "ScanDeps",
    "case_keypoints",
    "case_matcher",
    "case_signals",
    "run_claimed",
]

log = logging.getLogger("stopspread.scans")

COUNTERS: Final = (
    "pages",
    "media_found",
    "media_hashed",
    "hits",
    "new_sightings",
    "reuploads",
    "removed",
    "skipped",
    "errors",
)
GONE_STATUSES: Final = frozenset({404, 410})  # the media URL answers: it is gone
FLUSH_EVERY_S: Final = 1.0
ProgressHook = Callable[[dict[str, int]], None]


@dataclass(slots=True)
class ScanDeps:
    """What running scans needs, built once by the CLI or the web app. The evidence store
    (and so its key file) is opened on first use, when a scan first has a hit."""

    settings: Settings
    db: Database
    resolver: Resolver = system_resolver
    _evidence: EvidenceStore | None = None
    _policy: MatchPolicy | None = None  # the service's; built from ``settings`` when not given

    @classmethod
    def build(
        cls, settings: Settings, db: Database | None = None, policy: MatchPolicy | None = None
    ) -> ScanDeps:
        return cls(settings, db or Database.from_settings(settings), _policy=policy)

    @property
    def policy(self) -> MatchPolicy:
        """The match policy scans decide by (``services.match_policy``)."""
        if self._policy is None:
            self._policy = build_policy(self.settings)
        return self._policy

    @property
    def evidence(self) -> EvidenceStore:
        if self._evidence is None:
            self._evidence = EvidenceStore.from_settings(self.settings, self.db)
        return self._evidence


def case_signals(deps: ScanDeps, case_id: int) -> list[EnrolledSignal]:
    """The case's active signals, as scans compare against them."""
    query = (
        select(Signal.id, Signal.type, Signal.value, Signal.quality)
        .join(Bank, Bank.id == Signal.bank_id)
        .where(Bank.case_id == case_id, Signal.status == SignalStatus.ACTIVE)
        .order_by(Signal.id)  # enrolment order: a video's frames in order (the ordered rule)
    )
    with deps.db.read() as session:
        return [EnrolledSignal(i, str(t), v, q) for i, t, v, q in session.execute(query)]


def case_keypoints(deps: ScanDeps, case_id: int) -> list[EnrolledKeypoints]:
    """The case's enrolled photos' keypoints, opened with its case key (none: the evidence
    key is not read)."""
    with deps.db.read() as session:
        if not session.scalar(select(KeypointRecord.id).where(KeypointRecord.case_id == case_id)):
            return []
        return load_records(session, deps.evidence, case_id)


def case_matcher(deps: ScanDeps, case_id: int, sandbox: VideoSandbox | None = None) -> CaseMatcher:
    """The case's matcher: its signals and its photos' keypoints, under the service's policy."""
    signals = case_signals(deps, case_id)
    return CaseMatcher(
        signals, sandbox, policy=deps.policy, keypoints=case_keypoints(deps, case_id)
    )


def source_events(source: Source, fetcher: Fetcher, settings: Settings) -> Iterator[Event]:
    spec = json.loads(source.spec)
    if source.kind is SourceKind.CRAWL:
        depth = min(int(spec.get("max_depth", settings.crawl_max_depth)), settings.crawl_max_depth)
        pages = min(int(spec.get("max_pages", settings.crawl_max_pages)), settings.crawl_max_pages)
        return crawl_site(fetcher, str(spec["start"]), max_depth=depth, max_pages=pages)
    if source.kind is SourceKind.URLS:
        return url_list(fetcher, [str(u) for u in spec["urls"]])
    return folder_media(Path(str(spec["path"])), settings.fetch_max_bytes)


@dataclass(slots=True)
class _Run:
    deps: ScanDeps
    scan_id: int
    source: Source
    matcher: CaseMatcher
    fetcher: Fetcher
    on_progress: ProgressHook | None
    stop: threading.Event | None = None
    counts: Counter[str] = field(default_factory=Counter)
    error_kinds: Counter[str] = field(default_factory=Counter)
    last_error: str | None = None
    robots_refusal: str | None = None
    seen: set[str] = field(default_factory=set)  # media URLs fetched and hashed in this scan
    tried: set[str] = field(default_factory=set)  # ... and those that failed: once a scan
    page_evidence: dict[str, int] = field(default_factory=dict)
    flushed_at: float = 0.0

    def walk(self) -> bool:
        """Every event of the source; False when a cancel was requested."""
        for event in source_events(self.source, self.fetcher, self.deps.settings):
            if isinstance(event, PageVisited):
                self.counts["pages"] += 1
            elif isinstance(event, RobotsRefused):
                self.counts["skipped"] += 1
                self.robots_refusal = self.robots_refusal or f"{event.url}: {event.reason}"
            elif isinstance(event, ItemFailed):
                self.error(event.error)
            elif event.url not in self.tried:
                self.tried.add(event.url)
                self.media(event)
            if not self.flush():
                return False
        return True

    def nothing_fetched(self) -> str | None:
        """Why the scan fetched nothing at all (None when something was fetched or tried
        without error: an empty folder, a page without media)."""
        if self.counts["pages"] or self.counts["media_hashed"]:
            return None
        if self.robots_refusal is not None and not self.counts["errors"]:
            return f"nothing fetched: robots.txt refused every page ({self.robots_refusal})"
        if self.counts["errors"]:
            why = f"; robots.txt: {self.robots_refusal}" if self.robots_refusal else ""
            return f"nothing fetched: every page failed (last: {self.last_error}){why}"
        return None

    def error(self, exc: StopSpreadError) -> None:
        self.counts["errors"] += 1
        self.error_kinds[type(exc).__name__] += 1
        self.last_error = f"{type(exc).__name__}: {exc}"[:500]

    def media(self, event: MediaFound) -> None:
        self.counts["media_found"] += 1
        try:
            got = event.response or self.fetcher.get(event.url)
            if not got.ok:
                raise FetchStatusError(f"HTTP {got.status}", got.status)
            body = got.decoded_body(self.deps.settings.fetch_max_bytes)  # evidence: as sent
            kind = classify(body, got.content_type, got.url)
            if kind not in (BodyKind.IMAGE, BodyKind.VIDEO):
                self.counts["skipped"] += 1
                return
            if kind is BodyKind.IMAGE:
                hit = self.matcher.match_image(body)
            else:
                hit = self.matcher.match_video(body)
        except StopSpreadError as exc:
            self.error(exc)  # not "seen": a known sighting's URL is checked again at the end
            return
        self.seen.add(event.url)
        self.counts["media_hashed"] += 1
        if hit is not None:
            self.hit(event, got, hit)

    def hit(self, event: MediaFound, got: Fetched, hit: Hit) -> None:
        self.counts["hits"] += 1
        obs = Observation(
            case_id=self.source.case_id, media_url=event.url, source_id=self.source.id,
            scan_id=self.scan_id, media=got, page=event.page, hit=hit, at=utcnow(),
        )  # fmt: skip
        with self.deps.db.write() as (session, _head):
            outcome, _sighting = record_hit(session, self.deps.evidence, obs, self.page_evidence)
        if outcome is Outcome.NEW:
            self.counts["new_sightings"] += 1
        elif outcome is Outcome.REUPLOAD:
            self.counts["new_sightings"] += 1
            self.counts["reuploads"] += 1

    def check_gone(self) -> None:
        """Known sightings of this source not seen now: a 404/410 marks them removed."""
        query = select(Sighting.id, Sighting.media_url).where(
            Sighting.source_id == self.source.id, Sighting.removed_at.is_(None)
        )
        with self.deps.db.read() as session:
            rows = [(i, u) for i, u in session.execute(query) if u not in self.seen]
        for sighting_id, url in rows:
            status = self._status(url)
            if status not in GONE_STATUSES:
                continue
            with self.deps.db.write() as (session, _head):
                sighting = session.get(Sighting, sighting_id)
                detail = f"scan {self.scan_id}: HTTP {status}"
                if sighting and mark_removed_in(
                    session, sighting, scan_id=self.scan_id, detail=detail
                ):
                    self.counts["removed"] += 1  # fmt: skip

    def _status(self, url: str) -> int | None:
        if url.startswith("file://"):
            return 200 if _file_path(url).is_file() else 404
        try:
            return self.fetcher.get(url).status
        except FetchStatusError as exc:
            return exc.status
        except FetchError:
            return None  # unreachable is not gone: the next scan looks again

    def flush(self, final: bool = False) -> bool:
        """Write the counters (at most once a second); False when a cancel was requested."""
        now = time.monotonic()
        if not final and now - self.flushed_at < FLUSH_EVERY_S:
            return True
        self.flushed_at = now
        with self.deps.db.write() as (session, _head):
            row = session.get(ScanRow, self.scan_id)
            if row is None:
                return False
            for name in COUNTERS:
                setattr(row, name, self.counts[name])
            row.error_kinds = json.dumps(dict(sorted(self.error_kinds.items())))
            row.last_error = self.last_error
            row.heartbeat_at = utcnow()
            case = session.get(Case, row.case_id)
            withdrawn = case is None or case.status is not CaseStatus.ACTIVE
            cancelled = row.cancel_requested or withdrawn  # her hashes must not be used on
        if self.on_progress is not None:
            self.on_progress({name: self.counts[name] for name in COUNTERS})
        return not cancelled and not (self.stop is not None and self.stop.is_set())


def _file_path(url: str) -> Path:
    return Path(unquote(urlsplit(url).path))


def _finish(deps: ScanDeps, scan_id: int, status: ScanStatus, error: str | None = None) -> None:
    with deps.db.write() as (session, _head):
        row = session.get(ScanRow, scan_id)
        if row is not None:
            row.status = status
            row.finished_at = utcnow()
            if error is not None:
                row.last_error = error[:500]


def run_claimed(
    deps: ScanDeps,
    scan_id: int,
    on_progress: ProgressHook | None = None,
    *,
    stop: threading.Event | None = None,
) -> ScanStatus:
    """Run a scan this process has claimed (status ``running``) to its end; ``stop`` set
    (the process is shutting down) ends it early as cancelled."""
    with deps.db.read() as session:
        scan = session.get(ScanRow, scan_id)
        source = session.get(Source, scan.source_id) if scan is not None else None
    if scan is None or source is None:
        raise StopSpreadError("the scan or its source disappeared")
    limits = FetchLimits.from_settings(deps.settings)
    status, failure = ScanStatus.DONE, None
    log.info("scan %d started (source %d, %s)", scan_id, source.id, source.kind.value)
    try:
        with Fetcher(limits, resolver=deps.resolver) as fetcher, VideoSandbox() as sandbox:
            matcher = case_matcher(deps, source.case_id, sandbox)
            run = _Run(deps, scan_id, source, matcher, fetcher, on_progress, stop)
            if run.walk():
                failure = run.nothing_fetched()
                run.check_gone()
            else:
                status = ScanStatus.CANCELLED
            run.flush(final=True)
    except (StopSpreadError, OSError, ValueError, KeyError) as exc:
        log.warning("scan %d failed: %s", scan_id, type(exc).__name__)
        _finish(deps, scan_id, ScanStatus.FAILED, f"{type(exc).__name__}: {exc}")
        return ScanStatus.FAILED
    if failure is not None:
        log.warning("scan %d failed: nothing fetched", scan_id)
        _finish(deps, scan_id, ScanStatus.FAILED, failure)
        return ScanStatus.FAILED
    _finish(deps, scan_id, status)
    log.info("scan %d %s: %s", scan_id, status.value, dict(run.counts))
    return status
