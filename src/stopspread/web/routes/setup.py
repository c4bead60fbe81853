"""``/setup``: the first center and its admin, made in the browser with the one-time link that
``stopspread serve`` prints while no admin exists (see :mod:`stopspread.services.workers.setup`).

The token in the link is the form's only credential and also its CSRF token (a page of another
site cannot know it). Pages carry the same CSP, ``no-store`` and ``no-referrer`` as every page,
so the link does not leak through a cache or a Referer header; nothing logs it.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from stopspread.errors import ForbiddenError, InvalidRequestError
from stopspread.services.workers import setup
from stopspread.services.workers.accounts import MIN_PASSWORD_CHARS
from stopspread.web.deps import PagesDep, Svc

__all__ = ["router"]

router = APIRouter(prefix="/setup", include_in_schema=False)
DONE_PATH: Final = "/worker/login?setup=done"


def _page(
    request: Request, pages: PagesDep, kind: str, status: int, **values: object
) -> HTMLResponse:
    context: dict[str, object] = {
        "kind": kind,
        "token": "",
        "error": "",
        "center": "",
        "username": "",
        "min_chars": MIN_PASSWORD_CHARS,
        "worker": None,
        "nav": "",
        "csrf_token": "",
    }
    context.update(values)
    return pages.render(request, "setup/setup.html", context, status=status)


async def _refusal(svc: Svc, token: str) -> tuple[str, int] | None:
    """Why the link does not work now (the page kind and status), or None when it does."""
    try:
        await run_in_threadpool(setup.check_setup_token, svc, token)
    except setup.AdminExistsError:
        return "done", 404
    except ForbiddenError:
        return "bad_token", 403
    return None


@router.get("", response_class=HTMLResponse)
async def setup_page(request: Request, svc: Svc, pages: PagesDep, token: str = "") -> Response:
    refused = await _refusal(svc, token)
    if refused is not None:
        return _page(request, pages, refused[0], refused[1])
    return _page(request, pages, "form", 200, token=token)


@router.post("", response_class=HTMLResponse)
async def setup_submit(
    request: Request,
    svc: Svc,
    pages: PagesDep,
    token: Annotated[str, Form(max_length=200)] = "",
    center: Annotated[str, Form(max_length=200)] = "",
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    password_again: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    refused = await _refusal(svc, token)
    if refused is not None:
        return _page(request, pages, refused[0], refused[1])
    again = {"token": token, "center": center, "username": username}
    if password != password_again:
        return _page(request, pages, "form", 422, error="setup.error.mismatch", **again)
    if len(password) < MIN_PASSWORD_CHARS:
        return _page(request, pages, "form", 422, error="setup.error.short", **again)
    try:
        await run_in_threadpool(setup.complete_setup, svc, token, center, username, password)
    except setup.AdminExistsError:
        return _page(request, pages, "done", 404)
    except ForbiddenError:
        return _page(request, pages, "bad_token", 403)
    except InvalidRequestError:
        return _page(request, pages, "form", 422, error="setup.error.invalid", **again)
    return RedirectResponse(DONE_PATH, status_code=303)
