"""Request size limits, enforced before anything parses a body and while it streams.

Every request gets a byte budget from :func:`body_limit` (per method and path, from the
settings). :class:`BodyLimits` is the outermost of our ASGI middlewares:

- a ``Content-Length`` over the budget is answered ``413`` at once, before one body byte is
  read (the client may still be sending: the connection is closed after the answer);
- a body without a length (chunked) is counted as it arrives; the moment it passes the
  budget the application's next read fails and the answer is ``413`` — whatever the
  application was about to answer instead (a parser's ``400``, a form's ``422``) is
  replaced. Nothing past the budget is ever held in memory or spooled to disk;
- form bodies (the worker pages) get a small budget, and multipart ones — no page of ours
  uploads a file — are refused with ``415`` before they are read, so no form is spooled to
  disk before its CSRF check.

Items are limited where they are counted: signals per request
(``max_signals_per_request``, after parsing a body the byte limit already bounds) and form
fields (FastAPI's default of 1,000, within the form's byte budget).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stopspread.config import Settings
from stopspread.errors import MediaTooLargeError
from stopspread.hashing.keypoints import MAX_QUERY_SETS
from stopspread.web.errors import error_response

__all__ = [
    "FORM_MAX_BYTES",
    "MATCH_KEYPOINTS_MAX_BYTES",
    "SCAN_SOURCE_MAX_BYTES",
    "SIGNAL_MAX_BYTES",
    "SMALL_MAX_BYTES",
    "BodyLimits",
    "BodyTooLargeError",
    "body_limit",
]

SMALL_MAX_BYTES: Final = 4 * 1024  # a match, a feedback, a withdrawal, a bodiless request
SIGNAL_MAX_BYTES: Final = 256  # one signal in JSON, spaces included (a pdq one is ~90)
FORM_MAX_BYTES: Final = 64 * 1024  # a worker page's form
KEYPOINTS_MAX_BYTES: Final = 20 * 22 * 1024  # enrolment: 20 keypoint records in base64
MATCH_KEYPOINTS_MAX_BYTES: Final = (
    MAX_QUERY_SETS * 22 * 1024
)  # /v1/match: an upload's query records
SCAN_SOURCE_MAX_BYTES: Final = 512 * 1024  # the scan source form: a URL list (100,000 chars)

_CASES: Final = re.compile(r"/v1/cases(/[^/]+/signals)?/?")
_SCAN_SOURCES: Final = "/worker/scans/sources"


class BodyTooLargeError(MediaTooLargeError):
    """The body passed its route's budget while it streamed in."""


def body_limit(settings: Settings, method: str, path: str) -> int:
    """The most bytes a request to ``method path`` may carry."""
    if method == "POST":
        if path in ("/v1/hash", "/m/lookup"):  # one upload to hash (clients that opted in)
            return settings.upload_max_bytes
        if _CASES.fullmatch(path):
            signals = settings.max_signals_per_request * SIGNAL_MAX_BYTES
            return SMALL_MAX_BYTES + signals + KEYPOINTS_MAX_BYTES
        if path == "/v1/match":  # a signal set may carry the upload's keypoint records
            return SMALL_MAX_BYTES + MATCH_KEYPOINTS_MAX_BYTES
        if path == _SCAN_SOURCES:
            return SCAN_SOURCE_MAX_BYTES
        if path.startswith(("/worker/", "/setup")):
            return FORM_MAX_BYTES
    return SMALL_MAX_BYTES


@dataclass(slots=True)
class _Counter:
    limit: int
    received: int = 0
    exceeded: bool = False
    started: bool = False


def _refusal(limit: int) -> tuple[int, str]:
    return 413, f"the request body is over {limit} bytes for this address"


class BodyLimits:
    """ASGI middleware: the byte budget of :func:`body_limit`, before and while streaming."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(self.settings, scope["method"], scope["path"])
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None:
            text = declared.decode("latin-1").strip()
            if not text.isascii() or not text.isdigit():
                await _answer(send, 400, "the Content-Length header is not a number")
                return
            if int(text) > limit:
                await _answer(send, *_refusal(limit))
                return
        ctype = headers.get(b"content-type", b"").lower()
        if ctype.startswith(b"multipart/") and scope["path"].startswith(("/worker", "/setup")):
            await _answer(send, 415, "forms are sent url-encoded; files are not accepted here")
            return
        counter = _Counter(limit)

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                counter.received += len(message.get("body", b""))
                if counter.received > counter.limit:
                    counter.exceeded = True
                    raise BodyTooLargeError(_refusal(counter.limit)[1])
            return message

        async def guarded_send(message: Message) -> None:
            if counter.exceeded and not counter.started:
                return  # the app's own answer to a cut-off body is replaced by the 413
            if message["type"] == "http.response.start":
                counter.started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not counter.exceeded:  # whatever a cut-off body turned into, it is a 413
                raise
        if counter.exceeded and not counter.started:
            counter.started = True
            await _answer(send, *_refusal(counter.limit))


async def _answer(send: Send, status: int, message: str) -> None:
    """An error in the API's one shape; the connection closes after it (the body is unread)."""
    response = error_response(status, message, {"Connection": "close"})
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": response.raw_headers,
        }
    )
    await send({"type": "http.response.body", "body": response.body})
