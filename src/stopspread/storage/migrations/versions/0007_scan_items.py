"""Batch scans: the files a scan has finished with, so a resumed scan skips them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "scan_items",
        sa.Column("scan_id", ID, sa.ForeignKey("scans.id", ondelete="CASCADE"), nullable=False),
        sa.Column("url_key", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(60), nullable=False),
        sa.PrimaryKeyConstraint("scan_id", "url_key"),
    )


def downgrade() -> None:
    op.drop_table("scan_items")
