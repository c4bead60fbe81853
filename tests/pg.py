"""A throwaway PostgreSQL cluster for the test session (Debian's binaries, a temp dir).

``TEST_DATABASE_URL`` (a server where we may create databases) replaces it. When neither
works the PostgreSQL tests fail with the reason (``make test`` installs Debian's postgresql).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

PG_START_TIMEOUT_S = 60


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_user(argv: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the ``postgres`` user."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


def _unavailable(reason: str) -> None:
    pytest.fail(f"PostgreSQL is required by the tests: {reason}")


class PgCluster:
    def __init__(
        self, admin_url: str, stop: list[str] | None = None, data_dir: Path | None = None
    ) -> None:
        self.admin_url, self._stop = admin_url, stop
        self.data_dir = data_dir  # the cluster's files (None: a configured server elsewhere)
        self._engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self._template: str | None = None  # a database migrated once, copied (tests/dbtemplate.py)

    def new_database(self, migrated: bool = False) -> str:
        """A new database: empty, or (``migrated``) a copy of one migrated once per session."""
        name = "t_" + uuid.uuid4().hex[:12]
        template = f' TEMPLATE "{self._migrated_template()}"' if migrated else ""
        with self._engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"{template}')
        return sa.engine.make_url(self.admin_url).set(database=name).render_as_string(False)

    def _migrated_template(self) -> str:
        if self._template is None:
            from stopspread.storage import Database, upgrade

            url = self.new_database()
            db = Database(url)
            upgrade(db)
            db.dispose()  # CREATE DATABASE ... TEMPLATE needs no one connected to it
            self._template = sa.engine.make_url(url).database
        assert self._template is not None
        return self._template

    def drop_database(self, url: str) -> None:
        name = sa.engine.make_url(url).database
        with self._engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        if self._template is not None:  # a configured server keeps no template behind
            with self._engine.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self._template}" WITH (FORCE)')
        self._engine.dispose()
        if self._stop:
            subprocess.run(self._stop, capture_output=True, check=False, timeout=60)


def _start_local() -> tuple[PgCluster, str]:
    bindir = _bindir()
    if bindir is None:
        _unavailable("no /usr/lib/postgresql/*/bin/initdb (make test installs Debian's postgresql)")
    assert bindir is not None
    root = tempfile.mkdtemp(prefix="stopspread-pg-")
    os.chmod(root, 0o755)
    data, sock = Path(root) / "data", Path(root) / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    init = _as_user(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        ]
    )
    subprocess.run(init, capture_output=True, check=True, timeout=PG_START_TIMEOUT_S)
    opts = f"-c listen_addresses='' -c unix_socket_directories={sock} -c fsync=off -c max_connections=200"
    start = _as_user(
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            opts,
            "-w",
            "-t",
            str(PG_START_TIMEOUT_S),
            "-l",
            str(Path(root) / "log"),
            "start",
        ]
    )
    subprocess.run(start, capture_output=True, check=True, timeout=PG_START_TIMEOUT_S + 10)
    stop = _as_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
    url = f"postgresql+psycopg://postgres@/postgres?host={sock}"
    return PgCluster(url, stop, data), root


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        cluster = PgCluster(configured.replace("postgresql://", "postgresql+psycopg://", 1))
        yield cluster
        cluster.close()
        return
    try:
        cluster, root = _start_local()
    except (OSError, subprocess.SubprocessError) as exc:
        _unavailable(f"could not start a throwaway cluster: {exc}")
        raise
    try:
        yield cluster
    finally:
        cluster.close()
        shutil.rmtree(root, ignore_errors=True)
