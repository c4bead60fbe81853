"""One JSON error shape for every error: ``{"ok": false, "error": "...", "status": N}``.

Validation errors never echo the input (it may be a hash): only where and what.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException

from stopspread.errors import MediaError, MediaTooLargeError, RateLimitedError, ServiceError

__all__ = ["HANDLERS", "error_response", "install_error_handlers", "render_error"]

log = logging.getLogger("stopspread.web")

Handler = Callable[[Request, Exception], Awaitable[JSONResponse]]


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message, "status": status}, status, headers=headers)


async def _service_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    headers = None
    if isinstance(exc, RateLimitedError):
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
    return error_response(exc.status, str(exc), headers)


async def _media_error(_request: Request, exc: Exception) -> JSONResponse:
    status = 413 if isinstance(exc, MediaTooLargeError) else 415
    return error_response(status, str(exc) or type(exc).__name__)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return error_response(422, "; ".join(parts) or "invalid request")


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, str(exc.detail), dict(exc.headers or {}))


async def _no_such_id(_request: Request, _exc: Exception) -> JSONResponse:
    # an id no row can have (>= 2^63: the database refuses to bind it): nothing is there
    return error_response(404, "not found")


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error: %s", type(exc).__name__)  # no message: it might hold data
    return error_response(500, "internal error")


HANDLERS: tuple[tuple[type[Exception], Handler], ...] = (
    (ServiceError, _service_error),
    (MediaError, _media_error),
    (RequestValidationError, _validation_error),
    (HTTPException, _http_error),
    (OverflowError, _no_such_id),  # SQLite: an integer over 64 bits
    (DataError, _no_such_id),  # PostgreSQL: the same, out of bigint's range
    (Exception, _unexpected),
)


def install_error_handlers(app: FastAPI) -> None:
    for exc_type, handler in HANDLERS:
        app.add_exception_handler(exc_type, handler)


async def render_error(request: Request, exc: Exception) -> JSONResponse:
    """The response the installed handlers give, for code outside FastAPI's routing."""
    for exc_type, handler in HANDLERS:
        if isinstance(exc, exc_type):
            return await handler(request, exc)
    return await _unexpected(request, exc)
