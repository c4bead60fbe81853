"""Migration 0006 creates exactly the exchange tables the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from stopspread.storage import Database, upgrade
from stopspread.storage.models import Base
from stopspread.storage.models_exchange import FeedAccess, FeedRecord

TABLES = ("'feed_records'", "'feed_access'", "'exchange_peers'", "from_video")


def test_migration_matches_the_models(database_url: str) -> None:
    assert FeedRecord.__tablename__ in Base.metadata.tables
    assert FeedAccess.__tablename__ in Base.metadata.tables
    db = Database(database_url)
    upgrade(db)
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    db.dispose()
    assert [d for d in diffs if any(name in repr(d) for name in TABLES)] == []
