"""The benchmarks' bulk loader writes the rows the storage code writes (bench/bulk_signals.py)."""

from __future__ import annotations

import numpy as np
from bench.bulk_signals import COLUMNS, insert_signals
from sqlalchemy import insert, inspect, select

from stopspread.config import IndexKind
from stopspread.matching.policy import DEFAULT_POLICY
from stopspread.services.replica import IndexReplica
from stopspread.services.signal_input import parse_signal
from stopspread.storage import Database, upgrade
from stopspread.storage.models import Bank, Signal, SignalStatus, SignalType
from stopspread.storage.sealing import HashSealer


def _bank(db: Database) -> int:
    with db.write() as (session, _head):
        bank_id: int = session.execute(
            insert(Bank).returning(Bank.id), [{"name": "bench"}]
        ).scalar_one()
    return bank_id


def _indexes(db: Database) -> list[tuple[object, ...]]:
    found = inspect(db.engine).get_indexes("signals")
    db.dispose()
    assert len(found) == len(Signal.metadata.tables["signals"].indexes)  # as the models declare
    return sorted((i["name"], tuple(i["column_names"]), i["unique"]) for i in found)


def _rows(db: Database) -> list[tuple[object, ...]]:
    with db.read() as session:
        got = session.execute(
            select(Signal.value, *(getattr(Signal, c) for c in COLUMNS)).order_by(Signal.id)
        ).all()
    return [tuple(r) for r in got]


def _load(database_url: str, sealer: HashSealer | None) -> tuple[np.ndarray, Database]:
    db = Database(database_url, sealer)
    upgrade(db)
    indexes = _indexes(db)
    hashes = np.random.default_rng(5).integers(0, 256, (5, 32), dtype=np.uint8)
    insert_signals(db, _bank(db), hashes)
    db.dispose()
    assert _indexes(Database(database_url)) == indexes  # dropped for the load, made again
    return hashes, Database(database_url, sealer)


def test_bulk_rows_read_back_like_orm_rows(database_url: str) -> None:
    hashes, db = _load(database_url, None)
    rows = _rows(db)
    assert [r[0] for r in rows] == [h.tobytes().hex() for h in hashes]
    orm = {"type": SignalType.PDQ, "quality": 100, "status": SignalStatus.ACTIVE}
    with db.write() as (session, _head):
        session.execute(insert(Signal), [{"bank_id": rows[0][1], "value": "ab" * 32, **orm}])
    reference = _rows(db)[-1]
    for row in rows:
        # every stored column but the timestamp equals the ORM-inserted row's
        assert row[1:-2] == reference[1:-2] and row[-1] == reference[-1]
        assert abs((row[-2] - reference[-2]).total_seconds()) < 600  # type: ignore[operator]
    db.dispose()


def test_sealed_bulk_rows_open_and_load_into_the_replica(database_url: str) -> None:
    sealer = HashSealer(bytes(range(64)))
    hashes, db = _load(database_url, sealer)
    plain = Database(database_url)
    with plain.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT value FROM signals").scalars().all()
    plain.dispose()
    assert not {h.tobytes().hex() for h in hashes} & set(stored)  # sealed at rest
    replica = IndexReplica(db, IndexKind.MIH, DEFAULT_POLICY)
    replica.load()
    assert len(replica) == len(hashes)
    for n, h in enumerate(hashes, start=1):
        assert replica.lookup(parse_signal("pdq", h.tobytes().hex())) == [n]
    db.dispose()
