"""Keeping ``feed_records`` current inside every write that changes a signal.

:func:`on_signal_change` is called by ``record_change`` (the change-log append) inside the
locked write transaction, so a feed record's ``seq`` is the change log's sequence number:
commit order, never reused, never skipped. ``modified_ts`` (unix seconds) is assigned in the
same order and never decreases, so ``startTimestamp`` / ``nextSetTimestamp`` checkpoints are
safe to resume from.

What the feed carries (one record per hash, aggregated over cases):

- PDQ hashes of case banks with an enrolled quality >= :data:`FEED_MIN_QUALITY`, as
  ``ImagePDQ`` (video frames are PDQ hashes too);
- MD5 hashes of video files as ``VideoMD5`` (the survivor's app and ``case create`` say
  which MD5s came from a video); an image's MD5 is not published (the format has no type
  for it);
- when the last case holding a hash withdraws it, or the signal is quarantined, the record
  becomes a tombstone (``Withdrawn`` / ``Deleted``) with a newer timestamp; tombstones are
  purged after :data:`TOMBSTONE_RETENTION_S`.
"""

from __future__ import annotations

import enum
import time
from typing import Final

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.orm import Session

from stopspread.storage.db import Database
from stopspread.storage.models import Bank, ChangeOp, Signal, SignalStatus, SignalType
from stopspread.storage.models_exchange import FeedRecord

__all__ = [
    "FEED_MIN_QUALITY",
    "TOMBSTONE_RETENTION_S",
    "FeedStatus",
    "FeedType",
    "feed_type",
    "on_signal_change",
    "publishable_clause",
    "purge_expired",
    "purge_tombstones",
]

# Consumers match at 31 bits with no quality rule of their own: publish only hashes whose
# enrolled quality makes a 31-bit match meaningful.
FEED_MIN_QUALITY: Final = 70
_TS_KEY: Final = "stopspread.feed_ts"
_BANKS_KEY: Final = "stopspread.feed_banks"
# 30 days of withdrawal notice plus 7 days for the slowest documented fetch interval.
TOMBSTONE_RETENTION_S: Final = (30 + 7) * 24 * 3600


class FeedType(enum.StrEnum):
    IMAGE_PDQ = "ImagePDQ"
    VIDEO_MD5 = "VideoMD5"


class FeedStatus(enum.StrEnum):
    ACTIVE = "Active"
    WITHDRAWN = "Withdrawn"  # the survivor withdrew every case holding the hash
    DELETED = "Deleted"  # quarantined (matched far more than others): pulled until reviewed


def feed_type(signal: Signal) -> FeedType | None:
    """The feed type of a signal; ``None``: not published (an image's MD5)."""
    if signal.type is SignalType.PDQ:
        return FeedType.IMAGE_PDQ
    return FeedType.VIDEO_MD5 if signal.from_video else None


def publishable_clause() -> ColumnElement[bool]:
    """SQL: a signal the feed may publish (with its bank joined: a case's bank)."""
    return and_(
        Signal.status == SignalStatus.ACTIVE,
        Bank.case_id.is_not(None),
        or_(
            and_(Signal.type == SignalType.PDQ, Signal.quality >= FEED_MIN_QUALITY),
            and_(Signal.type == SignalType.MD5, Signal.from_video.is_(True)),
        ),
    )


def _publishable(signal: Signal, case_id: int | None) -> bool:
    if case_id is None:
        return False
    if signal.type is SignalType.MD5:
        return bool(signal.from_video)
    return signal.quality is not None and signal.quality >= FEED_MIN_QUALITY


def _next_ts(session: Session) -> int:
    """This transaction's timestamp: now, or the last one given if the clock went back.

    Computed once per transaction (kept in ``session.info``; a write session lives for one
    transaction): every change of one commit gets the same second.
    """
    if _TS_KEY not in session.info:
        # the newest record by seq has the largest timestamp (both grow together)
        last = session.scalar(
            select(FeedRecord.modified_ts).order_by(FeedRecord.seq.desc()).limit(1)
        )
        session.info[_TS_KEY] = max(int(time.time()), int(last or 0))
    ts: int = session.info[_TS_KEY]
    return ts


def _case_of(session: Session, bank_id: int) -> int | None:
    """The bank's case (``None``: not a case bank), cached for the transaction."""
    cache: dict[int, int | None] = session.info.setdefault(_BANKS_KEY, {})
    if bank_id not in cache:
        cache[bank_id] = session.scalar(select(Bank.case_id).where(Bank.id == bank_id))
    return cache[bank_id]


def _others_hold(session: Session, signal: Signal, withdrawal: bool) -> bool:
    """Does another active, publishable signal of a case hold the same hash?"""
    stmt = (
        select(Signal.id)
        .join(Bank, Bank.id == Signal.bank_id)
        .where(
            Signal.type == signal.type,
            Signal.value == signal.value,
            Signal.id != signal.id,
            publishable_clause(),
        )
        .limit(1)
    )
    if withdrawal:  # the whole bank goes in this transaction: its rows do not count
        stmt = stmt.where(Signal.bank_id != signal.bank_id)
    return session.scalar(stmt) is not None


def on_signal_change(session: Session, seq: int, op: ChangeOp, signal: Signal) -> None:
    """Bring the signal's feed record up to date (inside the caller's locked write)."""
    kind = feed_type(signal)
    if kind is None:
        return
    case_id = _case_of(session, signal.bank_id)
    if case_id is None:
        return  # imported and exchanged banks are not re-published
    record = session.scalars(
        select(FeedRecord).where(
            FeedRecord.signal_type == kind.value, FeedRecord.value == signal.value
        )
    ).one_or_none()
    if op is ChangeOp.ADD:
        if not _publishable(signal, case_id):
            return
        status = FeedStatus.ACTIVE
    else:
        if record is None:
            return
        withdrawal = signal.status is not SignalStatus.QUARANTINED
        if _others_hold(session, signal, withdrawal):
            status = FeedStatus.ACTIVE  # its cases changed: bumped all the same
        else:
            status = FeedStatus.WITHDRAWN if withdrawal else FeedStatus.DELETED
    ts = _next_ts(session)
    if record is None:
        session.add(
            FeedRecord(
                signal_type=kind.value,
                value=signal.value,
                status=status.value,
                seq=seq,
                modified_ts=ts,
            )
        )
    else:
        record.status, record.seq, record.modified_ts = status.value, seq, ts


def purge_tombstones(session: Session, retention_s: int = TOMBSTONE_RETENTION_S) -> int:
    """Delete tombstones older than the retention; returns how many went."""
    cutoff = int(time.time()) - retention_s
    result = session.execute(
        delete(FeedRecord).where(
            FeedRecord.status != FeedStatus.ACTIVE.value, FeedRecord.modified_ts < cutoff
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def purge_expired(db: Database, retention_s: int = TOMBSTONE_RETENTION_S) -> int:
    """:func:`purge_tombstones` in a write transaction of its own (``feed purge``)."""
    with db.write() as (session, _head):
        return purge_tombstones(session, retention_s)
