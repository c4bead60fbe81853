"""Keypoint records (``ss-kp-1``) of enrolled photos, sealed with the case key (issue 14).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "keypoint_records",
        sa.Column("id", ID, primary_key=True),
        sa.Column("case_id", ID, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("signal_id", ID, sa.ForeignKey("signals.id", ondelete="SET NULL")),
        sa.Column("version", sa.String(16), nullable=False),
        sa.Column("nonce", sa.String(24), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_keypoint_records_case_id", "keypoint_records", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_keypoint_records_case_id", "keypoint_records")
    op.drop_table("keypoint_records")
