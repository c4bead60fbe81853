"""Storage on SQLite and PostgreSQL: migrations, pragmas, the serialised writer."""

from __future__ import annotations

import threading

from sqlalchemy import func, select, text

from stopspread.storage import Database, current_revision, head_revision, upgrade
from stopspread.storage.db import normalise_url
from stopspread.storage.models import Bank, ChainHead, Signal, SignalStatus, SignalType


def test_upgrade_creates_schema_and_is_idempotent(database_url: str) -> None:
    db = Database(database_url)
    assert current_revision(db) is None
    upgrade(db)
    upgrade(db)
    assert current_revision(db) == head_revision()
    with db.read() as session:
        head = session.get(ChainHead, 1)
        assert head is not None
        assert (head.audit_seq, head.change_seq) == (0, 0)
    db.dispose()


def test_rows_round_trip(database_url: str) -> None:
    db = Database(database_url)
    upgrade(db)
    with db.write() as (session, _head):
        bank = Bank(name="b")
        session.add(bank)
        session.flush()
        session.add(
            Signal(
                bank_id=bank.id,
                type=SignalType.PDQ,
                value="ab" * 32,
                quality=90,
                status=SignalStatus.ACTIVE,
                match_count=0,
                window_matches=0,
            )
        )
    with db.read() as session:
        signal = session.scalars(select(Signal)).one()
        assert (signal.type, signal.status, signal.quality) == (
            SignalType.PDQ,
            SignalStatus.ACTIVE,
            90,
        )
    db.dispose()


def test_writers_are_serialised(database_url: str) -> None:
    """Concurrent writers each bump the head; none is lost (no lost update, no deadlock)."""
    db = Database(database_url)
    upgrade(db)

    def bump() -> None:
        for _ in range(20):
            with db.write() as (_session, head):
                head.change_seq += 1

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.read() as session:
        assert session.scalar(select(ChainHead.change_seq)) == 80
    db.dispose()


def test_sqlite_is_wal_with_full_sync(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    upgrade(db)
    with db.read() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert session.scalar(select(func.count()).select_from(Signal)) == 0
    db.dispose()


def test_plain_postgres_urls_use_psycopg3() -> None:
    assert normalise_url("postgresql://u@h/db").startswith("postgresql+psycopg://")
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"
