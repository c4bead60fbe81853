"""Notices per host on the worker pages, and the profile that signs them.

``/worker/takedown/cases/{id}/consent`` records what the survivor did not agree to;
``/worker/takedown/cases/{id}/notices`` drafts one notice per host for the case's confirmed
items; ``/worker/takedown/notices/{id}`` shows a notice and lets her edit it while it is a draft;
``…/confirm`` lists exactly what goes out (recipient, items, subject, text) and its button sends
it. ``/worker/profile`` holds her name, role and contact (they sign every notice).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from stopspread.errors import (
    InvalidRequestError,
    NoticeError,
    NoticeRefusedError,
    SignerMissingError,
    TransitionError,
)
from stopspread.services.removal import notices
from stopspread.services.workers import profile as profiles
from stopspread.web.dates import fmt_kst, fmt_kst_minute
from stopspread.web.deps import PagesDep, Svc
from stopspread.web.errors import error_response
from stopspread.web.i18n import negotiate
from stopspread.web.worker_auth import CurrentWorker, render_worker, require_csrf

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Csrf = Depends(require_csrf)
_NOTICES = "/worker/takedown/notices"


def _t(request: Request, pages: PagesDep) -> Any:
    return pages.catalog.translator(negotiate(request))


def _why(t: Any, exc: Exception) -> str:
    """A refusal in the page's language (a reason the catalogue knows), else its message."""
    if isinstance(exc, NoticeRefusedError):
        return str(t(f"takedown.problem.{exc.reason}", detail=exc.detail))
    if isinstance(exc, SignerMissingError):
        return str(t("takedown.notice.no_name"))
    return str(exc)


@router.post("/worker/takedown/cases/{case_id}/consent", dependencies=[Csrf])
async def set_consent(
    svc: Svc, who: CurrentWorker, case_id: int,
    consent: Annotated[notices.ConsentBasis, Form()],
) -> Response:  # fmt: skip
    await run_in_threadpool(notices.set_case_consent, svc, who, case_id, consent)
    return RedirectResponse(f"/worker/takedown?case={case_id}#case-notices", status_code=303)


@router.post("/worker/takedown/cases/{case_id}/notices", dependencies=[Csrf])
async def draft_notices(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker, case_id: int
) -> Response:
    t = _t(request, pages)
    try:
        drafted = await run_in_threadpool(notices.draft_case_notices, svc, who, case_id)
    except NoticeError as exc:
        context = {"nav": "takedown", "error": t("takedown.error.notice", reason=_why(t, exc))}
        context["profile_link"] = isinstance(exc, SignerMissingError)
        return render_worker(request, pages, "worker/takedown_notice_error.html", context, 422)
    query = f"case={case_id}&drafted={len(drafted.notice_ids)}"
    if drafted.unknown_hosts:
        query += "&unknown=" + ",".join(drafted.unknown_hosts)[:500]
    return RedirectResponse(f"/worker/takedown?{query}#case-notices", status_code=303)


async def _notice_page(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker, notice_id: int,
    *, confirm: bool = False, message: str = "", error: str = "", status: int = 200,
) -> HTMLResponse:  # fmt: skip
    if confirm:
        view = await run_in_threadpool(notices.prepare_notice, svc, who, notice_id)
    else:
        view = await run_in_threadpool(notices.notice_view, svc, who, notice_id)
    context = {
        "nav": "takedown", "n": view, "fmt_kst": fmt_kst, "fmt_deadline": fmt_kst_minute,
        "message": message, "error": error,
    }  # fmt: skip
    template = "worker/takedown_notice_confirm.html" if confirm else "worker/takedown_notice.html"
    return render_worker(request, pages, template, context, status)


@router.get(_NOTICES + "/{notice_id}", response_class=HTMLResponse)
async def notice_page(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker, notice_id: int,
    sent: str = "",
) -> HTMLResponse:  # fmt: skip
    message = _t(request, pages)("takedown.notice.sent") if sent else ""
    return await _notice_page(request, svc, pages, who, notice_id, message=message)


