"""``create_app(settings)``: the whole HTTP service, built from one Settings object."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from stopspread import __version__
from stopspread.config import IndexKind, Settings
from stopspread.hashing import DecodeBudget
from stopspread.services.centers import centers_from_settings
from stopspread.services.context import Services, build_services
from stopspread.services.enrolment import EnrolmentLimits
from stopspread.services.keypoint_bank import build_keypoint_bank
from stopspread.services.platform import ClientDirectory, MatchJournal
from stopspread.services.poller import Poller
from stopspread.services.probing import ProbeDetector, share_edges
from stopspread.services.probing_state import DatabaseEdgeStore
from stopspread.services.removal.rechecks import FollowUpScheduler
from stopspread.services.scans.run import ScanDeps
from stopspread.services.scans.scheduler import ScanScheduler
from stopspread.services.snapshots import FIRST_WRITE_DELAY_S, SnapshotStore, SnapshotWriter
from stopspread.web.barrier import ErrorBarrier
from stopspread.web.errors import install_error_handlers
from stopspread.web.fastlane import MatchFastLane
from stopspread.web.limits import BodyLimits
from stopspread.web.pages import STATIC_DIR, Pages
from stopspread.web.routes import (
    api_docs,
    feed,
    health,
    hma,
    platform,
    room_check,
    setup,
    survivor,
    survivor_pages,
    worker,
    worker_admin,
    worker_matches,
    worker_notices,
    worker_scans,
    worker_takedown,
)
from stopspread.web.security import PageSecurityHeaders
from stopspread.web.worker_auth import install_worker_auth

__all__ = ["create_app"]

DESCRIPTION = """Hashes only: survivors enrol hashes computed on their own device; platforms
ask whether an upload's hash matches and get `match` plus an opaque `ref`, never a distance,
bank or case. Errors are `{"ok": false, "error": ..., "status": ...}`."""


def create_app(settings: Settings, services: Services | None = None) -> FastAPI:
    """The app; connects, loads the index and starts polling when it starts up.

    The database must be migrated already (``stopspread db upgrade``; ``serve`` does it).
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc = (
            services if services is not None else await run_in_threadpool(build_services, settings)
        )
        clients = ClientDirectory(svc.db)
        store = SnapshotStore(
            settings.snapshot_dir, svc.policy.pdq.min_enrolled_quality, svc.replica.cloak_id
        )
        await run_in_threadpool(svc.replica.load, store)
        await run_in_threadpool(clients.refresh)
        # unapplied hits a crashed process journalled are in the database before we are ready
        match_journal = await run_in_threadpool(MatchJournal, svc)
        app.state.match_journal = match_journal
        keypoint_bank = await run_in_threadpool(build_keypoint_bank, svc)
        app.state.keypoint_bank = keypoint_bank
        detector: ProbeDetector = app.state.probe_detector
        # signals under attack, before a restart or in another process: blurred, alarmed
        edge_store = DatabaseEdgeStore(svc.db, svc.replica.cloak)
        await run_in_threadpool(detector.keep_state, edge_store)
        poller = Poller(
            svc.replica, clients, settings.index_poll_interval_s, keypoint_bank, detector
        )
        app.state.services, app.state.clients, app.state.poller = svc, clients, poller
        if settings.limits_url:  # several processes: a walk's edge hits are counted whole
            share_edges(detector, svc)
        poller.start()
        snapshots = None
        writes = settings.index_kind is IndexKind.MIH and settings.index_snapshot_interval_s > 0
        if writes or store.sequences():  # without writes: erasures delete the old snapshots
            first = FIRST_WRITE_DELAY_S if svc.replica.source == "database" else None
            snapshots = SnapshotWriter(
                store,
                svc.replica.capture,
                settings.index_snapshot_interval_s,
                first_delay_s=first,
                erased=svc.replica.erased,
                writes=writes,
            )
            snapshots.start()
        scan_deps = ScanDeps.build(settings, svc.db, svc.policy)
        scheduler = ScanScheduler(scan_deps, settings.scan_scheduler_interval_s)
        app.state.scan_deps, app.state.scan_scheduler = scan_deps, scheduler
        if settings.scan_scheduler_interval_s > 0:
            scheduler.start()
        checks = FollowUpScheduler(svc, settings.takedown_check_interval_s)
        if settings.takedown_check_interval_s > 0:
            checks.start()
        gc.collect()
        gc.freeze()  # start-up objects out of the collector's way: no long gen-2 pauses
        try:
            yield
        finally:
            await run_in_threadpool(scheduler.stop)
            await run_in_threadpool(checks.stop)
            poller.stop()
            await run_in_threadpool(detector.stop)
            await run_in_threadpool(match_journal.stop)
            if snapshots is not None:
                await run_in_threadpool(snapshots.stop)
            if services is None:
                svc.db.dispose()

    app = FastAPI(
        title="StopSpread",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # /docs is ours (routes/api_docs.py): Swagger UI from our own origin
        redoc_url=None,  # ReDoc injects inline styles, which the pages' CSP refuses
        # No OpenTelemetry from FastAPI: its logs would carry validation failures (hashes).
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    install_error_handlers(app)
    install_worker_auth(app)
    app.state.pages = Pages()
    app.state.centers = centers_from_settings(settings)  # ConfigError: a bad centers file
    app.state.decode_budget = DecodeBudget(settings.decode_memory_mib * 1024 * 1024)
    app.state.enrol_limits = EnrolmentLimits.from_settings(settings)
    app.state.probe_detector = ProbeDetector()
    app.state.keypoint_bank = None  # built when the app starts (lifespan)
    app.add_middleware(PageSecurityHeaders)
    app.add_middleware(MatchFastLane)  # added late, so it runs early: matches skip the rest
    app.add_middleware(BodyLimits, settings=settings)  # sizes before any parsing
    app.add_middleware(ErrorBarrier)  # outermost: no exception (nor its traceback) gets out
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    api_docs.install_api_docs(app)
    app.include_router(health.router)
    app.include_router(survivor.router)
    app.include_router(platform.router)
    app.include_router(hma.router)
    app.include_router(feed.router)
    app.include_router(survivor_pages.router)
    app.include_router(worker.router)
    app.include_router(worker_scans.router)
    app.include_router(worker_admin.router)
    app.include_router(worker_takedown.router)
    app.include_router(worker_matches.router)
    app.include_router(worker_notices.router)
    app.include_router(setup.router)
    app.include_router(room_check.router)
    return app
