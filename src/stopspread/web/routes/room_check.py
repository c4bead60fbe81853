"""The room-check pages: a worker's, under a case (results kept as evidence), and the
standalone one ``stopspread room-check --serve`` opens on a survivor's own laptop.

Both show a consent screen first; nothing is sent before it is ticked and posted. The check
runs from the computer the app runs on, on that computer's own private network; which network
(and how discovery is sent) comes from ``app.state.room_check_target`` when set (tests point it
at a simulated network on loopback), else from the interface (:func:`scope_from_interfaces`).
Pages use no script: a form post runs the check and answers with its results.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from stopspread.errors import ForbiddenError, NotFoundError, RoomCheckError
from stopspread.roomcheck import (
    Plan,
    Reason,
    RoomCheck,
    Scope,
    Verdict,
    Weight,
    run_room_check,
    scope_from_interfaces,
)
from stopspread.roomcheck import words as rw
from stopspread.services import roomcheck as service
from stopspread.web.deps import PagesDep, Svc
from stopspread.web.i18n import negotiate
from stopspread.web.routes.worker import evidence_store
from stopspread.web.worker_auth import CurrentWorker, render_worker, require_csrf

__all__ = ["MAX_KEPT", "RoomCheckTarget", "page_helpers", "router", "standalone_router"]

router = APIRouter(prefix="/worker/cases", include_in_schema=False)
standalone_router = APIRouter(prefix="/room-check", include_in_schema=False)
Csrf = Depends(require_csrf)
RoomCheckTarget = Callable[[], tuple[Scope, Plan]]
MAX_KEPT: Final = 20  # standalone results kept in memory for their download link
JSON_HEADERS: Final = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
CONSENT_MISSING: Final = "roomcheck.consent_missing"
VERDICT_ORDER: Final = (Verdict.LIKELY, Verdict.CHECK, Verdict.UNLIKELY)  # the page's order


def _default_target() -> tuple[Scope, Plan]:
    return scope_from_interfaces(), Plan()


def _run(request: Request) -> RoomCheck:
    """Run a check of the configured network (RoomCheckError: no private network)."""
    target: RoomCheckTarget = getattr(request.app.state, "room_check_target", None) or (
        _default_target
    )
    scope, plan = target()
    return run_room_check(scope, plan)


def page_helpers(request: Request) -> dict[str, Any]:
    """The words of verdicts, reasons and advice in the page's language."""
    lang = negotiate(request).value

    def verdict_text(value: str) -> str:
        return rw.VERDICT[Verdict(value)][lang]

    def reason_text(r: dict[str, str]) -> str:
        return rw.reason_text(Reason(r["code"], Weight(r["weight"]), r["detail"]), lang)

    advice = {
        "next": rw.NEXT_STEPS[lang],
        "physical": rw.PHYSICAL_CHECKS[lang],
        "cannot": rw.CANNOT_FIND[lang],
        "help": [{"text": link[lang], "href": link["href"]} for link in rw.HELP_LINKS],
    }

    def likely_first(devices: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(devices, key=lambda d: VERDICT_ORDER.index(Verdict(d["verdict"])))

    return {
        "verdict_text": verdict_text,
        "reason_text": reason_text,
        "advice": advice,
        "likely_first": likely_first,
    }


# ---- a worker's room checks, under a case ------------------------------------------------


async def _case_page(
    request: Request, svc: Svc, pages: PagesDep, who: CurrentWorker, case_id: int, **extra: Any
) -> HTMLResponse:
    store = evidence_store(request, svc)

    def load() -> tuple[str, list[service.CheckRecord]]:
        code = service.case_code(svc.db, case_id, who)
        return code, service.list_checks(svc.db, store, case_id, who)

    try:
        code, checks = await run_in_threadpool(load)
    except NotFoundError:
        return render_worker(request, pages, "worker/error.html", {"kind": "not_found"}, 404)
    status = 422 if extra.get("error") else 200
    context = {
        "nav": "cases",
        "case_id": case_id,
        "code": code,
        "checks": checks,
        "error": None,
        "no_network": False,
        **page_helpers(request),
        **extra,
    }
    return render_worker(request, pages, "worker/room_check.html", context, status)


@router.get("/{case_id}/room-check", response_class=HTMLResponse)
async def case_room_checks(
    request: Request, case_id: int, svc: Svc, pages: PagesDep, who: CurrentWorker
) -> HTMLResponse:
    return await _case_page(request, svc, pages, who, case_id)


@router.post("/{case_id}/room-check", dependencies=[Csrf])
async def run_case_room_check(
    request: Request,
    case_id: int,
    svc: Svc,
    pages: PagesDep,
    who: CurrentWorker,
    consent: Annotated[str, Form()] = "",
) -> Response:
    if consent != "yes":
        return await _case_page(request, svc, pages, who, case_id, error=CONSENT_MISSING)
    store = evidence_store(request, svc)
    try:
        await run_in_threadpool(service.case_code, svc.db, case_id, who)  # before any packet
        check = await run_in_threadpool(_run, request)
    except NotFoundError:
        return render_worker(request, pages, "worker/error.html", {"kind": "not_found"}, 404)
    except RoomCheckError:
        return await _case_page(request, svc, pages, who, case_id, no_network=True)
    kept = await run_in_threadpool(
        lambda: service.record_check(
            svc.db, store, case_id, check, by=who.username or str(who.worker_id), who=who
        )
    )
    url = f"/worker/cases/{case_id}/room-check/{kept.evidence_id}?saved=1"
    return RedirectResponse(url, status_code=303)


@router.get("/{case_id}/room-check/{evidence_id}", response_class=HTMLResponse)
async def case_room_check(
    request: Request,
    case_id: int,
    evidence_id: int,
    svc: Svc,
    pages: PagesDep,
    who: CurrentWorker,
    saved: int = 0,
) -> HTMLResponse:
    store = evidence_store(request, svc)

    def load() -> tuple[str, dict[str, Any]]:
        code = service.case_code(svc.db, case_id, who)
        return code, service.load_check(svc.db, store, case_id, evidence_id, who)

    try:
        code, check = await run_in_threadpool(load)
    except NotFoundError:
        return render_worker(request, pages, "worker/error.html", {"kind": "not_found"}, 404)
    context = {
        "nav": "cases",
        "case_id": case_id,
        "code": code,
        "check": check,
        "saved": bool(saved),
        **page_helpers(request),
    }
    return render_worker(request, pages, "worker/room_check_result.html", context)


@router.get("/{case_id}/room-check/{evidence_id}/export.json")
async def export_case_room_check(
    request: Request, case_id: int, evidence_id: int, svc: Svc, who: CurrentWorker
) -> Response:
    store = evidence_store(request, svc)
    body = await run_in_threadpool(service.export_check, svc.db, store, case_id, evidence_id, who)
    name = f"room-check-case{case_id}-evidence{evidence_id}.json"
    headers = {**JSON_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type="application/json", headers=headers)


# ---- the standalone page (stopspread room-check --serve) ---------------------------------


def _standalone_state(request: Request) -> tuple[str, dict[str, dict[str, Any]]]:
    """The app's form token (the page is on 127.0.0.1; the token stops other sites' posts)
    and the results made so far (in memory only)."""
    token: str = request.app.state.room_check_token
    kept: dict[str, dict[str, Any]] = request.app.state.room_check_results
    return token, kept


def _standalone(request: Request, pages: PagesDep, status: int = 200, **extra: Any) -> HTMLResponse:
    token, _kept = _standalone_state(request)
    context = {
        "csrf_token": token,
        "check": None,
        "error": None,
        "no_network": False,
        **page_helpers(request),
        **extra,
    }
    return pages.render(request, "roomcheck/page.html", context, status=status)


@standalone_router.get("", response_class=HTMLResponse)
async def standalone_page(request: Request, pages: PagesDep) -> HTMLResponse:
    return _standalone(request, pages)


@standalone_router.post("", response_class=HTMLResponse)
async def standalone_run(
    request: Request,
    pages: PagesDep,
    csrf_token: Annotated[str, Form()] = "",
    consent: Annotated[str, Form()] = "",
) -> HTMLResponse:
    token, kept = _standalone_state(request)
    if not hmac.compare_digest(csrf_token, token):
        raise ForbiddenError("the form's security token is missing or wrong; reload the page")
    if consent != "yes":
        return _standalone(request, pages, 422, error=CONSENT_MISSING)
    try:
        check = await run_in_threadpool(_run, request)
    except RoomCheckError:
        return _standalone(request, pages, no_network=True)
    data = check.to_json()
    kept[check.check_id] = data
    while len(kept) > MAX_KEPT:
        kept.pop(next(iter(kept)))
    return _standalone(request, pages, check=data)


@standalone_router.get("/{check_id}.json")
async def standalone_export(request: Request, check_id: str) -> Response:
    _token, kept = _standalone_state(request)
    data = kept.get(check_id)
    if data is None:
        raise NotFoundError("no such check (results are kept only while the page runs)")
    body = json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")
    headers = {
        **JSON_HEADERS,
        "Content-Disposition": f'attachment; filename="room-check-{check_id}.json"',
    }
    return Response(body, media_type="application/json", headers=headers)
