"""A fast lane for ``POST /v1/match``, the call every platform upload makes.

FastAPI's routing and dependency solving cost several times more than the match itself
(hundreds of microseconds a request). This ASGI middleware serves exactly that method and
path with the same endpoint function the FastAPI route declares (which keeps the OpenAPI
description), and renders errors through the same handlers, so answers are identical.
Every other request goes through FastAPI unchanged.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from stopspread.web.errors import render_error
from stopspread.web.routes.platform import MATCH_PATH, match

__all__ = ["MatchFastLane"]


class MatchFastLane:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != MATCH_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await match(request)
        except Exception as exc:  # every error gets the one JSON shape, as in FastAPI
            response = await render_error(request, exc)
        await response(scope, receive, send)