@router.post(_NOTICES + "/{notice_id}/edit", dependencies=[Csrf])
async def edit(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker, notice_id: int,
    subject: Annotated[str, Form(max_length=300)],
    text: Annotated[str, Form(max_length=notices.MAX_TEXT_CHARS + 1000)],
) -> HTMLResponse:  # fmt: skip
    t = _t(request, pages)
    try:
        await run_in_threadpool(notices.edit_notice, svc, who, notice_id, subject, text)
    except (InvalidRequestError, TransitionError) as exc:
        error = t("takedown.notice.edit_error", reason=_why(t, exc))
        return await _notice_page(request, svc, pages, who, notice_id, error=error, status=422)
    message = t("takedown.notice.saved")
    return await _notice_page(request, svc, pages, who, notice_id, message=message)


@router.post(_NOTICES + "/{notice_id}/reset", dependencies=[Csrf])
async def reset(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker, notice_id: int
) -> HTMLResponse:
    await run_in_threadpool(notices.reset_notice, svc, who, notice_id)
    message = _t(request, pages)("takedown.notice.reset_done")
    return await _notice_page(request, svc, pages, who, notice_id, message=message)


@router.get(_NOTICES + "/{notice_id}/confirm", response_class=HTMLResponse)
async def confirm_page(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker, notice_id: int
) -> HTMLResponse:
    return await _notice_page(request, svc, pages, who, notice_id, confirm=True)


@router.post(_NOTICES + "/{notice_id}/send", dependencies=[Csrf])
async def send(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker, notice_id: int,
    digest: Annotated[str, Form(max_length=64)],
) -> Response:  # fmt: skip
    try:
        await run_in_threadpool(notices.send_notice, svc, who, notice_id, digest)
    except (NoticeError, InvalidRequestError, TransitionError) as exc:
        t = _t(request, pages)
        error = t("takedown.error.send", reason=_why(t, exc))
        return await _notice_page(
            request, svc, pages, who, notice_id, confirm=True, error=error, status=422
        )
    return RedirectResponse(f"{_NOTICES}/{notice_id}?sent=1", status_code=303)


@router.post(_NOTICES + "/{notice_id}/form-sent", dependencies=[Csrf])
async def form_sent(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker, notice_id: int,
    digest: Annotated[str, Form(max_length=64)],
) -> Response:  # fmt: skip
    try:
        await run_in_threadpool(notices.record_form_sent, svc, who, notice_id, digest)
    except (InvalidRequestError, TransitionError) as exc:
        t = _t(request, pages)
        error = t("takedown.error.send", reason=_why(t, exc))
        return await _notice_page(
            request, svc, pages, who, notice_id, confirm=True, error=error, status=422
        )
    return RedirectResponse(f"{_NOTICES}/{notice_id}?sent=1", status_code=303)


@router.get(_NOTICES + "/{notice_id}/export.json")
async def export(svc: Svc, who: CurrentWorker, notice_id: int) -> Response:
    try:
        fields = await run_in_threadpool(notices.export_notice, svc, who, notice_id)
    except NoticeError as exc:  # no reply address on the server, no name in her profile
        return error_response(503, str(exc))
    headers = {"Content-Disposition": f'attachment; filename="notice-{notice_id}.json"'}
    return Response(fields.as_json(), media_type="application/json", headers=headers)


async def _profile_page(
    request: Request, pages: PagesDep, current: profiles.WorkerProfile,
    message: str = "", error: str = "", status: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = {"nav": "profile", "p": current, "message": message, "error": error}
    return render_worker(request, pages, "worker/profile.html", context, status)


@router.get("/worker/profile", response_class=HTMLResponse)
async def profile_page(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker
) -> HTMLResponse:
    current = await run_in_threadpool(profiles.profile, svc, who)
    return await _profile_page(request, pages, current)


@router.post("/worker/profile", dependencies=[Csrf])
async def save_profile(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker,
    display_name: Annotated[str, Form(max_length=200)],
    role_title: Annotated[str, Form(max_length=200)] = "",
    contact_email: Annotated[str, Form(max_length=300)] = "",
    contact_phone: Annotated[str, Form(max_length=100)] = "",
) -> HTMLResponse:  # fmt: skip
    t = _t(request, pages)
    asked = profiles.WorkerProfile(display_name, role_title, contact_email, contact_phone)
    try:
        saved = await run_in_threadpool(profiles.save_profile, svc, who, asked)
    except InvalidRequestError as exc:
        field = str(exc).split(":", 1)[0]
        error = t("worker.profile.invalid", field=t(f"worker.profile.{field}"))
        return await _profile_page(request, pages, asked, error=error, status=422)
    return await _profile_page(request, pages, saved, message=t("worker.profile.saved"))
