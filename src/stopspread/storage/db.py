"""Engines and transactions: SQLite (WAL, ``synchronous=FULL``) or PostgreSQL (psycopg 3).

All writes go through :meth:`Database.write`, which serialises writers: on SQLite by
``BEGIN IMMEDIATE``, on PostgreSQL by locking the one ``chain_head`` row first. That keeps
the audit chain linear and makes the change log's sequence order its commit order.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from stopspread.config import Settings
from stopspread.storage.models import ChainHead
from stopspread.storage.sealing import HashSealer, attach, load_hash_sealer

try:
    import fcntl
except ImportError:  # not on Windows: only the in-process lock there
    fcntl = None  # type: ignore[assignment]

__all__ = ["SQLITE_BUSY_TIMEOUT_MS", "Database", "normalise_url"]

# A writer waits this long for another writer before failing: writes take milliseconds.
SQLITE_BUSY_TIMEOUT_MS: Final = 10_000
POOL_SIZE: Final = 8  # connections per process; requests are short


def normalise_url(url: str) -> str:
    """Plain ``postgresql://`` URLs use psycopg 3 (the only PostgreSQL driver we install)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    path = make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # created 0600 (an empty file is an empty database); SQLite gives -wal and -shm the
        # database file's mode, so the journal is private too
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    engine = create_engine(url, pool_size=POOL_SIZE, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")  # an acknowledged write survives a power cut
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA secure_delete=ON")  # deleted rows (withdrawn hashes) are zeroed
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class _WriterLock:
    """SQLite writers queue here, not in SQLite's busy handler.

    The busy handler sleeps in growing steps (up to 100 ms) while another connection writes,
    which would add that much to a waiting write. A thread lock (this process) plus an
    ``flock`` on ``<db>.writelock`` (other processes: ``STOPSPREAD_WORKERS``, the CLI) wake
    the next writer as soon as the last one commits.
    """

    def __init__(self, database: str | None) -> None:
        self._thread_lock = threading.Lock()
        self._path = Path(database + ".writelock") if database and database != ":memory:" else None
        self._fd: int | None = None

    def __enter__(self) -> _WriterLock:
        self._thread_lock.acquire()
        if self._path is not None and fcntl is not None:
            try:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._release()
                raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self._release()

    def _release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None
        self._thread_lock.release()


class Database:
    """One database: a reader and a writer engine (the same engine on PostgreSQL)."""

    def __init__(self, url: str, hash_sealer: HashSealer | None = None) -> None:
        """``hash_sealer``: hash values sealed at rest (:mod:`.sealing`); None: stored plain."""
        self.url = normalise_url(url)
        self.is_sqlite = make_url(self.url).get_backend_name() == "sqlite"
        if self.is_sqlite:
            self._reader = _sqlite_engine(self.url, immediate=False)
            self._writer = _sqlite_engine(self.url, immediate=True)
        else:
            self._reader = create_engine(self.url, pool_size=POOL_SIZE, pool_pre_ping=True)
            self._writer = self._reader
        self._sqlite_writer: contextlib.AbstractContextManager[object] = (
            _WriterLock(make_url(self.url).database) if self.is_sqlite else contextlib.nullcontext()
        )
        for engine in {self._reader, self._writer}:
            attach(engine.dialect, hash_sealer)
        self.hash_sealer = hash_sealer
        self._read_sessions = sessionmaker(self._reader, expire_on_commit=False)
        self._write_sessions = sessionmaker(self._writer, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """The database of ``settings``, hash values sealed when ``seal_hashes`` is on."""
        return cls(settings.url, load_hash_sealer(settings))

    @property
    def engine(self) -> Engine:
        return self._writer

    @contextlib.contextmanager
    def read(self, snapshot: bool = False) -> Iterator[Session]:
        """A read-only transaction, rolled back at the end.

        ``snapshot=True`` makes every statement see one consistent state on PostgreSQL too
        (REPEATABLE READ); a SQLite WAL read transaction always does.
        """
        with self._read_sessions() as session:
            if snapshot and not self.is_sqlite:
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            yield session

    @contextlib.contextmanager
    def write(self) -> Iterator[tuple[Session, ChainHead]]:
        """A write transaction holding the writer lock; yields the session and the locked head."""
        with self._sqlite_writer, self._write_sessions() as session, session.begin():
            head = session.scalars(
                select(ChainHead).where(ChainHead.id == 1).with_for_update()
            ).one()
            yield session, head

    def checkpoint(self) -> None:
        """SQLite: copy the WAL into the database file and truncate it, so that no older copy
        of a deleted row stays in ``-wal`` (with ``secure_delete`` the rows themselves are
        zeroed). Waits for readers (busy timeout). PostgreSQL: nothing — see security.md."""
        if not self.is_sqlite:
            return
        with self._sqlite_writer:
            raw = self._writer.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                cursor.close()
            finally:
                raw.close()

    def dispose(self) -> None:
        self._reader.dispose()
        if self._writer is not self._reader:
            self._writer.dispose()
