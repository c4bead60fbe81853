"""Withdrawal that erases: her choice for the center's evidence, and per-case evidence keys.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("center_evidence", sa.String(16), nullable=True))
    op.create_table(
        "case_keys",
        sa.Column("case_id", ID, sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("nonce", sa.String(24), nullable=False),
        sa.Column("wrapped", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("case_keys")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("center_evidence")
