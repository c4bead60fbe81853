"""A center admin's page: her center's workers (add, reset password, disable), and assigning
a case to the center by its code. Other workers get "not found"."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from stopspread.errors import ForbiddenError, InvalidRequestError, NotFoundError, RateLimitedError
from stopspread.services.workers import admin
from stopspread.web.dates import fmt_kst
from stopspread.web.deps import PagesDep, Svc, client_address
from stopspread.web.worker_auth import CurrentWorker, render_worker, require_csrf

__all__ = ["router"]

router = APIRouter(prefix="/worker/admin", include_in_schema=False)
Csrf = Depends(require_csrf)
DONE: Final = frozenset({"created", "disabled", "password", "assigned"})
ERRORS: Final = frozenset({"invalid", "no_case", "self", "limited"})


def _back(done: str = "", error: str = "") -> RedirectResponse:
    query = f"done={done}" if done else f"error={error}"
    return RedirectResponse(f"/worker/admin?{query}", status_code=303)


@router.get("", response_class=HTMLResponse)
async def admin_page(
    request: Request,
    svc: Svc,
    pages: PagesDep,
    who: CurrentWorker,
    done: str = "",
    error: str = "",
) -> HTMLResponse:
    try:
        workers = await run_in_threadpool(admin.list_workers, svc, who)
    except NotFoundError:
        missing = {"kind": "not_found"}
        return render_worker(request, pages, "worker/error.html", missing, 404)
    context: dict[str, object] = {
        "workers": workers,
        "done": done if done in DONE else "",
        "error": error if error in ERRORS else "",
        "roles": [r.value for r in admin.WorkerRole],
        "nav": "admin",
        "fmt_kst": fmt_kst,
    }
    return render_worker(request, pages, "worker/admin.html", context)


@router.post("/workers", dependencies=[Csrf])
async def add_worker(
    svc: Svc,
    who: CurrentWorker,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    role: Annotated[admin.WorkerRole, Form()] = admin.WorkerRole.WORKER,
) -> Response:
    try:
        await run_in_threadpool(admin.create_worker, svc, who, username, password, role)
    except InvalidRequestError:
        return _back(error="invalid")
    return _back(done="created")


@router.post("/workers/{worker_id}/password", dependencies=[Csrf])
async def reset_password(
    svc: Svc,
    who: CurrentWorker,
    worker_id: int,
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    try:
        await run_in_threadpool(admin.reset_password, svc, who, worker_id, password)
    except InvalidRequestError:
        return _back(error="invalid")
    return _back(done="password")


@router.post("/workers/{worker_id}/disable", dependencies=[Csrf])
async def disable(svc: Svc, who: CurrentWorker, worker_id: int) -> Response:
    try:
        await run_in_threadpool(admin.disable_worker, svc, who, worker_id)
    except InvalidRequestError:
        return _back(error="self")
    return _back(done="disabled")


@router.post("/assign", dependencies=[Csrf])
async def assign(
    request: Request,
    svc: Svc,
    who: CurrentWorker,
    code: Annotated[str, Form(max_length=40)],
    secret: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    address = client_address(request)
    try:
        await run_in_threadpool(admin.assign_case, svc, who, code, secret, address)
    except RateLimitedError:
        return _back(error="limited")
    except (ForbiddenError, NotFoundError):  # wrong secret, unknown or withdrawn code: alike
        return _back(error="no_case")
    return _back(done="assigned")
