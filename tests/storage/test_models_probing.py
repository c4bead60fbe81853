"""Migration 0013 creates exactly the ``edge_watch`` table the model describes."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from stopspread.storage import Database, upgrade
from stopspread.storage.models import Base
from stopspread.storage.models_probing import EdgeWatch


def test_migration_matches_the_model(database_url: str) -> None:
    assert EdgeWatch.__tablename__ in Base.metadata.tables
    db = Database(database_url)
    upgrade(db)
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    db.dispose()
    assert [d for d in diffs if "edge_watch" in repr(d)] == []
