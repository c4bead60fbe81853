"""Banks in and out of tx files: ``stopspread bank export`` and ``bank import``.

Export writes hashes for a trusted partner (the operator runs it; audited): by default the
hashes the feed publishes (survivors' PDQ hashes of quality >= 70, as ``pdq`` lines), or one
imported bank. Import reads a tx signal file or ``tx dataset --csv`` file into a bank that is
not a case (its name says where it came from); the new signals are matched from then on and
never re-published. Malformed rows are counted and reported, never fatal.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import select

from stopspread.errors import InvalidRequestError, NotFoundError
from stopspread.services import audit
from stopspread.services.exchange.feed_log import FeedStatus, FeedType
from stopspread.services.exchange.txfile import TX_PDQ, TX_VIDEO_MD5, Malformed, TxReadResult
from stopspread.services.signal_input import parse_signal, record_change
from stopspread.storage.db import Database
from stopspread.storage.models import Bank, ChangeOp, Signal, SignalStatus, SignalType
from stopspread.storage.models_exchange import FeedRecord

__all__ = ["EXPORT_BATCH", "ImportReport", "export_rows", "import_signals"]

EXPORT_BATCH: Final = 10_000  # rows read per step


@dataclass(slots=True)
class ImportReport:
    bank: str
    added: int = 0
    duplicates: int = 0  # already in this bank (or twice in the file)
    unsupported: int = 0
    malformed: list[Malformed] = field(default_factory=list)


def _bank_id(db: Database, name: str) -> int | None:
    with db.read() as session:
        found = session.scalar(
            select(Bank.id).where(Bank.name == name, Bank.case_id.is_(None)).order_by(Bank.id)
        )
    return None if found is None else int(found)


def _tx_type(kind: SignalType) -> str:
    return TX_PDQ if kind is SignalType.PDQ else TX_VIDEO_MD5


def export_rows(db: Database, bank: str | None = None) -> Iterator[tuple[str, str]]:
    """``(tx signal type, value)`` rows; the export is audited once it has been read."""
    count = 0
    if bank is None:
        stmt = (
            select(FeedRecord.signal_type, FeedRecord.value)
            .where(FeedRecord.status == FeedStatus.ACTIVE.value)
            .order_by(FeedRecord.seq)
        )
        with db.read(snapshot=True) as session:
            for kind, value in session.execute(stmt.execution_options(yield_per=EXPORT_BATCH)):
                count += 1
                yield (TX_PDQ if kind == FeedType.IMAGE_PDQ.value else TX_VIDEO_MD5), value
    else:
        bank_id = _bank_id(db, bank)
        if bank_id is None:
            raise NotFoundError(f"no imported bank named {bank!r}")
        stmt2 = (
            select(Signal.type, Signal.value)
            .where(Signal.bank_id == bank_id, Signal.status == SignalStatus.ACTIVE)
            .order_by(Signal.id)
        )
        with db.read(snapshot=True) as session:
            for kind, value in session.execute(stmt2.execution_options(yield_per=EXPORT_BATCH)):
                count += 1
                yield _tx_type(kind), value
    with db.write() as (session, head):
        audit.append(
            session,
            head,
            audit.AuditKind.BANK_EXPORTED,
            {"bank": "cases" if bank is None else "imported", "signals": count},
        )


def import_signals(db: Database, name: str, read: TxReadResult) -> ImportReport:
    """Add the file's good rows to the imported bank ``name`` (created on first use)."""
    if not name.strip() or len(name) > 100:
        raise InvalidRequestError("a bank name is 1 to 100 characters")
    report = ImportReport(name, unsupported=read.unsupported, malformed=list(read.malformed))
    bank_id = _bank_id(db, name)
    if bank_id is not None:
        with db.read() as session:
            seen = {
                (k.value, v)
                for k, v in session.execute(
                    select(Signal.type, Signal.value).where(Signal.bank_id == bank_id)
                )
            }
    else:
        seen = set()
    fresh = []
    for item in read.signals:
        signal = parse_signal(item.kind, item.value, item.quality, item.from_video)
        if (signal.type.value, signal.value) in seen:
            report.duplicates += 1
            continue
        seen.add((signal.type.value, signal.value))
        fresh.append(signal)
    with db.write() as (session, head):
        if bank_id is None:
            bank = Bank(case_id=None, name=name)
            session.add(bank)
            session.flush()
            bank_id = bank.id
        rows = [
            Signal(bank_id=bank_id, type=s.type, value=s.value, quality=s.quality,
                   from_video=s.from_video, status=SignalStatus.ACTIVE, match_count=0,
                   window_matches=0)
            for s in fresh
        ]  # fmt: skip
        session.add_all(rows)
        session.flush()
        for row in rows:
            record_change(session, head, ChangeOp.ADD, row)
        audit.append(
            session,
            head,
            audit.AuditKind.BANK_IMPORTED,
            {"bank": bank_id, "signals": len(rows), "duplicates": report.duplicates,
             "malformed": len(report.malformed), "unsupported": report.unsupported},
        )  # fmt: skip
    report.added = len(rows)
    return report
