"""The outermost middleware: no exception leaves the application (issue 18, finding 11).

Starlette's own outermost layer answers 500 for an unexpected exception and then raises it
again, so that the server logs it — with its traceback, whose message may hold the request's
input (an id, a query value, a hash). :class:`ErrorBarrier` sits just inside that layer:
every exception that reaches it is answered through the same handlers as everywhere else
(:func:`render_error`, which logs the exception's type only) and goes no further.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stopspread.web.errors import render_error

__all__ = ["ErrorBarrier"]

log = logging.getLogger("stopspread.web")


class ErrorBarrier:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # the point: nothing gets past, no traceback
            if started:  # too late for an answer: the connection ends; only the type is logged
                log.error("error after the answer started: %s", type(exc).__name__)
                return
            response = await render_error(Request(scope, receive), exc)
            await response(scope, receive, send)
