"""The StopNCII-compatible hash feed: pages of records, feedback, who may pull.

Compatible with the StopNCII API as implemented in python-threatexchange
(``FetchHashes``, ``SubmitFeedback``); see docs/interop.md for the contract. A platform
pulls only after the operator allowed it (:func:`allow`); the pages carry hashes and
per-platform opaque case ids, never case codes, banks or other platforms' verdicts.
"""

from __future__ import annotations

import base64
import hmac
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from stopspread.errors import ForbiddenError, InvalidRequestError, NotFoundError
from stopspread.services import audit
from stopspread.services.context import Services
from stopspread.services.exchange.feed_log import FeedStatus, FeedType, publishable_clause
from stopspread.services.keys import match_ref
from stopspread.services.platform import ClientInfo
from stopspread.storage.db import Database
from stopspread.storage.models import (
    Bank,
    MatchRef,
    PlatformClient,
    ReviewItem,
    ReviewKind,
    ReviewStatus,
    Signal,
    SignalStatus,
    SignalType,
)
from stopspread.storage.models_exchange import FeedAccess, FeedRecord

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_FEEDBACKS",
    "MAX_PAGE_SIZE",
    "VERDICTS",
    "FeedPage",
    "FeedbackResult",
    "allow",
    "case_number",
    "deny",
    "fetch",
    "is_allowed",
    "require_feed_access",
    "submit_feedback",
]

DEFAULT_PAGE_SIZE: Final = 800  # what python-threatexchange asks for
MAX_PAGE_SIZE: Final = 5_000
MAX_FEEDBACKS: Final = 1_000  # per SubmitFeedback call
_TOKEN_MAC_BYTES: Final = 12
_CASE_ID_BYTES: Final = 12

VERDICTS: Final = {"Blocked": ReviewStatus.CONFIRMED, "NotBlocked": ReviewStatus.NOT_NCII}


@dataclass(frozen=True, slots=True)
class FeedPage:
    records: list[dict[str, Any]]
    next_set_timestamp: int
    has_more: bool
    next_page_token: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "count": len(self.records),
            "nextPageToken": self.next_page_token,
            "nextSetTimestamp": self.next_set_timestamp,
            "hasMoreRecords": self.has_more,
            "hashRecords": self.records,
        }


@dataclass(slots=True)
class FeedbackResult:
    applied: int = 0  # review items that got the verdict
    unknown: int = 0  # hashes this feed does not hold (or no longer holds)
    ignored: int = 0  # feedback values other than Blocked / NotBlocked
    errors: list[str] = field(default_factory=list)


def _client_id(db: Database, name: str) -> int:
    with db.read() as session:
        cid = session.scalar(select(PlatformClient.id).where(PlatformClient.name == name))
    if cid is None:
        raise NotFoundError(f"no client named {name!r}")
    return int(cid)


def allow(db: Database, name: str) -> None:
    """Let a platform client pull the whole feed (bulk export: off by default)."""
    cid = _client_id(db, name)
    with db.write() as (session, head):
        if session.get(FeedAccess, cid) is None:
            session.add(FeedAccess(client_id=cid, allowed_at=datetime.now(UTC)))
        audit.append(session, head, audit.AuditKind.FEED_ACCESS, {"client": cid, "allowed": True})


def deny(db: Database, name: str) -> None:
    cid = _client_id(db, name)
    with db.write() as (session, head):
        row = session.get(FeedAccess, cid)
        if row is not None:
            session.delete(row)
        audit.append(session, head, audit.AuditKind.FEED_ACCESS, {"client": cid, "allowed": False})


def is_allowed(db: Database, client_id: int) -> bool:
    with db.read() as session:
        return session.get(FeedAccess, client_id) is not None


def _mac(key: str, message: str, size: int) -> str:
    return hmac.digest(key.encode(), message.encode(), "sha256")[:size].hex()


def _token(key: str, client_id: int, seq: int, ts: int) -> str:
    body = f"{seq}.{ts}"
    mac = _mac(key, f"feed-token:{client_id}:{body}", _TOKEN_MAC_BYTES)
    return base64.urlsafe_b64encode(f"{body}.{mac}".encode()).decode().rstrip("=")


