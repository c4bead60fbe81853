"""Support workers' scan pages: sources of her center's cases, "scan now", progress.

A scan started here is queued and handed to the app's scheduler thread (woken at once); the
progress page polls a small JSON view of the counters (``scan-progress.js``) and works
without JavaScript too (a refresh link). Folder sources are command-line only.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from stopspread.errors import NotFoundError, SourceRejectedError
from stopspread.services.scans import views as scan_views
from stopspread.services.scans.queue import SourceKind
from stopspread.services.scans.scheduler import ScanScheduler
from stopspread.web.dates import fmt_kst, fmt_utc
from stopspread.web.deps import PagesDep, Svc
from stopspread.web.i18n import negotiate
from stopspread.web.worker_auth import CurrentWorker, render_worker, require_csrf

__all__ = ["SCHEDULES", "router"]

router = APIRouter(prefix="/worker/scans", include_in_schema=False)
Csrf = Depends(require_csrf)
SCHEDULES: Final = {"": None, "6h": 6 * 3600, "1d": 86400, "7d": 7 * 86400}
NO_STORE: Final = {"Cache-Control": "no-store"}


def _context(extra: dict[str, Any]) -> dict[str, Any]:
    base = {"nav": "scans", "fmt_kst": fmt_kst, "fmt_utc": fmt_utc, "schedules": list(SCHEDULES)}
    return base | extra


async def _overview_page(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker, **extra: Any
) -> HTMLResponse:
    view = await run_in_threadpool(scan_views.overview, svc.db, who)
    status = 422 if extra.get("error") else 200
    context = _context({"view": view, "error": None, "added": False, **extra})
    return render_worker(request, pages, "worker/scans.html", context, status)


@router.get("", response_class=HTMLResponse)
async def scans_page(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker, added: int = 0
) -> HTMLResponse:
    return await _overview_page(request, svc, pages, who, added=bool(added))


@router.post("/sources", dependencies=[Csrf])
async def add_source(
    request: Request,
    svc: Svc,
    pages: PagesDep,
    who: CurrentWorker,
    case_id: Annotated[int, Form()],
    kind: Annotated[SourceKind, Form()],
    target: Annotated[str, Form(max_length=100_000)],
    every: Annotated[str, Form()] = "",
    depth: Annotated[int | None, Form(ge=0, le=10)] = None,
) -> Response:
    lines = [line.strip() for line in target.splitlines() if line.strip()]
    spec: dict[str, Any] = (
        {"start": lines[0] if lines else "", "max_depth": depth}
        if kind is SourceKind.CRAWL
        else {"urls": lines}
    )
    try:
        await run_in_threadpool(
            lambda: scan_views.add_source_for(
                svc.db, who, case_id, kind, spec, username=who.username,
                schedule_s=SCHEDULES.get(every),
                allow_loopback=svc.settings.fetch_allow_loopback,
            )
        )  # fmt: skip
    except NotFoundError:
        return await _overview_page(request, svc, pages, who, error="worker.scans.error.case")
    except SourceRejectedError as exc:
        key = f"worker.scans.error.{exc.reason}"
        return await _overview_page(request, svc, pages, who, error=key)
    return RedirectResponse("/worker/scans?added=1", status_code=303)


def _wake(request: Request) -> None:
    scheduler: ScanScheduler | None = getattr(request.app.state, "scan_scheduler", None)
    if scheduler is not None:
        scheduler.wake()


@router.post("/sources/{source_id}/run", dependencies=[Csrf])
async def run_source(
    request: Request, source_id: int, svc: Svc, pages: PagesDep, who: CurrentWorker
) -> Response:
    try:
        scan_id = await run_in_threadpool(
            lambda: scan_views.queue_for(svc.db, who, source_id, username=who.username)
        )
    except NotFoundError:
        return render_worker(request, pages, "worker/error.html", {"kind": "not_found"}, 404)
    except SourceRejectedError as exc:
        key = f"worker.scans.error.{exc.reason}"
        return await _overview_page(request, svc, pages, who, error=key)
    _wake(request)
    return RedirectResponse(f"/worker/scans/{scan_id}", status_code=303)


@router.get("/{scan_id}", response_class=HTMLResponse)
async def scan_page(
    request: Request, scan_id: int, svc: Svc, pages: PagesDep, who: CurrentWorker
) -> HTMLResponse:
    try:
        scan = await run_in_threadpool(scan_views.scan_for, svc.db, who, scan_id)
    except NotFoundError:
        return render_worker(request, pages, "worker/error.html", {"kind": "not_found"}, 404)
    return render_worker(request, pages, "worker/scan.html", _context({"scan": scan}))


@router.get("/{scan_id}/progress.json")
async def scan_progress(
    request: Request, scan_id: int, svc: Svc, pages: PagesDep, who: CurrentWorker
) -> JSONResponse:
    scan = await run_in_threadpool(scan_views.scan_for, svc.db, who, scan_id)  # 404 if not hers
    t = pages.catalog.translator(negotiate(request))
    label = t(f"worker.scans.status.{scan.status.value}")
    body = {
        "status": scan.status.value,
        "status_label": label,
        "announce": t("worker.scans.ended", status=label, hits=scan.counts["new_sightings"]),
        "active": scan.active,
        "counts": scan.counts,
    }
    return JSONResponse(body, headers=NO_STORE)


@router.post("/{scan_id}/cancel", dependencies=[Csrf])
async def cancel(
    request: Request, scan_id: int, svc: Svc, pages: PagesDep, who: CurrentWorker
) -> Response:
    try:
        await run_in_threadpool(scan_views.cancel_for, svc.db, who, scan_id)
    except NotFoundError:
        return render_worker(request, pages, "worker/error.html", {"kind": "not_found"}, 404)
    return RedirectResponse(f"/worker/scans/{scan_id}", status_code=303)
