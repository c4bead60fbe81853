"""The probing detector's lasting state: signals under attack (issue 18, finding 2).

``edge_watch`` holds, per signal whose edge evidence reached the throttle level, until when
its edge answers are blurred and whether its alarm went off; every process reloads it at
start-up and on each poll (services/probing_state.py). No hash value is stored.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "edge_watch",
        sa.Column(
            "signal_id",
            Id,
            sa.ForeignKey("signals.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("alarmed", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_edge_watch_until", "edge_watch", ["until"])


def downgrade() -> None:
    op.drop_index("ix_edge_watch_until", table_name="edge_watch")
    op.drop_table("edge_watch")
