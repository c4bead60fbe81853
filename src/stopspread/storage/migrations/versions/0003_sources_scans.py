"""Scans: sources, scans with progress counters, sightings and their history.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
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
        "sources",
        _pk(),
        sa.Column("case_id", ID, _fk("cases", "CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("schedule_s", sa.Integer()),
        sa.Column("next_run_at", TS),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_sources_case_id", "sources", ["case_id"])
    op.create_index("ix_sources_next_run_at", "sources", ["next_run_at"])
    _scans()
    _sightings()


def _scans() -> None:
    counters = [
        "pages",
        "media_found",
        "media_hashed",
        "hits",
        "new_sightings",
        "reuploads",
        "removed",
        "skipped",
        "errors",
    ]
    op.create_table(
        "scans",
        _pk(),
        sa.Column("source_id", ID, _fk("sources", "CASCADE"), nullable=False),
        sa.Column("case_id", ID, _fk("cases", "CASCADE"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(100), nullable=False),
        sa.Column("queued_at", TS, nullable=False),
        sa.Column("started_at", TS),
        sa.Column("finished_at", TS),
        sa.Column("heartbeat_at", TS),
        sa.Column("claimed_by", sa.String(100)),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in counters),
        sa.Column("error_kinds", sa.Text(), nullable=False),
        sa.Column("last_error", sa.Text()),
    )
    op.create_index("ix_scans_status", "scans", ["status"])
    op.create_index("ix_scans_source_id", "scans", ["source_id"])
    op.create_index("ix_scans_case_id", "scans", ["case_id"])


def _sightings() -> None:
    op.create_table(
        "sightings",
        _pk(),
        sa.Column("case_id", ID, _fk("cases", "CASCADE"), nullable=False),
        sa.Column("source_id", ID, _fk("sources", "SET NULL")),
        sa.Column("scan_id", ID, _fk("scans", "SET NULL")),
        sa.Column("media_url", sa.Text(), nullable=False),
        sa.Column("url_key", sa.String(64), nullable=False),
        sa.Column("page_url", sa.Text()),
        sa.Column("media_sha256", sa.String(64), nullable=False),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False),
        sa.Column("signal_type", sa.String(16), nullable=False),
        sa.Column("signal_id", ID, _fk("signals", "SET NULL")),
        sa.Column("match_kind", sa.String(16), nullable=False),
        sa.Column("review_status", sa.String(16), nullable=False),
        sa.Column("reviewed_by", sa.String(100)),
        sa.Column("reviewed_at", TS),
        sa.Column("removed_at", TS),
        sa.Column("reupload", sa.Boolean(), nullable=False),
        sa.Column("reupload_of", ID, _fk("sightings")),
        sa.Column("same_content_as", ID, _fk("sightings")),
        sa.Column("media_evidence_id", ID, _fk("evidence_records"), nullable=False),
        sa.Column("page_evidence_id", ID, _fk("evidence_records")),
    )
    op.create_index("ix_sightings_case_id_url_key", "sightings", ["case_id", "url_key"])
    op.create_index("ix_sightings_case_id_media_sha256", "sightings", ["case_id", "media_sha256"])
    op.create_index("ix_sightings_case_id_review_status", "sightings", ["case_id", "review_status"])
    op.create_table(
        "sighting_events",
        _pk(),
        sa.Column("sighting_id", ID, _fk("sightings", "CASCADE"), nullable=False),
        sa.Column("scan_id", ID, _fk("scans", "SET NULL")),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("detail", sa.String(200), nullable=False),
        sa.Column("evidence_id", ID, _fk("evidence_records")),
    )
    op.create_index("ix_sighting_events_sighting_id", "sighting_events", ["sighting_id"])


def downgrade() -> None:
    for table in ("sighting_events", "sightings", "scans", "sources"):
        op.drop_table(table)
