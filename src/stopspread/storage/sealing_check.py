"""At start: is the hash key the one the database's values were sealed with? (issue 18)

Sealing is on by default (``seal_hashes``). A database whose values were sealed keeps, in its
``meta`` table, the key's check value (:meth:`HashSealer.key_check`: a fixed value sealed, which
tells nothing about the key nor any hash). :func:`verify_hash_key` runs whenever the services
or a command open the database and raises :class:`HashKeyError` — never matching nothing in
silence — when

- sealing is off (or the key is missing) but the database holds sealed values, or
- the key is another one than the values were sealed with (a lost or swapped key file).

With the right key it seals, once, the values still stored in the clear (a deployment that
ran without sealing): :func:`seal_existing` row by row, idempotent, then records the check
value. ``stopspread db seal`` runs the same on demand.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import Table, text
from sqlalchemy.orm import Session

from stopspread.errors import ConfigError, HashKeyError
from stopspread.storage.db import Database
from stopspread.storage.models import Meta, Signal
from stopspread.storage.models_exchange import FeedRecord
from stopspread.storage.sealing import KEY_CHECK_NAME, HashSealer, is_plain, seal_existing

__all__ = ["PROBE_ROWS", "verify_hash_key"]

PROBE_ROWS: Final = 100  # stored values looked at to tell sealed ones without a check value
_TABLES: Final[tuple[Table, ...]] = (Signal.__table__, FeedRecord.__table__)  # type: ignore[assignment]


def verify_hash_key(db: Database, *, seal_all: bool = False) -> int:
    """Check the hash key against the database; seal values stored in the clear the first
    time (or always, with ``seal_all``). Returns how many values were sealed now."""
    sealer = db.hash_sealer
    with db.read() as session:
        row = session.get(Meta, KEY_CHECK_NAME)
        check = None if row is None else row.value
        sample = [v for table in _TABLES for v in _sample(session, table)]
    sealed_seen = [v for v in sample if not is_plain(v)]
    if sealer is None:
        if check is not None or sealed_seen:
            raise HashKeyError(
                "the database holds sealed hash values but hash sealing is off: turn "
                "seal_hashes on with the hash key they were sealed with (hash_key_file or "
                "hash_key)"
            )
        return 0
    try:
        _check_key(sealer, check, sealed_seen)
    except HashKeyError:
        if sealer.created is not None:  # made just now: not the key; leave room for the backup
            sealer.created.unlink(missing_ok=True)
        raise
    if check is not None and not seal_all:
        return 0
    with db.write() as (session, _head):
        count = sum(seal_existing(session, table) for table in _TABLES)
        if session.get(Meta, KEY_CHECK_NAME) is None:
            session.add(Meta(key=KEY_CHECK_NAME, value=sealer.key_check()))
    if count:
        db.checkpoint()  # SQLite: the clear values' old pages leave the -wal file
    return count


def _sample(session: Session, table: Table) -> list[str]:
    stmt = text(f"SELECT value FROM {table.name} LIMIT {PROBE_ROWS}")  # noqa: S608
    return [str(v) for v in session.execute(stmt).scalars()]


def _check_key(sealer: HashSealer, check: str | None, sealed_seen: list[str]) -> None:
    wrong = (
        f"the hash key ({sealer.source}) is not the one this database's hash values were "
        "sealed with: restore the key file from your backup (without it no hash value can "
        "be read, and matching would find nothing)"
    )
    if check is not None:
        if check != sealer.key_check():
            raise HashKeyError(wrong)
        return
    for value in sealed_seen[:1]:  # sealed before check values existed: does one open?
        try:
            sealer.open(value)
        except ConfigError as exc:
            raise HashKeyError(wrong) from exc
