"""Bulk-loading enrolled PDQ signals for the start-up and API benchmarks (10 M rows in minutes).

What is measured is the start-up and the matching, not the insert: the rows are what the
storage code writes for an enrolled hash, only the path is faster. The first row goes in
through the ORM (defaults, enum values, the UTC timestamp, the hash sealed when the database
has a hash key); every other row copies that row's stored columns with its own value
(sealed the same way). PostgreSQL takes them with ``COPY``; SQLite with ``executemany`` in
large transactions, its rollback journal off and ``synchronous=OFF`` during the load, then
its journal mode put back. On both the table's secondary indexes are dropped for the load and
made again after it from their own definitions (as a restore does: a sorted build instead of
10 M random inserts), so the schema at the end is the migrated one.
``tests/bench/test_bulk_signals.py`` checks that rows read back through the ORM equal rows
inserted through it, that the indexes are back, and that the index replica loads the rows.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Final

import numpy as np
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from stopspread.storage import Database
from stopspread.storage.models import Signal, SignalStatus, SignalType

__all__ = ["COLUMNS", "insert_signals"]

# the stored columns of a signal row but its id (assigned by the database) and value
COLUMNS: Final = (
    "bank_id",
    "type",
    "quality",
    "status",
    "match_count",
    "window_start",
    "window_matches",
    "created_at",
    "from_video",
)
CHUNK: Final = 200_000  # rows per COPY block / SQLite transaction


def _hex_rows(hashes: np.ndarray, sealer: Any) -> Iterator[list[str]]:
    """The hex values of ``hashes`` (n × 32 uint8), CHUNK at a time, sealed if asked."""
    for start in range(0, len(hashes), CHUNK):
        text = np.ascontiguousarray(hashes[start : start + CHUNK]).tobytes().hex()
        values = [text[i : i + 64] for i in range(0, len(text), 64)]
        yield values if sealer is None else [sealer.seal(v) for v in values]


def _template(db: Database, bank_id: int, first: str) -> tuple[Any, ...]:
    """Insert ``first`` through the ORM; its stored ``COLUMNS``, as the driver reads them."""
    row = {
        "bank_id": bank_id,
        "type": SignalType.PDQ,
        "value": first,
        "quality": 100,
        "status": SignalStatus.ACTIVE,
    }
    with db.write() as (session, _head):
        new_id = session.execute(insert(Signal).returning(Signal.id), [row]).scalar_one()
    with db.engine.connect() as conn:
        found = conn.exec_driver_sql(
            f"SELECT {', '.join(COLUMNS)} FROM signals WHERE id = {int(new_id)}"
        ).one()
    return tuple(found)


def _copy_text(value: object) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _load_postgresql(db: Database, template: Sequence[Any], hashes: np.ndarray) -> None:
    head = [_copy_text(v) for v in template]
    # value sits between type and quality in the COPY column list below
    before, after = "\t".join(head[:2]) + "\t", "\t" + "\t".join(head[2:]) + "\n"
    raw = db.engine.raw_connection()
    try:
        conn = raw.driver_connection
        assert conn is not None
        with conn.cursor() as cur:
            cur.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'signals' "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
            )
            indexes = cur.fetchall()
            for name, _sql in indexes:
                cur.execute(f'DROP INDEX "{name}"')
            cols = ", ".join((*COLUMNS[:2], "value", *COLUMNS[2:]))
            with cur.copy(f"COPY signals ({cols}) FROM STDIN") as copy:
                for values in _hex_rows(hashes, db.hash_sealer):
                    copy.write("".join(before + v + after for v in values))
            cur.execute("SET maintenance_work_mem = '1GB'")
            for _name, sql in indexes:
                cur.execute(sql)
            cur.execute("ANALYZE signals")  # what autovacuum would do after a big load
        conn.commit()
    finally:
        raw.close()


def _load_sqlite(db: Database, template: Sequence[Any], hashes: np.ndarray) -> None:
    path = make_url(db.url).database
    assert path is not None
    db.dispose()  # the journal mode changes only with no other connection open
    cols = ", ".join((*COLUMNS[:2], "value", *COLUMNS[2:]))
    sql = f"INSERT INTO signals ({cols}) VALUES ({', '.join('?' * (len(COLUMNS) + 1))})"
    a, b = tuple(template[:2]), tuple(template[2:])
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-1000000")  # 1 GB of page cache for the index builds
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'signals' AND sql IS NOT NULL"
        ).fetchall()
        for name, _sql in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        for values in _hex_rows(hashes, db.hash_sealer):
            conn.execute("BEGIN")
            conn.executemany(sql, ((*a, v, *b) for v in values))
            conn.execute("COMMIT")
        for _name, index_sql in indexes:
            conn.execute(index_sql)
        conn.execute("ANALYZE")
        conn.execute(f"PRAGMA journal_mode={mode}")
    finally:
        conn.close()


def insert_signals(db: Database, bank_id: int, hashes: np.ndarray) -> float:
    """Enrol ``hashes`` (n × 32 uint8 PDQ hashes, in order: ids ascend) as active signals of
    ``bank_id``; returns the seconds it took."""
    t0 = time.perf_counter()
    if len(hashes) == 0:
        return 0.0
    template = _template(db, bank_id, hashes[0].tobytes().hex())
    if len(hashes) > 1:
        load = _load_sqlite if db.is_sqlite else _load_postgresql
        load(db, template, hashes[1:])
    return time.perf_counter() - t0
