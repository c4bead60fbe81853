"""Column types shared by the models.

:class:`UtcDateTime` is the one place that deals with time zones in the database: SQLite has
no zone-aware type (SQLAlchemy stores the wall time and hands back a naive value) while
PostgreSQL's ``timestamptz`` answers in the session's zone. Every model column of a moment in
time uses it, so services always get aware UTC datetimes and never patch values themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["UtcDateTime"]


class UtcDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that stores UTC and always returns aware UTC datetimes.

    A naive value given to it is taken as UTC (what the code has always stored); an aware one
    is converted to UTC first. The schema is unchanged: the column is still
    ``DateTime(timezone=True)`` (``TIMESTAMP WITH TIME ZONE`` on PostgreSQL).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return _utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return _utc(value)


def _utc(value: datetime | None) -> datetime | None:
    """Naive: taken as UTC (SQLite keeps no zone); aware: converted to UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
