"""Platform API: match an upload's signal, give feedback, hash a file in memory (opt-in)."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from stopspread.errors import (
    ForbiddenError,
    InvalidRequestError,
    MediaTooLargeError,
    RateLimitedError,
)
from stopspread.hashing import DecodeBudget, DecodeLimits, hash_image
from stopspread.services import platform
from stopspread.services.platform import ReviewStatus
from stopspread.services.probing import ProbeDetector, Verdict, suspend_for_probing
from stopspread.services.signal_input import SignalType, parse_signal
from stopspread.web.deps import Client, Svc, current_client, json_body, parse_json
from stopspread.web.schemas import (
    FeedbackIn,
    HashOut,
    MatchIn,
    MatchOut,
    OkOut,
    error_responses,
)

__all__ = ["MATCH_PATH", "answer", "match", "read_capped", "router"]

router = APIRouter(prefix="/v1", tags=["platforms"])

MATCH_PATH: Final = "/v1/match"  # also served by web.fastlane, with the same function

MATCH_RESPONSES: Final[dict[int | str, dict[str, Any]]] = error_responses(401, 403, 413, 422, 429)
FEEDBACK_RESPONSES: Final = error_responses(401, 403, 404, 413, 422, 429)
HASH_RESPONSES: Final = error_responses(401, 403, 413, 415, 429)


async def _decide(
    request: Request, svc: Svc, client: platform.ClientInfo, kind: str, value: str
) -> platform.Decision:
    signal = parse_signal(kind, value)
    detector: ProbeDetector = request.app.state.probe_detector
    if signal.type is SignalType.PDQ:
        await _watch(svc, detector, client, signal.value)
    found = svc.replica.lookup(signal)  # in memory, microseconds: no thread hop
    if found:
        detector.matched(client.id, found)
    return platform.decide(svc, client, found)


async def answer(
    request: Request, *decisions: platform.Decision, records: int = 1
) -> platform.MatchResult:
    """Journal the decisions (padded with no-op records to ``records``) and wait for their
    group commit: a hit and a miss wait alike, and an acknowledged hit is durable (issue 18,
    finding 4; services/journal.py). The answer is the last decision's."""
    journal: platform.MatchJournal = request.app.state.match_journal
    padded = [*decisions, *[platform.MISS] * (records - len(decisions))]
    await asyncio.gather(*(asyncio.wrap_future(journal.record(d)) for d in padded))
    return decisions[-1].result


async def _match(
    request: Request, svc: Svc, client: platform.ClientInfo, kind: str, value: str
) -> platform.MatchResult:
    return await answer(request, await _decide(request, svc, client, kind, value))


async def _watch(
    svc: Svc, detector: ProbeDetector, client: platform.ClientInfo, value: str
) -> None:
    """The probing detector's verdict on this key's query (services/probing.py)."""
    verdict = detector.observe(client.id, value)
    if verdict is Verdict.THROTTLE:
        wait = detector.throttle_wait(client.id)
        raise RateLimitedError("this key's queries look like a walk; slow down", wait)
    if verdict is Verdict.SUSPEND:
        signals = detector.matched_signals(client.id)
        await run_in_threadpool(suspend_for_probing, svc.db, client.id, signals)
        raise ForbiddenError("the API key is not valid")


@router.post(
    "/match",
    response_model=MatchOut,
    responses=MATCH_RESPONSES,
    openapi_extra=json_body(MatchIn),
)
async def match(request: Request) -> Response:
    """Does this signal match a bank? Only ``match`` and an opaque ``ref`` come back.

    The hot path: served by :mod:`stopspread.web.fastlane` ahead of FastAPI's routing, so it
    takes the request itself and does its checks directly (no dependencies, no response
    model at run time).
    """
    svc = request.app.state.services
    client = await current_client(
        svc, request.app.state.clients, request.headers.get("authorization")
    )
    body = await parse_json(request, MatchIn)
    result = await _match(request, svc, client, body.type, body.value)
    return JSONResponse({"match": result.match, "ref": result.ref})


@router.post("/feedback", responses=FEEDBACK_RESPONSES)
def feedback(request: Request, body: FeedbackIn, svc: Svc, client: Client) -> OkOut:
    """Your reviewer's verdict on a match: it goes to the bank owner's review queue."""
    request.app.state.match_journal.catch_up()  # a ref answered a moment ago is recorded
    platform.feedback(svc, client, body.ref, ReviewStatus(body.verdict))
    return OkOut()


async def read_capped(request: Request, cap: int) -> bytes:
    """The body, in memory only, refused as soon as it passes ``cap`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise MediaTooLargeError(f"the upload is over {cap} bytes")
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > cap:
            raise MediaTooLargeError(f"the upload is over {cap} bytes")
    if not buf:
        raise InvalidRequestError("the body is empty: send the file's bytes")
    return bytes(buf)


@router.post(
    "/hash",
    responses=HASH_RESPONSES,
    openapi_extra={"requestBody": {"content": {"application/octet-stream": {}}, "required": True}},
)
async def hash_upload(request: Request, svc: Svc, client: Client) -> HashOut:
    """Hash the raw body (an image) in memory, match it, and forget it. Opt-in per client."""
    if not client.can_hash:
        raise ForbiddenError("this client has not opted in to /v1/hash")
    settings = svc.settings
    data = await read_capped(request, settings.upload_max_bytes)
    limits = DecodeLimits(settings.upload_max_bytes, settings.upload_max_pixels, True)
    budget: DecodeBudget = request.app.state.decode_budget
    hashes = await run_in_threadpool(partial(hash_image, data, limits=limits, budget=budget))
    del data  # never written anywhere; dropped as soon as it is hashed
    md5 = hashes.digests.md5 if hashes.digests else ""
    decisions = [await _decide(request, svc, client, SignalType.PDQ.value, hashes.pdq.hex)]
    if not decisions[0].result.match and md5:
        decisions.append(await _decide(request, svc, client, SignalType.MD5.value, md5))
    result = await answer(request, *decisions, records=2)  # two records for every upload
    return HashOut(
        pdq=hashes.pdq.hex, quality=hashes.quality, md5=md5, match=result.match, ref=result.ref
    )
