"""Security headers on every HTML page: a strict CSP, no referrer, no caching.

Pure ASGI (like the match fast lane) so API answers pay nothing: only responses whose
content type is ``text/html`` get the headers.
"""

from __future__ import annotations

from typing import Final

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CSP", "PAGE_HEADERS", "PageSecurityHeaders"]

# No inline script or style anywhere: a survivor's page must not run anything we didn't ship.
CSP: Final = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "media-src 'self' blob:",
        "worker-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)

PAGE_HEADERS: Final = {
    "content-security-policy": CSP,
    "referrer-policy": "no-referrer",  # no case code or page path leaks to another site
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",  # nothing of a case stays in a shared device's cache
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


class PageSecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").startswith("text/html"):
                    for name, value in PAGE_HEADERS.items():
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
