"""Migration 0012 (issue 17): the indexes the journal's apply pass reads through exist as
the models describe them (SQLite and PostgreSQL), and the reads use them instead of scanning
every signal (0.2 s a pass at 1 M hashes, 2 s at 10 M, before)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from stopspread.storage import Database, upgrade
from stopspread.storage.models import Base, Signal, SignalStatus

INDEXES = ("ix_signals_status", "ix_review_items_kind_status")


def test_the_indexes_match_the_models(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgrade(db)
        with db.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            names = {i["name"] for t in ("signals", "review_items") for i in _indexes(conn, t)}
        assert [d for d in diffs if any(name in repr(d) for name in INDEXES)] == []
        assert set(INDEXES) <= names
    finally:
        db.dispose()


def test_the_quarantined_read_uses_the_index(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    try:
        upgrade(db)
        query = select(Signal.id).where(Signal.status == SignalStatus.QUARANTINED)
        with db.engine.connect() as conn:
            sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
            plan = " ".join(str(row) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
        assert "ix_signals_status" in plan
        assert "SCAN signals" not in plan
    finally:
        db.dispose()


def _indexes(conn: sa.Connection, table: str) -> list[sa.engine.interfaces.ReflectedIndex]:
    return sa.inspect(conn).get_indexes(table)
