"""Support workers' sign-in for the web pages: session cookie, CSRF, the current worker.

- The session cookie (``ss_worker``) carries a random 256-bit token; the database keeps its
  SHA-256. It is HttpOnly, SameSite=Strict, limited to ``/worker``, and Secure unless the
  page was asked for over plain HTTP on a loopback address (local use and tests).
- Every POST carries the session's CSRF token in a hidden ``csrf_token`` field
  (synchroniser token); :data:`Csrf` checks it and answers 403 when missing or wrong. The
  sign-in form, which has no session yet, uses a double-submit cookie instead.
- A page without a valid session redirects to the sign-in page (:data:`CurrentWorker`).
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Mapping
from typing import Annotated, Final
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from stopspread.errors import AuthError, ForbiddenError, SignInRequiredError
from stopspread.services.workers import accounts
from stopspread.services.workers.accounts import SessionInfo, WorkerIdentity
from stopspread.web.deps import Svc
from stopspread.web.pages import Pages

__all__ = [
    "LOGIN_CSRF_COOKIE",
    "SESSION_COOKIE",
    "CurrentSession",
    "CurrentWorker",
    "WorkerIdentity",
    "install_worker_auth",
    "is_secure",
    "render_worker",
    "require_csrf",
    "safe_next",
]

SESSION_COOKIE: Final = "ss_worker"
LOGIN_CSRF_COOKIE: Final = "ss_login_csrf"
COOKIE_PATH: Final = "/worker"
LOGIN_PATH: Final = "/worker/login"


def is_secure(request: Request) -> bool:
    """Cookies are Secure except over plain HTTP to a loopback address."""
    if request.url.scheme == "https":
        return True
    host = request.url.hostname or ""
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def safe_next(target: str | None) -> str:
    """Only our own worker pages are allowed as a place to return to after sign-in."""
    if target and target.startswith("/worker/") and not target.startswith("//"):
        return target if "\\" not in target else "/worker/cases"
    return "/worker/cases"


async def _current_session(request: Request, svc: Svc) -> SessionInfo:
    token = request.cookies.get(SESSION_COOKIE)
    try:
        info = await run_in_threadpool(accounts.session_info, svc, token)
    except AuthError as exc:
        raise SignInRequiredError(str(exc)) from exc
    request.state.worker_session = info
    return info


CurrentSession = Annotated[SessionInfo, Depends(_current_session)]


async def _current_worker(info: CurrentSession) -> WorkerIdentity:
    return info.identity


CurrentWorker = Annotated[WorkerIdentity, Depends(_current_worker)]


async def require_csrf(request: Request, info: CurrentSession) -> None:
    """Dependency for every worker POST: the form's ``csrf_token`` must be the session's."""
    form = await request.form()
    sent = form.get("csrf_token")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, info.csrf_token):
        raise ForbiddenError("the form's security token is missing or wrong; reload the page")


def render_worker(
    request: Request,
    pages: Pages,
    template: str,
    context: Mapping[str, object] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """Render a worker page with ``csrf_token``, ``worker`` and ``nav`` in its context."""
    info: SessionInfo | None = getattr(request.state, "worker_session", None)
    values: dict[str, object] = {
        "csrf_token": info.csrf_token if info else "",
        "worker": info.identity if info else None,
        "nav": "",
    }
    values.update(context or {})
    return pages.render(request, template, values, status=status)


def new_login_csrf() -> str:
    return secrets.token_urlsafe(32)


def set_session_cookie(request: Request, response: Response, token: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=is_secure(request),
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=is_secure(request),
    )


async def _sign_in_redirect(request: Request, _exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        target = "/worker/cases"
    return RedirectResponse(f"{LOGIN_PATH}?next={quote(target, safe='')}", status_code=303)


def install_worker_auth(app: FastAPI) -> None:
    """Worker pages without a session go to the sign-in page (not a JSON 401)."""
    app.add_exception_handler(SignInRequiredError, _sign_in_redirect)
