"""Lookups compatible with Hasher-Matcher-Actioner's ``GET /m/lookup``, for code that calls HMA.

``GET /m/lookup?signal_type=pdq|video_md5&signal=<hex>`` with the platform's key as a Bearer
token answers ``{"STOPSPREAD": [{"bank_content_id": "<ref>", "distance": "0"}]}`` or ``{}``.
The bank name is one constant, ``bank_content_id`` is the same opaque ``ref`` as
``/v1/match`` gives (stable for you, unlinkable for others; usable with ``/v1/feedback``) and
the distance is the constant ``"0"`` (the real one is never told). A hit opens a review like
``/v1/match``. The hash is in the query string: proxies must not log it (docs/interop.md).
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from stopspread.errors import InvalidRequestError
from stopspread.services import platform
from stopspread.services.signals import parse_signal
from stopspread.storage.models import SignalType
from stopspread.web.deps import Svc, current_client

__all__ = ["BANK_NAME", "CONSTANT_DISTANCE", "LookupInputError", "router"]

router = APIRouter(prefix="/m", tags=["HMA-compatible lookup"])

BANK_NAME: Final = "STOPSPREAD"  # one bank name for every hit: no bank or case leaks
CONSTANT_DISTANCE: Final = "0"  # always: the real distance would help walk the bank
SIGNAL_TYPES: Final = {"pdq": SignalType.PDQ, "video_md5": SignalType.MD5}


class LookupInputError(InvalidRequestError):
    """HMA answers bad lookup input with 400."""

    status = 400


@router.get(
    "/lookup",
    responses={400: {"description": "bad input"}, 401: {"description": "no API key"},
               403: {"description": "wrong key"}},
)  # fmt: skip
async def lookup(
    request: Request,
    svc: Svc,
    signal_type: Annotated[str, Query(max_length=32)] = "",
    signal: Annotated[str, Query(max_length=128)] = "",
) -> dict[str, Any]:
    """Does this hash match? A hit is recorded for review before it is answered."""
    client = await current_client(
        svc, request.app.state.clients, request.headers.get("authorization")
    )
    kind = SIGNAL_TYPES.get(signal_type)
    if kind is None:
        raise LookupInputError("signal_type is pdq or video_md5")
    try:
        parsed = parse_signal(kind.value, signal)
    except InvalidRequestError as exc:
        raise LookupInputError(str(exc)) from exc
    found = svc.replica.lookup(parsed)
    if not found:
        return {}
    result = await run_in_threadpool(platform.record_match, svc, client, found)
    if not result.match:
        return {}
    return {BANK_NAME: [{"bank_content_id": result.ref, "distance": CONSTANT_DISTANCE}]}
