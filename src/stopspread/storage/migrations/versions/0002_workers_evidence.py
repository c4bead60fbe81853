"""Support workers and evidence: centers, workers, sessions, assignments, evidence + its log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def _pk(name: str = "id") -> sa.Column[int]:
    return sa.Column(name, ID, primary_key=True, autoincrement=name == "id")


def upgrade() -> None:
    op.create_table(
        "centers",
        _pk(),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "workers",
        _pk(),
        sa.Column("center_id", ID, sa.ForeignKey("centers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("username", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_login_at", TS),
    )
    op.create_index("ix_workers_center_id", "workers", ["center_id"])
    op.create_table(
        "worker_sessions",
        _pk(),
        sa.Column("worker_id", ID, sa.ForeignKey("workers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_index("ix_worker_sessions_worker_id", "worker_sessions", ["worker_id"])
    op.create_table(
        "case_assignments",
        _pk(),
        sa.Column("case_id", ID, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("center_id", ID, sa.ForeignKey("centers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("assigned_by", sa.String(100), nullable=False),
        sa.Column("assigned_at", TS, nullable=False),
        sa.UniqueConstraint("case_id", "center_id"),
    )
    op.create_index("ix_case_assignments_center_id", "case_assignments", ["center_id"])
    _evidence()


def _evidence() -> None:
    op.create_table(
        "evidence_records",
        _pk(),
        sa.Column("case_id", ID, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(200), nullable=False),
        sa.Column("warc_record_id", sa.String(100), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("payload_sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("cipher_sha256", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(24), nullable=False),
        sa.Column("file_name", sa.String(100), nullable=False),
        sa.Column("captured_at", sa.String(40), nullable=False),
        sa.Column("captured_at_kst", sa.String(40), nullable=False),
        sa.Column("reason", sa.String(100), nullable=False),
        sa.Column("log_seq", ID, nullable=False),
    )
    op.create_index("ix_evidence_records_case_id", "evidence_records", ["case_id"])
    op.create_table(
        "evidence_log",
        _pk("seq"),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "evidence_log",
        "evidence_records",
        "case_assignments",
        "worker_sessions",
        "workers",
        "centers",
    ):
        op.drop_table(table)
