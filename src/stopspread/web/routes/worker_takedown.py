"""Support workers' takedown pages: the dashboard, a request's page, the report button.

``/worker/takedown`` shows her center's numbers (or one case's) with a small chart, overdue
requests, re-uploads, confirmed sightings waiting for a notice, every request, hosts without a
contact and a form to enter one, and the report download. ``/worker/takedown/requests/{id}``
shows the notice as stored and its history, and sends, records or re-checks it.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from stopspread.errors import (
    HostRegistryError,
    InvalidRequestError,
    NoticeError,
    ReportError,
    TransitionError,
)
from stopspread.languages import Language
from stopspread.services import case_report, evidence_package
from stopspread.services.removal import dashboard, notices
from stopspread.services.removal import rechecks as followup
from stopspread.services.removal import workflow as takedown
from stopspread.services.workers import review
from stopspread.web.chart import Bar, bar_chart
from stopspread.web.dates import fmt_kst, fmt_kst_minute
from stopspread.web.deps import PagesDep, Svc
from stopspread.web.errors import error_response
from stopspread.web.i18n import negotiate
from stopspread.web.worker_auth import CurrentWorker, render_worker, require_csrf

__all__ = ["router"]

router = APIRouter(prefix="/worker/takedown", include_in_schema=False)
Csrf = Depends(require_csrf)


def _t(request: Request, pages: PagesDep) -> Any:
    return pages.catalog.translator(negotiate(request))


def _chart(t: Any, board: dashboard.Dashboard) -> Any:
    bars = [Bar(t(f"takedown.status.{s.value}"), n) for s, n in board.requests_by_status.items()]
    return bar_chart(
        "requests-by-status",
        t("takedown.chart_title"),
        bars,
        label_heading=t("takedown.chart_label"),
        value_heading=t("takedown.chart_value"),
        table_summary=t("takedown.chart_table"),
    )


async def _dashboard_page(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker, case_id: int | None,
    message: str = "", error: str = "", status: int = 200,
) -> HTMLResponse:  # fmt: skip
    board = await run_in_threadpool(dashboard.dashboard, svc, who, case_id)
    rows, waiting = await run_in_threadpool(dashboard.request_rows, svc, who, case_id)
    alerts = await run_in_threadpool(followup.reupload_alerts, svc, who)
    cases = await run_in_threadpool(review.list_cases, svc, who)
    hosts = await run_in_threadpool(takedown.host_edits, svc, who)
    history = []
    case_notices, consent = [], None
    if case_id is not None and any(c.id == case_id for c in cases):
        history = await run_in_threadpool(dashboard.case_history, svc, who, case_id)
        case_notices = await run_in_threadpool(notices.case_notices, svc, who, case_id)
        consent = await run_in_threadpool(notices.consent_of, svc, who, case_id)
    t = _t(request, pages)
    code = next((c.code for c in cases if c.id == case_id), "")
    context = {
        "nav": "takedown", "board": board, "rows": rows, "waiting": waiting, "alerts": alerts,
        "cases": cases, "case_id": case_id, "hosts": hosts, "fmt_kst": fmt_kst,
        "fmt_deadline": fmt_kst_minute, "case_notices": case_notices, "consent": consent,
        "consents": [c.value for c in notices.ConsentBasis],
        "chart": _chart(t, board), "history": history,
        "scope": t("takedown.scope_case", code=code) if code else t("takedown.scope_all"),
        "message": message, "error": error,
    }  # fmt: skip
    return render_worker(request, pages, "worker/takedown.html", context, status)


@router.get("", response_class=HTMLResponse)
async def dashboard_page(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker, case: str = "",
    drafted: str = "", unknown: str = "",
) -> HTMLResponse:  # fmt: skip
    case_id = int(case) if case.isascii() and case.isdigit() and len(case) < 19 else None
    t = _t(request, pages)
    message = t("takedown.notice.drafted", count=drafted) if drafted.isdigit() else ""
    error = t("takedown.notice.unknown_hosts", hosts=unknown[:500]) if unknown else ""
    return await _dashboard_page(request, svc, pages, who, case_id, message, error)


@router.post("/draft", dependencies=[Csrf])
async def draft(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker,
    sighting_id: Annotated[int, Form()],
) -> Response:  # fmt: skip
    try:
        new_id = await run_in_threadpool(takedown.draft_request, svc, who, sighting_id)
    except (NoticeError, InvalidRequestError) as exc:
        t = _t(request, pages)
        error = t("takedown.error.notice", reason=str(exc))
        return await _dashboard_page(request, svc, pages, who, None, error=error, status=422)
    return RedirectResponse(f"/worker/takedown/requests/{new_id}", status_code=303)


@router.post("/reuploads", dependencies=[Csrf])
async def link_reuploads(svc: Svc, who: CurrentWorker) -> Response:
    await run_in_threadpool(followup.link_reuploads, svc, who)
    return RedirectResponse("/worker/takedown#reuploads", status_code=303)


@router.post("/hosts", dependencies=[Csrf])
async def save_host(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker,
    domain: Annotated[str, Form(max_length=253)],
    language: Annotated[str, Form(max_length=8)],
    jurisdiction: Annotated[str, Form(max_length=2)] = "ZZ",
    abuse_email: Annotated[str, Form(max_length=254)] = "",
    form_url: Annotated[str, Form(max_length=2000)] = "",
    notes: Annotated[str, Form(max_length=2000)] = "",
) -> Response:  # fmt: skip
    t = _t(request, pages)
    fields = {
        "abuse_email": abuse_email, "form_url": form_url, "language": language,
        "jurisdiction": jurisdiction or "ZZ", "notes": notes,
    }  # fmt: skip
    try:
        entry = await run_in_threadpool(takedown.save_host_form, svc, who, domain, fields)
    except HostRegistryError as exc:
        reason = str(exc).split(": ", 1)[-1]
        error = t("takedown.host.invalid", reason=reason)
        return await _dashboard_page(request, svc, pages, who, None, error=error, status=422)
    message = t("takedown.host.saved", domain=entry.domain)
    return await _dashboard_page(request, svc, pages, who, None, message=message)


@router.get("/report")
async def report_pdf(svc: Svc, who: CurrentWorker, case: int, report_lang: str = "ko") -> Response:
    language = Language.EN if report_lang == "en" else Language.KO
    try:
        code, pdf = await run_in_threadpool(case_report.report_pdf, svc, who, case, language)
    except ReportError as exc:
        raise InvalidRequestError(str(exc)) from exc
    name = f"report-{code}-{language.value}-{datetime.now(UTC):%Y%m%d}.pdf"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


_SPOOL_BYTES = 16 * 1024 * 1024  # a package up to 16 MiB stays in memory, a larger one on disk
_CHUNK_BYTES = 1024 * 1024


def _chunks(spool: tempfile.SpooledTemporaryFile[bytes]) -> Iterator[bytes]:
    try:
        spool.seek(0)
        while chunk := spool.read(_CHUNK_BYTES):
            yield chunk
    finally:
        spool.close()


@router.get("/package")
async def evidence_zip(
    svc: Svc, who: CurrentWorker, case: int, report_lang: str = "ko"
) -> StreamingResponse:
    """The evidence package (report PDF, WARC files, SHA-256 manifest) as one ZIP."""
    language = Language.EN if report_lang == "en" else Language.KO
    spool: tempfile.SpooledTemporaryFile[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115
        _SPOOL_BYTES
    )  # closed by _chunks once sent, or below on an error
    try:
        made = await run_in_threadpool(
            evidence_package.package_for_worker, svc, who, case, language, spool
        )
    except ReportError as exc:
        spool.close()
        raise InvalidRequestError(str(exc)) from exc
    except BaseException:
        spool.close()
        raise
    headers = {"Content-Disposition": f'attachment; filename="{made.file_name}"'}
    return StreamingResponse(_chunks(spool), media_type="application/zip", headers=headers)


async def _request_page(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker, request_id: int,
    message: str = "", error: str = "", status: int = 200,
) -> HTMLResponse:  # fmt: skip
    detail = await run_in_threadpool(dashboard.request_detail, svc, who, request_id)
    history = dashboard.history_in(negotiate(request), detail.history)
    detail = dataclasses.replace(detail, history=history)
    allowed = takedown.answer_statuses(detail.row.status, detail.channel)
    context = {
        "nav": "takedown", "d": detail, "fmt_kst": fmt_kst, "next_statuses": allowed,
        "fmt_deadline": fmt_kst_minute,
        "statuses": [s.value for s in takedown.RequestStatus], "message": message, "error": error,
    }  # fmt: skip
    return render_worker(request, pages, "worker/takedown_request.html", context, status)


@router.get("/requests/{request_id}", response_class=HTMLResponse)
async def request_page(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker, request_id: int
) -> HTMLResponse:
    return await _request_page(request, svc, pages, who, request_id)


@router.post("/requests/{request_id}/send", dependencies=[Csrf])
async def send(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker, request_id: int
) -> HTMLResponse:
    t = _t(request, pages)
    try:
        await run_in_threadpool(takedown.send_request, svc, who, request_id)
    except (NoticeError, InvalidRequestError, TransitionError) as exc:
        error = t("takedown.error.send", reason=str(exc))
        return await _request_page(request, svc, pages, who, request_id, error=error, status=422)
    return await _request_page(
        request, svc, pages, who, request_id, message=t("takedown.request.sent")
    )


@router.post("/requests/{request_id}/status", dependencies=[Csrf])
async def record(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker, request_id: int,
    status: Annotated[takedown.RequestStatus, Form()],
    note: Annotated[str, Form(max_length=500)] = "",
) -> HTMLResponse:  # fmt: skip
    t = _t(request, pages)
    try:
        await run_in_threadpool(takedown.record_status, svc, who, request_id, status, note)
    except TransitionError as exc:
        error = t("takedown.error.transition", reason=str(exc))
        return await _request_page(request, svc, pages, who, request_id, error=error, status=409)
    message = t("takedown.request.recorded")
    return await _request_page(request, svc, pages, who, request_id, message=message)


@router.post("/requests/{request_id}/check", dependencies=[Csrf])
async def check_now(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker, request_id: int
) -> HTMLResponse:
    await run_in_threadpool(dashboard.request_detail, svc, who, request_id)  # hers, or 404
    refetch = getattr(request.app.state, "takedown_refetch", None)  # tests: a local resolver
    result = await run_in_threadpool(followup.follow_up_one, svc, request_id, refetch)
    t = _t(request, pages)
    message = t("takedown.request.checked", outcome=t(f"takedown.check.{result.outcome.value}"))
    return await _request_page(request, svc, pages, who, request_id, message=message)


@router.get("/requests/{request_id}/export.json")
async def export(svc: Svc, who: CurrentWorker, request_id: int) -> Response:
    try:
        fields = await run_in_threadpool(takedown.export_request, svc, who, request_id)
    except NoticeError as exc:  # the server is not set up to sign notices (no reply address)
        return error_response(503, str(exc))
    headers = {"Content-Disposition": f'attachment; filename="notice-{request_id}.json"'}
    return Response(fields.as_json(), media_type="application/json", headers=headers)
