"""Migration 0002 creates exactly the worker and evidence tables the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from stopspread.storage import Database, upgrade
from stopspread.storage.models import Base
from stopspread.storage.models_worker import EvidenceRecord

WORKER_TABLES = (
    "'centers'",
    "'workers'",
    "'worker_sessions'",
    "'case_assignments'",
    "'evidence_records'",
    "'evidence_log'",
)


def test_migration_matches_the_models(database_url: str) -> None:
    assert EvidenceRecord.__tablename__ in Base.metadata.tables
    db = Database(database_url)
    upgrade(db)
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    db.dispose()
    assert [d for d in diffs if any(name in repr(d) for name in WORKER_TABLES)] == []
