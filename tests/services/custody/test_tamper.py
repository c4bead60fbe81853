"""Flip one byte in a random evidence file, or one field of a random row: verify names it.

One small store is built once; each try damages one thing, runs the library check, then puts
the thing back (file bytes restored; database changes rolled back). Seeded, so a failure
can be replayed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import Engine, delete, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stopspread.services.custody.verify import check
from stopspread.storage.models_worker import EvidenceLogEntry
from tests.services.custody.conftest import Stored

TRIES = 1_000
SEED = 20261125
RECORD_FIELDS = (
    "id", "case_id", "kind", "url", "http_status", "content_type", "warc_record_id", "sha256",
    "payload_sha256", "size", "cipher_sha256", "nonce", "file_name", "captured_at",
    "captured_at_kst", "reason", "log_seq",
)  # fmt: skip
LOG_FIELDS = ("seq", "at", "kind", "payload", "prev_hash", "entry_hash")


@dataclass(frozen=True)
class Damage:
    where: str
    expected: frozenset[str]  # a problem must name one of these items


def _mutate(value: object, rng: random.Random) -> object:
    if isinstance(value, int):
        return value ^ (1 << rng.randrange(12))
    assert isinstance(value, str) and value
    i = rng.randrange(len(value))
    return value[:i] + chr(ord(value[i]) ^ (1 << rng.randrange(5))) + value[i + 1 :]


def _damage_file(stored: Stored, rng: random.Random) -> tuple[Damage, bytes, str]:
    with Session(stored.svc.db.engine) as session:
        rows = session.execute(text("SELECT id, file_name FROM evidence_records")).all()
    evidence_id, name = rng.choice(rows)
    path = stored.store.root / name
    original = path.read_bytes()
    data = bytearray(original)
    data[rng.randrange(len(data))] ^= rng.randrange(1, 256)
    path.write_bytes(bytes(data))
    return Damage(f"file {name}", frozenset({f"evidence {evidence_id}"})), original, name


def _damage_row(session: Session, rng: random.Random) -> Damage:
    table = rng.choice(["evidence_records", "evidence_log", "chain_head"])
    if table == "chain_head":
        column = rng.choice(["evidence_seq", "evidence_hash"])
        (value,) = session.execute(text(f"SELECT {column} FROM chain_head WHERE id=1")).one()
        new = _mutate(value, rng)
        session.execute(text(f"UPDATE chain_head SET {column}=:v WHERE id=1"), {"v": new})
        return Damage(f"chain_head.{column}", frozenset({"log head"}))
    key, fields = ("id", RECORD_FIELDS) if table == "evidence_records" else ("seq", LOG_FIELDS)
    column = rng.choice(fields)
    rows = session.execute(text(f"SELECT {key}, {column} FROM {table}")).all()
    row_key, value = rng.choice(rows)
    new = _mutate(value, rng)
    session.execute(
        text(f"UPDATE {table} SET {column}=:v WHERE {key}=:k"),
        {"v": new, "k": row_key},
    )
    if table == "evidence_log":
        names = {f"log entry {row_key}"} | ({f"log entry {new}"} if column == "seq" else set())
        return Damage(f"log entry {row_key}.{column}", frozenset(names))
    seq = session.execute(
        text("SELECT log_seq FROM evidence_records WHERE id=:k"),
        {"k": new if column == "id" else row_key},
    ).scalar_one()
    names = {f"evidence {row_key}", f"log entry {seq}"} | (
        {f"evidence {new}"} if column == "id" else set()
    )
    return Damage(f"evidence {row_key}.{column}", frozenset(names))


def _try_once(stored: Stored, engine: Engine, rng: random.Random) -> Damage | None:
    if rng.random() < 0.5:
        damage, original, name = _damage_file(stored, rng)
        try:
            with Session(engine) as session:
                report = check(session, stored.store)
        finally:
            (stored.store.root / name).write_bytes(original)
    else:
        with Session(engine) as session:
            try:
                damage = _damage_row(session, rng)
                session.flush()
            except IntegrityError:  # the flipped key collided with another row: try again
                return None
            report = check(session, stored.store)
            session.rollback()
    assert not report.ok, f"{damage.where} went unnoticed"
    named = {p.item for p in report.problems}
    assert named & damage.expected, f"{damage.where}: problems {report.problems}"
    return damage


def test_every_single_damage_is_detected(stored_sqlite: Stored) -> None:
    rng = random.Random(SEED)
    engine = stored_sqlite.svc.db.engine
    with Session(engine) as session:
        assert check(session, stored_sqlite.store).ok
    done = 0
    kinds: set[str] = set()
    while done < TRIES:
        damage = _try_once(stored_sqlite, engine, rng)
        if damage is not None:
            done += 1
            kinds.add("file" if damage.where.startswith("file") else damage.where.split(".")[-1])
    assert {"file", "evidence_seq", "evidence_hash", "id", "seq", "payload", "sha256"} <= kinds
    with Session(engine) as session:
        assert check(session, stored_sqlite.store).ok  # everything was put back


def test_deleted_last_entry_and_row_are_detected(stored_sqlite: Stored) -> None:
    with Session(stored_sqlite.svc.db.engine) as session:
        session.execute(text("DELETE FROM evidence_records WHERE log_seq = 3"))
        session.execute(delete(EvidenceLogEntry).where(EvidenceLogEntry.seq == 3))
        report = check(session, stored_sqlite.store)
        session.rollback()
    assert [p.item for p in report.problems] == ["log head"]


def test_deleted_file_is_detected(stored_sqlite: Stored) -> None:
    path = next(stored_sqlite.store.root.rglob("*.warc.aes"))
    path.unlink()
    with Session(stored_sqlite.svc.db.engine) as session:
        report = check(session, stored_sqlite.store)
    assert len(report.problems) == 1 and "cannot be read" in report.problems[0].message
