"""Alembic migrations for the service's tables; run with ``stopspread db upgrade``."""
