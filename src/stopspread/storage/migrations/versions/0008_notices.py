"""Notices per host: one notice lists every request of a case on a host; worker profiles
(who signs a notice); the consent a case's notices state.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)
PROFILE = (
    ("display_name", 100),
    ("role_title", 100),
    ("contact_email", 254),
    ("contact_phone", 40),
)


def upgrade() -> None:
    op.create_table(
        "takedown_notices",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("reference", sa.String(64), nullable=False, unique=True),
        sa.Column("case_id", ID, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("center_id", ID, sa.ForeignKey("centers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("jurisdiction", sa.String(2), nullable=False),
        sa.Column("sent", sa.Boolean(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("notice_text", sa.Text(), nullable=False),
        sa.Column("edited", sa.Boolean(), nullable=False),
        sa.Column("answer_by", TS),
        sa.Column("message_id", sa.String(300)),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS),
    )
    op.create_index("ix_takedown_notices_case_id", "takedown_notices", ["case_id"])
    # plain ADD COLUMN, never a batch copy: these tables have children that cascade on delete
    if op.get_bind().dialect.name == "sqlite":  # its ADD COLUMN takes the reference inline
        op.execute(
            "ALTER TABLE takedown_requests ADD COLUMN notice_id INTEGER "
            "REFERENCES takedown_notices (id)"
        )
    else:
        op.add_column(
            "takedown_requests",
            sa.Column("notice_id", ID, sa.ForeignKey("takedown_notices.id"), nullable=True),
        )
    for name, length in PROFILE:
        op.add_column(
            "workers", sa.Column(name, sa.String(length), nullable=False, server_default="")
        )
    op.add_column(
        "cases",
        sa.Column("consent_basis", sa.String(24), nullable=False, server_default="unknown"),
    )


def downgrade() -> None:
    op.drop_column("cases", "consent_basis")  # SQLite 3.35+: DROP COLUMN
    for name, _length in PROFILE:
        op.drop_column("workers", name)
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot drop a column that references another table, and copying
        # takedown_requests would cascade into its events: 0007's code ignores both, keep them.
        return
    op.drop_column("takedown_requests", "notice_id")
    op.drop_index("ix_takedown_notices_case_id", "takedown_notices")
    op.drop_table("takedown_notices")
