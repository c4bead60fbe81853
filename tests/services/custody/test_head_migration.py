"""Migration 0005 moves the evidence log's head from ``meta`` to ``chain_head``: an evidence
log written before it verifies exactly as before, and a downgrade puts the head back."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from stopspread import hashchain
from stopspread.services.custody.log import read_head
from stopspread.storage import Database, upgrade
from stopspread.storage.migrate import MIGRATIONS


def _old_log(db: Database, n: int) -> hashchain.Head:
    """Entries and head as the code before 0005 wrote them (head in meta, "seq:hash")."""
    head = hashchain.Head()
    with db.engine.begin() as conn:
        for i in range(n):
            at = datetime(2026, 11, 20, 1, 30, i, tzinfo=UTC)
            link = hashchain.next_link(head, "captured", {"evidence_id": i + 1}, at)
            conn.execute(
                text("INSERT INTO evidence_log VALUES (:seq, :at, :kind, :payload, :prev, :hash)"),
                {"seq": link.seq, "at": link.at, "kind": link.kind, "payload": link.payload,
                 "prev": link.prev_hash, "hash": link.hash},
            )  # fmt: skip
            head = link.head
        conn.execute(
            text("INSERT INTO meta (key, value) VALUES ('evidence_head', :v)"),
            {"v": f"{head.seq}:{head.hash}"},
        )
    return head


def test_the_evidence_head_moves_to_chain_head_and_back(database_url: str) -> None:
    db = Database(database_url)
    upgrade(db, "0004")
    old = _old_log(db, 3)
    upgrade(db)
    with db.read() as session:
        assert read_head(session) == old
        walk = hashchain.Walk()
        rows = session.execute(text("SELECT * FROM evidence_log ORDER BY seq")).all()
        assert all(walk.step(*row) == [] for row in rows)
        assert walk.head == old
        assert session.execute(text("SELECT value FROM meta WHERE key='evidence_head'")).all() == []
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0004")
        value = conn.execute(text("SELECT value FROM meta WHERE key='evidence_head'")).scalar()
    assert value == f"{old.seq}:{old.hash}"
    db.dispose()
