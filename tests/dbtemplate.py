"""Migrated test databases from a template: the migrations run once per session, not per test.

Bringing an empty database through every Alembic migration costs about a second of Python
(SQLAlchemy building each table and index), on SQLite and PostgreSQL alike, and hundreds of
tests need a migrated database. Each test still gets a database of its own, a copy of one
migrated once in this session:

- SQLite: :func:`seed` writes the template file's bytes into a database file that does not
  exist yet (or is empty); ``make_services``, ``live_server`` and ``new_client_key`` call it;
- PostgreSQL: ``database_url`` is made by ``CREATE DATABASE ... TEMPLATE`` (``PgCluster``)
  when the test uses the ``migrated_database`` fixture (modules that only ever use their
  database through services say ``pytestmark = pytest.mark.usefixtures("migrated_database")``).

Callers run ``upgrade`` afterwards as before (a no-op at head).

The migrations themselves stay proven from an empty database: the tests in ``tests/storage``
(``test_db``, ``test_migration_*``, ``test_types``), ``stopspread db upgrade`` in
``tests/cli`` and every ``stopspread serve`` subprocess call ``upgrade`` without this module;
and the template is made by those same migrations, whatever revisions the tree holds.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from stopspread.storage import Database, upgrade

__all__ = ["seed"]

_sqlite_template: bytes | None = None


def _sqlite_template_bytes() -> bytes:
    """A SQLite database migrated to head, made once per session (WAL checkpointed)."""
    global _sqlite_template
    if _sqlite_template is None:
        path = Path(tempfile.mkdtemp(prefix="stopspread-template-")) / "template.db"
        db = Database(f"sqlite:///{path}")
        upgrade(db)
        db.dispose()  # the last connection closing checkpoints the WAL into the file
        _sqlite_template = path.read_bytes()
    return _sqlite_template


def _seed_sqlite(path: Path) -> None:
    if path.exists() and path.stat().st_size > 0:
        return  # not empty: upgrade() does whatever is left
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # 0600, as the Database creates its files (tests/security checks the modes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(_sqlite_template_bytes())


def seed(url: str) -> None:
    """Give an empty SQLite database at ``url`` the migrated template's schema and rows (call
    it before anything connects to it, then ``upgrade`` as usual); other URLs are left alone."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        _seed_sqlite(Path(parsed.database))
