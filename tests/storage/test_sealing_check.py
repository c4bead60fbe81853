"""Sealing on by default, and a clear error — never a silent miss — when the database's
sealed values meet no key or another key; a deployment with clear values sealed once, at
start or by ``stopspread db seal`` (idempotent). SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import os
import secrets
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from stopspread.cli import cli
from stopspread.config import Settings
from stopspread.errors import HashKeyError
from stopspread.services import cases
from stopspread.services.context import build_services
from stopspread.services.signal_input import parse_signal
from stopspread.storage import Database, upgrade
from stopspread.storage.sealing import is_plain
from tests.conftest import fast_settings, make_services


def _raw_values(url: str) -> list[str]:
    """What the database itself holds (no key)."""
    db = Database(url)
    with db.read() as session:
        found = [str(v) for v in session.execute(text("SELECT value FROM signals")).scalars()]
    db.dispose()
    return found


def _start(settings: Settings) -> int:
    """Services built as the server builds them; how many signals the index holds."""
    db = Database.from_settings(settings)
    try:
        upgrade(db)
        svc = build_services(settings, db)
        svc.replica.load()
        return len(svc.replica)
    finally:
        db.dispose()


def test_sealing_is_on_by_default_with_a_private_key_file(tmp_path: Path) -> None:
    assert Settings().seal_hashes is True
    keys = tmp_path / "keys" / "stopspread"
    settings = fast_settings(
        f"sqlite:///{tmp_path / 'data' / 'stopspread.db'}",
        tmp_path / "data",
        hash_key_file=keys / "hash.key",
    )
    assert _start(settings) == 0
    assert stat.S_IMODE((keys / "hash.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert not (tmp_path / "data" / "hash.key").exists()  # only where the setting says
    key = base64.b64decode((keys / "hash.key").read_text())
    on_disk = b"".join(p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file())
    assert key not in on_disk and base64.b64encode(key) not in on_disk  # never in the database


def test_sealed_values_refuse_a_missing_or_other_key(database_url: str, tmp_path: Path) -> None:
    svc = make_services(database_url, tmp_path)
    value = secrets.token_hex(32)
    cases.create_case(svc, [parse_signal("pdq", value)])
    svc.db.dispose()
    settings = fast_settings(database_url, tmp_path)
    assert not any(is_plain(v) for v in _raw_values(database_url))
    with pytest.raises(HashKeyError, match="sealing is off"):
        _start(settings.replace(seal_hashes=False))
    other = base64.b64encode(os.urandom(64)).decode()
    with pytest.raises(HashKeyError, match="not the one"):
        _start(settings.replace(hash_key=other))
    key_file = tmp_path / "hash.key"
    saved = key_file.read_bytes()
    key_file.unlink()  # lost: a new key is made, refused, and removed again
    with pytest.raises(HashKeyError, match="restore the key file"):
        _start(settings)
    assert not key_file.exists()
    key_file.write_bytes(saved)  # restored from the backup
    key_file.chmod(0o600)
    assert _start(settings) == 1


def test_clear_values_are_sealed_by_the_command_once(database_url: str, tmp_path: Path) -> None:
    plain = make_services(database_url, tmp_path, seal_hashes=False)
    values = [secrets.token_hex(32) for _ in range(5)]
    cases.create_case(plain, [parse_signal("pdq", v) for v in values])
    plain.db.dispose()
    assert sorted(_raw_values(database_url)) == sorted(values)
    env = {"STOPSPREAD_DATA_DIR": str(tmp_path), "STOPSPREAD_DATABASE_URL": database_url}
    first = CliRunner().invoke(cli, ["db", "seal"], env=env)
    assert first.exit_code == 0, first.output
    assert first.output.startswith("5 hash values sealed")
    again = CliRunner().invoke(cli, ["db", "seal"], env=env)
    assert again.exit_code == 0 and again.output.startswith("0 hash values sealed")
    raw = _raw_values(database_url)
    assert len(raw) == 5 and not any(is_plain(v) for v in raw) and not set(raw) & set(values)
    assert _start(fast_settings(database_url, tmp_path)) == 5  # the index sees them all
    off = CliRunner().invoke(cli, ["db", "seal"], env={**env, "STOPSPREAD_SEAL_HASHES": "false"})
    assert off.exit_code == 3 and "sealing is off" in off.output
