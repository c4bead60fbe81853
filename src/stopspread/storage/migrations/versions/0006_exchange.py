"""Exchange: the feed's records (with tombstones), its opt-in list, the centers we pull.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # A plain ALTER TABLE ADD COLUMN: a batch copy of ``signals`` on SQLite would drop its
    # AUTOINCREMENT, and withdrawn ids must never be reused.
    op.add_column(
        "signals",
        sa.Column("from_video", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "feed_records",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("signal_type", sa.String(16), nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("seq", ID, nullable=False),
        sa.Column("modified_ts", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("signal_type", "value", name="uq_feed_records_signal_type_value"),
    )
    op.create_index("ix_feed_records_seq", "feed_records", ["seq"], unique=True)
    op.create_index("ix_feed_records_status_modified_ts", "feed_records", ["status", "modified_ts"])
    op.create_table(
        "feed_access",
        sa.Column(
            "client_id",
            ID,
            sa.ForeignKey("platform_clients.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("allowed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "exchange_peers",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("api_key", sa.String(200), nullable=False),
        sa.Column("bank_id", ID, sa.ForeignKey("banks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("checkpoint_ts", sa.BigInteger(), nullable=False),
        sa.Column("page_token", sa.String(200)),
        sa.Column("feedback_sent_at", sa.DateTime(timezone=True)),
        sa.Column("last_pull_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.String(200)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("name", name="uq_exchange_peers_name"),
    )


def downgrade() -> None:
    op.drop_table("exchange_peers")
    op.drop_table("feed_access")
    op.drop_table("feed_records")
    with op.batch_alter_table(
        "signals", table_kwargs={"sqlite_autoincrement": True}
    ) as batch:  # keep AUTOINCREMENT when SQLite copies the table
        batch.drop_column("from_video")
