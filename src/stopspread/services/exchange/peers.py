"""Center to center: pull another StopSpread's hash feed into a bank of our own.

``stopspread exchange add NAME URL --key KEY`` registers the other center (the key is one it
issued to us and allowed to pull its feed). :func:`pull` fetches its ``/v1/FetchHashes``
page by page; each page is applied and the position (page token, then the checkpoint) saved
in one transaction, so a pull that stops anywhere resumes where it stopped. Failed requests
are retried with exponential backoff. ``Active`` records become signals of the peer's bank
(the bank records where each hash came from); ``Withdrawn`` / ``Deleted`` records remove
them at once (here and, through the change log, in every API process). Verdicts our
platforms gave on matches of the peer's hashes are sent back to it (``SubmitFeedback``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import httpx
from sqlalchemy import delete, select

from stopspread.errors import InvalidRequestError, NotFoundError, ServiceError
from stopspread.services import audit
from stopspread.services.context import Services
from stopspread.services.exchange.feed_log import FeedStatus, FeedType
from stopspread.services.signal_input import parse_signal, record_change
from stopspread.storage.models import (
    Bank,
    ChangeOp,
    MatchRef,
    ReviewItem,
    ReviewStatus,
    Signal,
    SignalStatus,
)
from stopspread.storage.models_exchange import ExchangePeer

__all__ = [
    "BACKOFF_S",
    "MAX_ATTEMPTS",
    "PULL_PAGE_SIZE",
    "PeerError",
    "PeerRow",
    "PullReport",
    "add_peer",
    "list_peers",
    "peer_names",
    "pull",
    "push_feedback",
]

PULL_PAGE_SIZE: Final = 800
MAX_ATTEMPTS: Final = 5  # per request: the first try and 4 retries
BACKOFF_S: Final = 0.5  # first retry delay, doubled each time (0.5, 1, 2, 4 s)
REQUEST_TIMEOUT_S: Final = 60.0
RETRY_STATUSES: Final = frozenset({429, 500, 502, 503, 504})
_KINDS: Final = {FeedType.IMAGE_PDQ.value: "pdq", FeedType.VIDEO_MD5.value: "md5"}
STATUS_VERDICT: Final = {ReviewStatus.CONFIRMED: "Blocked", ReviewStatus.NOT_NCII: "NotBlocked"}


class PeerError(ServiceError):
    """The other center could not be reached or refused us (after the retries)."""

    status = 502


@dataclass(slots=True)
class PullReport:
    peer: str
    pages: int = 0
    added: int = 0
    removed: int = 0
    retries: int = 0
    feedback_sent: int = 0


def add_peer(svc: Services, name: str, url: str, key: str) -> int:
    """Register a center to pull from; its hashes go into a new bank ``exchange:<name>``."""
    if not name.strip() or len(name) > 100:
        raise InvalidRequestError("a peer name is 1 to 100 characters")
    if not url.startswith(("http://", "https://")) or not key.strip():
        raise InvalidRequestError("the peer URL is http(s)://… and a key is needed")
    with svc.db.write() as (session, head):
        if session.scalar(select(ExchangePeer.id).where(ExchangePeer.name == name)):
            raise InvalidRequestError(f"a peer named {name!r} exists")
        bank = Bank(case_id=None, name=f"exchange:{name}")
        session.add(bank)
        session.flush()
        peer = ExchangePeer(
            name=name, url=url.rstrip("/"), api_key=key.strip(), bank_id=bank.id, checkpoint_ts=0
        )
        session.add(peer)
        session.flush()
        audit.append(session, head, audit.AuditKind.PEER_ADDED, {"peer": peer.id, "bank": bank.id})
        return peer.id


def _peer(svc: Services, name: str) -> ExchangePeer:
    with svc.db.read() as session:
        peer = session.scalars(select(ExchangePeer).where(ExchangePeer.name == name)).first()
    if peer is None:
        raise NotFoundError(f"no peer named {name!r}")
    return peer


def _request(
    http: httpx.Client,
    method: str,
    url: str,
    report: PullReport,
    sleep: Callable[[float], None],
    **kwargs: Any,
) -> httpx.Response:
    """One request with retries (connection errors, 429, 5xx) and exponential backoff."""
    delay = BACKOFF_S
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            response = http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            problem = type(exc).__name__
        else:
            if response.status_code not in RETRY_STATUSES:
                return response
            problem = f"HTTP {response.status_code}"
        if attempt == MAX_ATTEMPTS:
            raise PeerError(f"the peer did not answer after {MAX_ATTEMPTS} tries: {problem}")
        report.retries += 1
        sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover


def _apply_page(
    svc: Services, peer_id: int, records: Sequence[dict[str, Any]], position: dict[str, Any]
) -> tuple[int, int, list[int]]:
    """Apply one page and save the position, in one transaction (resumable)."""
    added = removed = 0
    gone: list[int] = []
    with svc.db.write() as (session, head):
        peer = session.get(ExchangePeer, peer_id)
        if peer is None:
            raise NotFoundError("the peer was removed")
        have: dict[str, int] = {
            f"{kind.value}:{value}": sid
            for kind, value, sid in session.execute(
                select(Signal.type, Signal.value, Signal.id).where(Signal.bank_id == peer.bank_id)
            )
        }
        for record in records:
            kind = record.get("signalType") if isinstance(record, dict) else None
            if kind not in _KINDS:
                continue  # only what our feed publishes
            try:
                signal = parse_signal(_KINDS[kind], str(record.get("hashValue", "")), None, True)
            except InvalidRequestError:
                continue
            key = f"{signal.type.value}:{signal.value}"
            status = record.get("hashStatus")
            if status == FeedStatus.ACTIVE and key not in have:
                row = Signal(bank_id=peer.bank_id, type=signal.type, value=signal.value,
                             quality=None, from_video=signal.from_video,
                             status=SignalStatus.ACTIVE, match_count=0,
                             window_matches=0)  # fmt: skip
                session.add(row)
                session.flush()
                record_change(session, head, ChangeOp.ADD, row)
                have[key] = row.id
                added += 1
            elif status in (FeedStatus.WITHDRAWN, FeedStatus.DELETED) and key in have:
                sid = have.pop(key)
                old = session.get(Signal, sid)
                if old is not None:
                    record_change(session, head, ChangeOp.REMOVE, old)
                    session.execute(delete(MatchRef).where(MatchRef.signal_id == sid))
                    session.execute(delete(ReviewItem).where(ReviewItem.signal_id == sid))
                    session.delete(old)
                    gone.append(sid)
                    removed += 1
        peer.page_token = position.get("token")
        if position.get("checkpoint") is not None:
            peer.checkpoint_ts = int(position["checkpoint"])
        peer.last_pull_at, peer.last_error = datetime.now(UTC), None
        if added or removed:
            audit.append(
                session, head, audit.AuditKind.PEER_PULLED,
                {"peer": peer_id, "added": added, "removed": removed},
            )  # fmt: skip
    return added, removed, gone


def _note_error(svc: Services, peer_id: int, message: str) -> None:
    with svc.db.write() as (session, _head):
        peer = session.get(ExchangePeer, peer_id)
        if peer is not None:
            peer.last_error = message[:200]


def _fetch_page(
    http: httpx.Client,
    peer: ExchangePeer,
    token: str | None,
    start: int,
    page_size: int,
    report: PullReport,
    sleep: Callable[[float], None],
) -> httpx.Response:
    params: dict[str, Any] = {"startTimestamp": start, "pageSize": page_size}
    if token:
        params["nextPageToken"] = token
    return _request(http, "GET", f"{peer.url}/v1/FetchHashes", report, sleep, params=params)


def pull(
    svc: Services,
    name: str,
    *,
    page_size: int = PULL_PAGE_SIZE,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PullReport:
    """Fetch the peer's changes since the saved position, apply them, send verdicts back."""
    peer = _peer(svc, name)
    report = PullReport(name)
    headers = {"x-functions-key": peer.api_key, "Ocp-Apim-Subscription-Key": peer.api_key}
    with httpx.Client(headers=headers, timeout=REQUEST_TIMEOUT_S, transport=transport) as http:
        token, start = peer.page_token, peer.checkpoint_ts
        try:
            while True:
                response = _fetch_page(http, peer, token, start, page_size, report, sleep)
                if response.status_code == 422 and token:  # an expired or foreign token
                    token = None
                    continue
                if response.status_code != 200:
                    raise PeerError(f"the peer answered HTTP {response.status_code}")
                body = response.json()
                more = bool(body.get("hasMoreRecords"))
                position: dict[str, Any] = {"token": body.get("nextPageToken") if more else None}
                if not more:
                    position["checkpoint"] = int(body.get("nextSetTimestamp", start))
                added, removed, gone = _apply_page(
                    svc, peer.id, body.get("hashRecords") or [], position
                )
                svc.replica.forget(gone)
                report.pages += 1
                report.added, report.removed = report.added + added, report.removed + removed
                if not more:
                    break
                token = position["token"]
            report.feedback_sent = push_feedback(svc, peer, http, report, sleep)
        except (PeerError, ValueError) as exc:
            _note_error(svc, peer.id, str(exc))
            raise PeerError(str(exc)) from exc
    return report


