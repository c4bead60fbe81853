"""Storage: SQLAlchemy models, the database handle, Alembic migrations, repository queries.

Above ``matching``; below ``services``. Nothing connects at import time.
"""

from __future__ import annotations

from stopspread.storage.db import Database
from stopspread.storage.migrate import current_revision, head_revision, upgrade

__all__ = ["Database", "current_revision", "head_revision", "upgrade"]
