"""Takedowns: a center's host edits, requests, their history, follow-up checks.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def _pk() -> sa.Column[int]:
    return sa.Column("id", ID, primary_key=True, autoincrement=True)


def _fk(table: str, ondelete: str | None = None) -> sa.ForeignKey:
    return sa.ForeignKey(f"{table}.id", ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "host_edits",
        _pk(),
        sa.Column("center_id", ID, _fk("centers", "CASCADE"), nullable=False),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("abuse_email", sa.String(254)),
        sa.Column("form_url", sa.Text()),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("jurisdiction", sa.String(2), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("center_id", "domain", name="uq_host_edits_center_id_domain"),
    )
    _requests()
    for table in ("takedown_events", "followup_checks"):
        _history(table)


def _requests() -> None:
    op.create_table(
        "takedown_requests",
        _pk(),
        sa.Column("reference", sa.String(64), nullable=False, unique=True),
        sa.Column("case_id", ID, _fk("cases", "CASCADE"), nullable=False),
        sa.Column("center_id", ID, _fk("centers", "CASCADE"), nullable=False),
        sa.Column("sighting_id", ID, _fk("sightings", "CASCADE"), nullable=False),
        sa.Column("previous_request_id", ID, _fk("takedown_requests")),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("page_url", sa.Text()),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("jurisdiction", sa.String(2), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("notice_text", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(300)),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("first_sent_at", TS),
        sa.Column("sent_at", TS),
        sa.Column("deadline", TS),
        sa.Column("removed_at", TS),
        sa.Column("last_check_at", TS),
        sa.Column("last_check", sa.String(16)),
    )
    op.create_index("ix_takedown_requests_case_id", "takedown_requests", ["case_id"])
    op.create_index(
        "ix_takedown_requests_center_id_status", "takedown_requests", ["center_id", "status"]
    )
    op.create_index("ix_takedown_requests_sighting_id", "takedown_requests", ["sighting_id"])


def _history(table: str) -> None:
    columns: list[sa.Column[Any]] = (
        [
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("at", TS, nullable=False),
            sa.Column("actor", sa.String(100), nullable=False),
            sa.Column("note", sa.String(500), nullable=False),
        ]
        if table == "takedown_events"
        else [
            sa.Column("at", TS, nullable=False),
            sa.Column("outcome", sa.String(16), nullable=False),
            sa.Column("http_status", sa.Integer()),
            sa.Column("reason", sa.String(200), nullable=False),
        ]
    )
    op.create_table(
        table,
        _pk(),
        sa.Column("request_id", ID, _fk("takedown_requests", "CASCADE"), nullable=False),
        *columns,
    )
    op.create_index(f"ix_{table}_request_id", table, ["request_id"])


def downgrade() -> None:
    for table in ("followup_checks", "takedown_events", "takedown_requests", "host_edits"):
        op.drop_table(table)
