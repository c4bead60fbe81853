"""``UtcDateTime``: aware UTC datetimes back from SQLite and PostgreSQL; no schema change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import DateTime, text

from stopspread.storage import Database, upgrade
from stopspread.storage import models_takedown as _takedown  # noqa: F401  (every table)
from stopspread.storage.models import Base, Case, CaseStatus
from stopspread.storage.types import UtcDateTime

KST = timezone(timedelta(hours=9))


def test_every_moment_column_uses_it() -> None:
    columns = [c for t in Base.metadata.tables.values() for c in t.columns]
    assert [c for c in columns if isinstance(c.type, DateTime)] == []  # a plain one
    assert len([c for c in columns if isinstance(c.type, UtcDateTime)]) >= 30


def test_no_type_differences_from_the_migrations(database_url: str) -> None:
    db = Database(database_url)
    upgrade(db)
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    db.dispose()
    moments = {
        (t.name, c.name)
        for t in Base.metadata.tables.values()
        for c in t.columns
        if isinstance(c.type, UtcDateTime)
    }
    changes = [c for d in diffs for c in (d if isinstance(d, list) else [d])]
    assert [c for c in changes if tuple(c[2:4]) in moments] == []


def test_values_come_back_aware_and_in_utc(database_url: str) -> None:
    db = Database(database_url)
    upgrade(db)
    naive = datetime(2026, 1, 2, 3, 4, 5)  # taken as UTC, as the code always stored it
    seoul = datetime(2026, 1, 2, 12, 4, 5, tzinfo=KST)  # the same moment
    with db.write() as (session, _head):
        for code, at in (("A", naive), ("B", seoul)):
            session.add(
                Case(
                    code=code,
                    secret_hash="x",
                    status=CaseStatus.ACTIVE,
                    attempt_tokens=1.0,
                    attempt_at=at,
                    signals_withdrawn=0,
                )
            )
    with db.read() as session:
        got = [c.attempt_at for c in session.query(Case).order_by(Case.code)]
        raw = session.execute(text("SELECT attempt_at FROM cases ORDER BY code")).scalars().all()
    db.dispose()
    want = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert got == [want, want]
    assert all(g.tzinfo is UTC for g in got)
    if database_url.startswith("sqlite"):  # the stored text is the UTC wall time
        assert [str(r)[:19] for r in raw] == ["2026-01-02 03:04:05"] * 2