def _read_token(key: str, client_id: int, token: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        seq_text, ts_text, mac = raw.split(".")
        seq, ts = int(seq_text), int(ts_text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequestError("nextPageToken is not one this feed gave") from exc
    expected = _mac(key, f"feed-token:{client_id}:{seq}.{ts}", _TOKEN_MAC_BYTES)
    if not hmac.compare_digest(mac, expected):
        raise InvalidRequestError("nextPageToken is not one this feed gave")
    return seq, ts


def case_number(key: str, client_id: int, case_id: int) -> str:
    """An opaque case id: stable for one platform, unlinkable between platforms."""
    return "c_" + _mac(key, f"feed-case:{client_id}:{case_id}", _CASE_ID_BYTES)


_SIGNAL_TYPE: Final = {FeedType.IMAGE_PDQ.value: SignalType.PDQ,
                       FeedType.VIDEO_MD5.value: SignalType.MD5}  # fmt: skip


def _cases_of(session: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], set[int]]:
    """The cases holding each published (feed type, value) (see ``publishable_clause``)."""
    held: defaultdict[tuple[str, str], set[int]] = defaultdict(set)
    if not keys:
        return held
    rows = session.execute(
        select(Signal.type, Signal.value, Bank.case_id)
        .join(Bank, Bank.id == Signal.bank_id)
        .where(Signal.value.in_([v for _k, v in keys]), publishable_clause())
    )
    for kind, value, case_id in rows:
        feed_kind = FeedType.IMAGE_PDQ if kind is SignalType.PDQ else FeedType.VIDEO_MD5
        if case_id is not None:
            held[feed_kind.value, value].add(case_id)
    return held


def fetch(
    db: Database,
    server_key: str,
    client_id: int,
    *,
    start_timestamp: int,
    page_size: int = DEFAULT_PAGE_SIZE,
    next_page_token: str | None = None,
) -> FeedPage:
    """One page of records in commit order, from ``start_timestamp`` (inclusive) or a token."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidRequestError(f"pageSize is 1 to {MAX_PAGE_SIZE}")
    stmt = select(FeedRecord.seq, FeedRecord.signal_type, FeedRecord.value, FeedRecord.status,
                  FeedRecord.modified_ts)  # fmt: skip
    floor_ts = max(start_timestamp, 0)
    if next_page_token:
        after, floor_ts = _read_token(server_key, client_id, next_page_token)
        stmt = stmt.where(FeedRecord.seq > after)
    else:
        stmt = stmt.where(FeedRecord.modified_ts >= floor_ts)
    with db.read(snapshot=True) as session:
        rows = session.execute(stmt.order_by(FeedRecord.seq).limit(page_size + 1)).all()
        page, has_more = rows[:page_size], len(rows) > page_size
        active = [(r[1], r[2]) for r in page if r[3] == FeedStatus.ACTIVE.value]
        held = _cases_of(session, active)
    records = []
    for _seq, kind, value, status, ts in page:
        cases = held.get((kind, value), set()) if status == FeedStatus.ACTIVE.value else set()
        records.append(
            {
                "lastModtimestamp": ts,
                "signalType": kind,
                "hashValue": value,
                "hashStatus": status,
                "caseNumbers": {
                    case_number(server_key, client_id, c): FeedStatus.ACTIVE.value
                    for c in sorted(cases)
                },
                "CSPFeedbacks": [],  # no platform sees another's verdicts
            }
        )
    last_ts = page[-1][4] if page else floor_ts
    token = _token(server_key, client_id, page[-1][0], last_ts) if has_more else None
    return FeedPage(records, max(last_ts, floor_ts), has_more, token)


def _signal_ids_for(session: Session, value: str) -> list[int]:
    """The active case signals (PDQ or a video's MD5) that feedback on ``value`` is about."""
    return list(
        session.scalars(
            select(Signal.id)
            .join(Bank, Bank.id == Signal.bank_id)
            .where(
                Signal.value == value,
                Signal.status == SignalStatus.ACTIVE,
                Bank.case_id.is_not(None),
                or_(Signal.type == SignalType.PDQ, Signal.from_video.is_(True)),
            )
            .order_by(Signal.id)
        )
    )


def _apply_verdict(
    svc: Services, session: Session, client: ClientInfo, signal_id: int, verdict: ReviewStatus
) -> int:
    """Attach the verdict to this platform's review item for the signal (opened if none)."""
    now = datetime.now(UTC)
    ref = match_ref(svc.server_key, client.id, signal_id)
    if session.get(MatchRef, ref) is None:
        session.add(MatchRef(ref=ref, client_id=client.id, signal_id=signal_id))
    review = session.scalars(
        select(ReviewItem).where(ReviewItem.ref == ref).order_by(ReviewItem.id.desc())
    ).first()
    if review is None:
        case_id = session.scalar(
            select(Bank.case_id)
            .join(Signal, Signal.bank_id == Bank.id)
            .where(Signal.id == signal_id)
        )
        review = ReviewItem(
            kind=ReviewKind.MATCH, status=ReviewStatus.OPEN, case_id=case_id,
            signal_id=signal_id, client_id=client.id, ref=ref, hits=1,
            created_at=now, updated_at=now,
        )  # fmt: skip
        session.add(review)
    review.platform_verdict, review.updated_at = verdict, now
    session.flush()
    return review.id


def submit_feedback(
    svc: Services, client: ClientInfo, items: Sequence[dict[str, Any]]
) -> FeedbackResult:
    """``hashFeedbacks`` entries: Blocked → confirmed, NotBlocked → not NCII; others ignored."""
    if len(items) > MAX_FEEDBACKS:
        raise InvalidRequestError(f"at most {MAX_FEEDBACKS} feedbacks a call")
    result = FeedbackResult()
    with svc.db.write() as (session, head):
        for n, item in enumerate(items):
            value = item.get("hashValue") if isinstance(item, dict) else None
            verdict = (
                VERDICTS.get(str(item.get("feedbackValue"))) if isinstance(item, dict) else None
            )
            if not isinstance(value, str) or len(value) > 64:
                result.errors.append(f"hashFeedbacks[{n}]: no hashValue")
                continue
            if verdict is None:
                result.ignored += 1
                continue
            ids = _signal_ids_for(session, value.strip().lower())
            if not ids:
                result.unknown += 1
                continue
            for sid in ids:
                review = _apply_verdict(svc, session, client, sid, verdict)
                audit.append(
                    session, head, audit.AuditKind.FEEDBACK_RECORDED,
                    {"client": client.id, "review": review, "verdict": verdict.value},
                )  # fmt: skip
                result.applied += 1
    return result


def require_feed_access(db: Database, client: ClientInfo) -> None:
    if not is_allowed(db, client.id):
        raise ForbiddenError("this client has not been allowed to pull the hash feed")