def push_feedback(
    svc: Services,
    peer: ExchangePeer,
    http: httpx.Client,
    report: PullReport,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Send the peer the verdicts our platforms gave since the last push (one per hash)."""
    now = datetime.now(UTC)
    stmt = (
        select(Signal.value, ReviewItem.platform_verdict)
        .join(ReviewItem, ReviewItem.signal_id == Signal.id)
        .where(Signal.bank_id == peer.bank_id, ReviewItem.platform_verdict.is_not(None))
        .order_by(ReviewItem.updated_at)
    )
    if peer.feedback_sent_at is not None:
        stmt = stmt.where(ReviewItem.updated_at > peer.feedback_sent_at)
    with svc.db.read() as session:
        verdicts = {value: v for value, v in session.execute(stmt) if v in STATUS_VERDICT}
    if verdicts:
        body = {
            "count": len(verdicts),
            "hashFeedbacks": [
                {"hashValue": value, "feedbackValue": STATUS_VERDICT[v], "tags": []}
                for value, v in verdicts.items()
            ],
        }
        url = f"{peer.url}/v1/SubmitFeedback"
        response = _request(http, "POST", url, report, sleep, json=body)
        if response.status_code != 200:
            raise PeerError(f"the peer refused our feedback: HTTP {response.status_code}")
    with svc.db.write() as (session, _head):
        row = session.get(ExchangePeer, peer.id)
        if row is not None:
            row.feedback_sent_at = now
    return len(verdicts)


@dataclass(frozen=True, slots=True)
class PeerRow:
    """A peer as ``exchange list`` shows it."""

    name: str
    url: str
    signals: int
    checkpoint_ts: int
    last_pull_at: datetime | None
    last_error: str | None


def list_peers(svc: Services) -> list[PeerRow]:
    """Every peer with the number of signals its bank holds, by name."""
    from sqlalchemy import func

    with svc.db.read() as session:
        peers = list(session.scalars(select(ExchangePeer).order_by(ExchangePeer.name)))
        return [
            PeerRow(
                peer.name,
                peer.url,
                int(
                    session.scalar(select(func.count()).where(Signal.bank_id == peer.bank_id)) or 0
                ),
                peer.checkpoint_ts,
                peer.last_pull_at,
                peer.last_error,
            )
            for peer in peers
        ]


def peer_names(svc: Services) -> list[str]:
    """The names of every peer."""
    with svc.db.read() as session:
        return list(session.scalars(select(ExchangePeer.name).order_by(ExchangePeer.name)))
