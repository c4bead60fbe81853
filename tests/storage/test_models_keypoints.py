"""The kpscan migration creates exactly the keypoint_records table the model describes."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from stopspread.storage import Database, upgrade
from stopspread.storage.models import Base
from stopspread.storage.models_keypoints import KeypointRecord


def test_migration_matches_the_model(database_url: str) -> None:
    assert KeypointRecord.__tablename__ in Base.metadata.tables
    db = Database(database_url)
    upgrade(db)
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    db.dispose()
    assert [d for d in diffs if "keypoint_records" in repr(d)] == []
