"""Lookups compatible with Hasher-Matcher-Actioner's ``GET /m/lookup``, for code that calls HMA.

``GET /m/lookup?signal_type=pdq|video_md5&signal=<hex>`` with the platform's key as a Bearer
token answers ``{"STOPSPREAD": [{"bank_content_id": "<ref>", "distance": "0"}]}`` or ``{}``.
The bank name is one constant, ``bank_content_id`` is the same opaque ``ref`` as
``/v1/match`` gives (stable for you, unlinkable for others; usable with ``/v1/feedback``) and
the distance is the constant ``"0"`` (the real one is never told). A hit opens a review like
``/v1/match``. The hash is in the query string: proxies must not log it (docs/interop.md).
``POST /m/lookup`` (one ``photo`` file as multipart/form-data) hashes the upload in memory for
clients that opted in to hashing, like ``/v1/hash``.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

from stopspread.errors import ForbiddenError, InvalidRequestError, UnsupportedMediaError
from stopspread.hashing import hash_image
from stopspread.services.signal_input import SignalType, parse_signal
from stopspread.web.deps import Svc, current_client
from stopspread.web.routes.platform import answer, decide_watched, read_capped

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
    """Does this hash match? Hit or miss, the answer waits for its journal record; a hit
    is recorded for review a moment later (services/journal.py)."""
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
    result = await answer(request, await decide_watched(request, svc, client, [parsed]))
    if not result.match:
        return {}
    return {BANK_NAME: [{"bank_content_id": result.ref, "distance": CONSTANT_DISTANCE}]}


class _Part:
    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytearray]] = []
        self.data = bytearray()


def _form_file(body: bytes, content_type: str) -> tuple[str, bytes]:
    """The one file of a multipart/form-data body, parsed in memory (never spooled to disk)."""
    _kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise LookupInputError("send the file as multipart/form-data")
    parts: list[_Part] = []
    field: list[bytearray] = []

    def on_part_begin() -> None:
        parts.append(_Part())

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1].data += data[start:end]

    def on_header_field(data: bytes, start: int, end: int) -> None:
        field.append(bytearray(data[start:end]))

    def on_header_value(data: bytes, start: int, end: int) -> None:
        parts[-1].headers.append((bytes(field.pop() if field else b""), bytearray(data[start:end])))

    parser = MultipartParser(
        boundary,
        {"on_part_begin": on_part_begin, "on_part_data": on_part_data,
         "on_header_field": on_header_field, "on_header_value": on_header_value},
    )  # fmt: skip
    try:
        parser.write(body)
        parser.finalize()
    except MultipartParseError as exc:
        raise LookupInputError("the multipart/form-data body does not parse") from exc
    files = []
    for part in parts:
        disposition = next(
            (bytes(v) for k, v in part.headers if k.lower() == b"content-disposition"), b""
        )
        _d, disp = parse_options_header(disposition)
        if b"filename" in disp:
            files.append((disp.get(b"name", b"").decode("latin-1"), bytes(part.data)))
    if len(files) != 1:
        raise LookupInputError("send exactly one file")
    return files[0]


@router.post(
    "/lookup",
    responses={400: {"description": "bad input"}, 401: {"description": "no API key"},
               403: {"description": "wrong key, or not opted in to hashing"},
               413: {"description": "too large"}, 415: {"description": "not an image"}},
)  # fmt: skip
async def lookup_file(request: Request, svc: Svc) -> dict[str, Any]:
    """Hash one uploaded photo in memory and look it up (clients created with ``--can-hash``).

    The multipart field name is the content type, as HMA expects (``photo``); the answer is
    keyed by signal type: ``{"pdq": {"STOPSPREAD": [...]}}`` or ``{"pdq": {}}``.
    """
    client = await current_client(
        svc, request.app.state.clients, request.headers.get("authorization")
    )
    if not client.can_hash:
        raise ForbiddenError("this client has not opted in to hashing uploads")
    body = await read_capped(request, svc.settings.upload_max_bytes)
    field, data = _form_file(body, request.headers.get("content-type", ""))
    del body
    if field != "photo":
        raise UnsupportedMediaError("only photos are hashed here (field name: photo)")
    hashes = await run_in_threadpool(hash_image, data)
    del data  # never written anywhere; dropped as soon as it is hashed
    # with its quality: the match policy's query floor applies (services/match_policy.py)
    signal = parse_signal(SignalType.PDQ.value, hashes.pdq.hex, hashes.quality)
    result = await answer(request, await decide_watched(request, svc, client, [signal]))
    if not result.match:
        return {"pdq": {}}
    return {"pdq": {BANK_NAME: [{"bank_content_id": result.ref, "distance": CONSTANT_DISTANCE}]}}
