"""Platform API: match an upload's signal, give feedback, hash a file in memory (opt-in)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
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
from stopspread.hashing import (
    DecodeBudget,
    DecodeLimits,
    SignalHash,
    digest_bytes,
)
from stopspread.hashing.decode import open_source
from stopspread.hashing.keypoints import KeypointSet
from stopspread.hashing.query import query_signals
from stopspread.services import platform
from stopspread.services.keypoint_bank import KeypointBank
from stopspread.services.keypoint_records import decode_record
from stopspread.services.platform import ReviewStatus
from stopspread.services.probing import ProbeDetector, Verdict, suspend_for_probing
from stopspread.services.signal_input import SignalIn, SignalType, parse_signal
from stopspread.web.deps import Client, Svc, current_client, json_body, parse_json
from stopspread.web.schemas import (
    FeedbackIn,
    FeedbackStatusOut,
    HashOut,
    MatchIn,
    MatchOut,
    OkOut,
    error_responses,
)

__all__ = ["MATCH_PATH", "answer", "decide_watched", "match", "read_capped", "router"]

router = APIRouter(prefix="/v1", tags=["platforms"])

PDQ_KIND: Final = SignalType.PDQ.value
MD5_KIND: Final = SignalType.MD5.value
MATCH_PATH: Final = "/v1/match"  # also served by web.fastlane, with the same function

MATCH_RESPONSES: Final[dict[int | str, dict[str, Any]]] = error_responses(401, 403, 413, 422, 429)
FEEDBACK_RESPONSES: Final = error_responses(401, 403, 404, 413, 422, 429)
HASH_RESPONSES: Final = error_responses(401, 403, 413, 415, 429)


async def decide_watched(
    request: Request,
    svc: Svc,
    client: platform.ClientInfo,
    signals: list[SignalIn],
    keypoints: list[KeypointSet] | None = None,
) -> platform.Decision:
    """One request's signals (one upload), looked up under the match policy and decided once:
    the first signal that matches (in the order given: plain PDQ first, then the photo the
    upload's keypoints verify against) is the one recorded. The keypoint work runs for
    every request that carries keypoints, whatever the hashes found (equal timing)."""
    detector: ProbeDetector = request.app.state.probe_detector
    pdq = [s.value for s in signals if s.type is SignalType.PDQ]
    if pdq:
        await _watch(request, svc, detector, client, pdq)
    blur = svc.settings.match_edge_blur_bits
    attacked = detector.blurring  # signals under attack: usually none
    found: dict[int, None] = {}
    near: list[tuple[str, int, int]] = []  # PDQ hits: (query, nearest signal, distance)
    for signal in signals:  # in memory, microseconds each: no thread hop
        hits = svc.replica.lookup_near(signal)
        if hits and signal.type is SignalType.PDQ:
            near.append((signal.value, *hits[0]))
            if blur or attacked:  # a blurred edge: the detector below still sees the hit
                hides = partial(
                    detector.hides, svc.server_key, client.id, signal.value,
                    radius=svc.replica.policy.pdq.radius, band=blur,
                )  # fmt: skip
                hits = [hit for hit in hits if not hides(hit)]
        found.update(dict.fromkeys(signal_id for signal_id, _ in hits))
    bank: KeypointBank | None = request.app.state.keypoint_bank
    shape_only: frozenset[int] = frozenset()
    if keypoints and bank is not None:
        by_shape = await run_in_threadpool(bank.find, keypoints)
        if by_shape is not None and by_shape not in found:
            found[by_shape], shape_only = None, frozenset((by_shape,))
    ids = list(found)
    if ids:
        detector.matched(client.id, ids)
    if near:
        await _watch_edge(request, svc, detector, client, near)
    if pdq and detector.closed_values:  # a signal's alarm is on: its near misses count too
        missed = detector.near_misses(client.id, pdq, svc.replica.policy.pdq.radius)
        if missed is not None:
            await _suspend(request, svc, missed.client_ids, [], edge=True)
    return platform.decide(svc, client, ids, shape_only)


async def answer(
    request: Request, *decisions: platform.Decision, records: int = 1
) -> platform.MatchResult:
    """Journal the decisions (padded with no-op records to ``records``) and wait for their
    group commit: a hit and a miss wait alike, and an acknowledged hit is durable (issue 18,
    finding 4; services/journal.py). The answer is the last decision's."""
    journal: platform.MatchJournal = request.app.state.match_journal
    padded = [*decisions, *[platform.MISS] * (records - len(decisions))]
    if len(padded) == 1:  # the usual case: one record, no gather
        await journal.record_async(padded[0])
    else:
        await asyncio.gather(*(journal.record_async(d) for d in padded))
    return decisions[-1].result


async def _match(
    request: Request,
    svc: Svc,
    client: platform.ClientInfo,
    signals: list[SignalIn],
    keypoints: list[KeypointSet] | None,
) -> platform.MatchResult:
    return await answer(request, await decide_watched(request, svc, client, signals, keypoints))


async def _suspend(
    request: Request, svc: Svc, client_ids: Sequence[int], signals: list[int], edge: bool
) -> None:
    """Suspend the keys of a walk in the database, and in this process at once: the key
    cache would otherwise let them ask on until the next poll."""
    await run_in_threadpool(suspend_for_probing, svc.db, client_ids, signals, edge=edge)
    clients: platform.ClientDirectory = request.app.state.clients
    clients.forget(client_ids)


async def _watch(
    request: Request,
    svc: Svc,
    detector: ProbeDetector,
    client: platform.ClientInfo,
    values: list[str],
) -> None:
    """The probing detector's verdict on this key's query (services/probing.py)."""
    verdict = detector.observe_upload(client.id, values)
    if verdict is Verdict.THROTTLE:
        wait = detector.throttle_wait(client.id)
        raise RateLimitedError("this key's queries look like a walk; slow down", wait)
    if verdict is Verdict.SUSPEND:
        signals = detector.matched_signals(client.id)
        await _suspend(request, svc, [client.id], signals, edge=False)
        raise ForbiddenError("the API key is not valid")


async def _watch_edge(
    request: Request,
    svc: Svc,
    detector: ProbeDetector,
    client: platform.ClientInfo,
    near: list[tuple[str, int, int]],
) -> None:
    """Hits at the edge of one signal's radius, counted across keys (services/probing.py);
    the keys of a walk are suspended, this request is answered as any other."""
    alarm = detector.edge_hits(client.id, near, svc.replica.policy.pdq.radius)
    if detector.has_marks():  # a signal newly under attack, alarmed, or its end moved on
        await run_in_threadpool(detector.save_marks)
    if alarm is not None:
        signals = [alarm.signal_id] if alarm.open_review else []
        await _suspend(request, svc, alarm.client_ids, signals, edge=True)


def _signals_of(body: MatchIn) -> list[SignalIn]:
    """The request's signals: one, or a signal set's query hashes (then the file's MD5)."""
    if body.query is None:
        return [parse_signal(str(body.type), str(body.value), body.quality)]
    signals = [parse_signal(PDQ_KIND, q.value, q.quality) for q in body.query]
    if body.md5 is not None:
        signals.append(parse_signal(MD5_KIND, body.md5))
    return signals


def _keypoints_of(body: MatchIn) -> list[KeypointSet] | None:
    """The upload's ss-kp-1 query sets, decoded and checked (422 with what is wrong)."""
    if body.keypoints is None:
        return None
    return [decode_record(text, f"keypoints[{n}]") for n, text in enumerate(body.keypoints, 1)]


@router.post(
    "/match",
    response_model=MatchOut,
    responses=MATCH_RESPONSES,
    openapi_extra=json_body(MatchIn),
)
async def match(request: Request) -> Response:
    """Does this upload match a bank? Only ``match`` and an opaque ``ref`` come back.

    The body is one signal (``{"type": "pdq", "value": hex, "quality": q}``) or the query
    signals of one upload (``{"signal_set": "ss-img-1", "query": [{"value", "quality"}, ...],
    "md5": hex, "keypoints": [base64, ...]}``, what ``stopspread hash --format match FILE``
    prints; docs/api.md). ``keypoints`` (optional) are the upload's ss-kp-1 query sets: a
    crop, a screenshot or a tilt the hashes miss is found by shape points.

    The hot path: served by :mod:`stopspread.web.fastlane` ahead of FastAPI's routing, so it
    takes the request itself and does its checks directly (no dependencies, no response
    model at run time).
    """
    svc = request.app.state.services
    client = await current_client(
        svc, request.app.state.clients, request.headers.get("authorization")
    )
    body = await parse_json(request, MatchIn)
    result = await _match(request, svc, client, _signals_of(body), _keypoints_of(body))
    return JSONResponse({"match": result.match, "ref": result.ref})


@router.post("/feedback", responses=FEEDBACK_RESPONSES)
def feedback(request: Request, body: FeedbackIn, svc: Svc, client: Client) -> OkOut:
    """Your reviewer's verdict on a match: it goes to the bank owner's review queue."""
    request.app.state.match_journal.catch_up()  # a ref answered a moment ago is recorded
    platform.feedback(svc, client, body.ref, ReviewStatus(body.verdict))
    return OkOut()


@router.get("/feedback/{ref}", responses=error_responses(401, 403, 404, 429))
def feedback_status(request: Request, ref: str, svc: Svc, client: Client) -> FeedbackStatusOut:
    """The center's decision on your match (``open`` until a person decides); your ref only."""
    request.app.state.match_journal.catch_up()  # a hit answered a moment ago is counted
    found = platform.feedback_status(svc, client, ref)
    return FeedbackStatusOut(
        ref=found.ref,
        decision=found.decision.value,
        decided_at=found.decided_at,
        your_verdict=found.your_verdict.value if found.your_verdict else None,  # type: ignore[arg-type]  # a verdict is never "open"
        hits=found.hits,
    )


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
    """Hash the raw body (an image) in memory, match it, and forget it. Opt-in per client.

    Matched as ``/v1/match`` matches a signal set: the ss-img-1 query hashes, then the MD5,
    then the ss-kp-1 query keypoints; the answer shows the plain PDQ hash and quality."""
    if not client.can_hash:
        raise ForbiddenError("this client has not opted in to /v1/hash")
    settings = svc.settings
    data = await read_capped(request, settings.upload_max_bytes)
    limits = DecodeLimits(settings.upload_max_bytes, settings.upload_max_pixels, True)
    budget: DecodeBudget = request.app.state.decode_budget
    query, keypoints, md5 = await run_in_threadpool(partial(_hash_upload, data, limits, budget))
    del data  # never written anywhere; dropped as soon as it is hashed
    signals = [parse_signal(PDQ_KIND, h.hash.hex, h.quality) for h in query]
    signals.append(parse_signal(MD5_KIND, md5))
    # one decision for the upload, journalled as two records like every upload (equal timing)
    decision = await decide_watched(request, svc, client, signals, keypoints)
    result = await answer(request, decision, records=2)
    plain = query[0]  # the whole image: plain PDQ
    return HashOut(
        pdq=plain.hash.hex, quality=plain.quality, md5=md5, match=result.match, ref=result.ref
    )


def _hash_upload(
    data: bytes, limits: DecodeLimits, budget: DecodeBudget
) -> tuple[list[SignalHash], list[KeypointSet], str]:
    """The default signal set's query hashes (the first is plain PDQ) and the ss-kp-1 query
    keypoints from one decode, held against the decode budget, and the file's MD5."""
    image, _ = open_source(data, limits)  # header checked, pixels not decoded yet
    width, height = image.size
    with budget.hold(width * height):
        signals = query_signals(image, limits=limits)
    return signals.hashes, signals.keypoints, digest_bytes(data).md5
