"""The hash feed, compatible with the StopNCII API as implemented in python-threatexchange.

``GET /v1/FetchHashes``, ``POST /v1/SubmitFeedback``; ``POST /v1/SubmitHashes`` is refused
(only survivors add hashes). The platform's API key travels in the headers that client
sends (``x-functions-key``, ``Ocp-Apim-Subscription-Key``) or as a Bearer token, and the
operator must have allowed the client to pull (``stopspread feed allow NAME``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from stopspread.errors import ForbiddenError, InvalidRequestError
from stopspread.services.exchange import feed
from stopspread.services.platform import ClientInfo
from stopspread.web.deps import Svc, current_client

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["hash feed (StopNCII-compatible)"])

RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "no API key"},
    403: {"description": "wrong key, or not allowed to pull the feed"},
}


async def _feed_client(request: Request, svc: Svc) -> ClientInfo:
    """The platform from its key in any of the headers the StopNCII client sends."""
    headers = request.headers
    key = headers.get("x-functions-key") or headers.get("ocp-apim-subscription-key")
    authorization = f"Bearer {key}" if key else headers.get("authorization")
    client = await current_client(svc, request.app.state.clients, authorization)
    allowed = await run_in_threadpool(feed.is_allowed, svc.db, client.id)
    if not allowed:
        raise ForbiddenError("this client has not been allowed to pull the hash feed")
    return client


@router.get("/FetchHashes", responses=RESPONSES)
async def fetch_hashes(
    request: Request,
    svc: Svc,
    start_timestamp: Annotated[int, Query(alias="startTimestamp", ge=0)] = 0,
    page_size: Annotated[
        int, Query(alias="pageSize", ge=1, le=feed.MAX_PAGE_SIZE)
    ] = feed.DEFAULT_PAGE_SIZE,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken", max_length=200)] = None,
) -> JSONResponse:
    """Records changed at or after ``startTimestamp``, in commit order, ``pageSize`` at a time.

    Tombstones (``Withdrawn``, ``Deleted``) tell you to drop a hash; resume from
    ``nextSetTimestamp`` (inclusive) or follow ``nextPageToken`` while ``hasMoreRecords``.
    """
    client = await _feed_client(request, svc)
    page = await run_in_threadpool(
        lambda: feed.fetch(
            svc.db,
            svc.server_key,
            client.id,
            start_timestamp=start_timestamp,
            page_size=page_size,
            next_page_token=next_page_token,
        )
    )
    return JSONResponse(page.as_json())  # plain dicts: no response-model pass over each record


@router.post("/SubmitFeedback", responses=RESPONSES)
async def submit_feedback(request: Request, svc: Svc) -> dict[str, Any]:
    """Your reviewers' verdicts: ``Blocked`` → confirmed, ``NotBlocked`` → not NCII."""
    client = await _feed_client(request, svc)
    try:
        body = await request.json()
    except ValueError as exc:
        raise InvalidRequestError("the body is not JSON") from exc
    items = body.get("hashFeedbacks") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise InvalidRequestError("hashFeedbacks: a list is needed")
    result = await run_in_threadpool(feed.submit_feedback, svc, client, items)
    return {
        "count": result.applied,
        "unknown": result.unknown,
        "ignored": result.ignored,
        "errors": result.errors,
    }


@router.post("/SubmitHashes", responses=RESPONSES, status_code=403)
async def submit_hashes(request: Request, svc: Svc) -> dict[str, Any]:
    """Refused: only survivors add hashes (on their own device, with their consent)."""
    await _feed_client(request, svc)
    raise ForbiddenError("only survivors add hashes; SubmitHashes is not offered")
