"""The service's first tables: cases, banks, signals, clients, refs, reviews, audit, changes.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def _pk(name: str = "id") -> sa.Column[int]:
    return sa.Column(name, ID, primary_key=True, autoincrement=name == "id")


def upgrade() -> None:
    op.create_table(
        "cases",
        _pk(),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("secret_hash", sa.String(200)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempt_tokens", sa.Float(), nullable=False),
        sa.Column("attempt_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("withdrawn_at", TS),
        sa.Column("signals_withdrawn", sa.Integer(), nullable=False),
    )
    op.create_table(
        "banks",
        _pk(),
        sa.Column("case_id", ID, sa.ForeignKey("cases.id", ondelete="CASCADE")),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "signals",
        _pk(),
        sa.Column("bank_id", ID, sa.ForeignKey("banks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("quality", sa.Integer()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("match_count", sa.Integer(), nullable=False),
        sa.Column("window_start", TS),
        sa.Column("window_matches", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sqlite_autoincrement=True,  # ids are never reused: a withdrawn id never comes back
    )
    op.create_index("ix_signals_type_value", "signals", ["type", "value"])
    op.create_index("ix_signals_bank_id", "signals", ["bank_id"])
    op.create_table(
        "platform_clients",
        _pk(),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("can_hash", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    _refs_and_reviews()
    _logs()


def _refs_and_reviews() -> None:
    client_fk = sa.ForeignKey("platform_clients.id", ondelete="CASCADE")
    op.create_table(
        "match_refs",
        sa.Column("ref", sa.String(64), primary_key=True),
        sa.Column("client_id", ID, client_fk, nullable=False),
        sa.Column("signal_id", ID, sa.ForeignKey("signals.id", ondelete="SET NULL")),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_match_refs_signal_id", "match_refs", ["signal_id"])
    op.create_table(
        "review_items",
        _pk(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("case_id", ID, sa.ForeignKey("cases.id", ondelete="CASCADE")),
        sa.Column("signal_id", ID, sa.ForeignKey("signals.id", ondelete="SET NULL")),
        sa.Column("client_id", ID, sa.ForeignKey("platform_clients.id", ondelete="SET NULL")),
        sa.Column("ref", sa.String(64)),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("platform_verdict", sa.String(16)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_review_items_case_id_status", "review_items", ["case_id", "status"])
    op.create_index("ix_review_items_ref", "review_items", ["ref"])


def _logs() -> None:
    op.create_table(
        "index_changes",
        _pk("seq"),
        sa.Column("op", sa.String(16), nullable=False),
        sa.Column("signal_id", ID, nullable=False),
        sa.Column("signal_type", sa.String(16), nullable=False),
    )
    op.create_table(
        "audit_events",
        _pk("seq"),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    head = op.create_table(
        "chain_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("audit_seq", ID, nullable=False),
        sa.Column("audit_hash", sa.String(64), nullable=False),
        sa.Column("change_seq", ID, nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "audit_seq": 0, "audit_hash": "0" * 64, "change_seq": 0}])
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "meta",
        "chain_head",
        "audit_events",
        "index_changes",
        "review_items",
        "match_refs",
        "platform_clients",
        "signals",
        "banks",
        "cases",
    ):
        op.drop_table(table)
