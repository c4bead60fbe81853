"""The evidence log's head moves beside the audit log's, on the one locked ``chain_head`` row.

Both hash chains now keep their head the same way (columns ``<log>_seq``, ``<log>_hash``);
the value is copied from ``meta['evidence_head']`` (``"seq:hash"``), so existing evidence
logs verify exactly as before.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GENESIS = "0" * 64
META = sa.table("meta", sa.column("key", sa.String), sa.column("value", sa.String))
HEAD = sa.table(
    "chain_head",
    sa.column("id", sa.Integer),
    sa.column("evidence_seq", ID),
    sa.column("evidence_hash", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("chain_head") as batch:
        batch.add_column(sa.Column("evidence_seq", ID, nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("evidence_hash", sa.String(64), nullable=False, server_default=GENESIS)
        )
    bind = op.get_bind()
    value = bind.execute(
        sa.select(META.c.value).where(META.c.key == "evidence_head")
    ).scalar_one_or_none()
    if value is not None:
        seq, _, digest = value.partition(":")
        # An unreadable head is kept as it was found (seq -1), so `evidence verify` reports it.
        fields = (
            {"evidence_seq": int(seq), "evidence_hash": digest}
            if seq.isdigit() and len(digest) == len(GENESIS)
            else {"evidence_seq": -1, "evidence_hash": digest[:64]}
        )
        bind.execute(sa.update(HEAD).where(HEAD.c.id == 1).values(**fields))
        bind.execute(sa.delete(META).where(META.c.key == "evidence_head"))


def downgrade() -> None:
    bind = op.get_bind()
    seq, digest = bind.execute(
        sa.select(HEAD.c.evidence_seq, HEAD.c.evidence_hash).where(HEAD.c.id == 1)
    ).one()
    if seq:
        bind.execute(sa.insert(META).values(key="evidence_head", value=f"{seq}:{digest}"))
    with op.batch_alter_table("chain_head") as batch:
        batch.drop_column("evidence_hash")
        batch.drop_column("evidence_seq")
