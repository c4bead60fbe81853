"""Migration 0008_notices on a database that already holds a center, a worker and a case: the
rows survive, the new columns get their defaults, and the schema is the models' (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from stopspread.storage import Database, upgrade
from stopspread.storage.models import Case
from stopspread.storage.models_worker import Worker
from stopspread.takedown.consent import ConsentBasis

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_existing_rows_keep_working_after_0008(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgrade(db, "0007")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO centers (id, name, created_at) VALUES (1, '서울', :now)"),
                {"now": NOW},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO workers (id, center_id, username, role, password_hash, active,"
                    " failed_logins, created_at) VALUES (1, 1, 'hana', 'worker', 'x', :t, 0, :now)"
                ),
                {"now": NOW, "t": True},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO cases (id, code, status, attempt_tokens, attempt_at, created_at,"
                    " signals_withdrawn) VALUES (1, 'C-1', 'active', 5, :now, :now, 0)"
                ),
                {"now": NOW},
            )
        upgrade(db)
        with db.read() as session:
            worker = session.get(Worker, 1)
            case = session.get(Case, 1)
            assert worker is not None and worker.username == "hana"
            assert (worker.display_name, worker.role_title, worker.contact_email) == ("", "", "")
            assert case is not None and case.consent_basis is ConsentBasis.UNKNOWN
        inspector = sa.inspect(db.engine)
        columns = {c["name"] for c in inspector.get_columns("takedown_requests")}
        assert "notice_id" in columns
        assert {fk["referred_table"] for fk in inspector.get_foreign_keys("takedown_requests")} >= {
            "takedown_notices"
        }
    finally:
        db.dispose()
