"""Indexes for the match path's background reads (issue 17).

Each API process reads the quarantined signals and the open review items on every journal
apply pass (services/hitbook.py, every 50 ms). Without an index on ``signals.status`` that
read scanned the whole table: 0.2 s at 1 M hashes, 2 s at 10 M, back to back on one core per
process. With these indexes each read touches only the rows it returns.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_signals_status", "signals", ["status"])
    op.create_index("ix_review_items_kind_status", "review_items", ["kind", "status"])


def downgrade() -> None:
    op.drop_index("ix_review_items_kind_status", table_name="review_items")
    op.drop_index("ix_signals_status", table_name="signals")
