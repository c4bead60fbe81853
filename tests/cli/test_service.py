"""The service commands: db upgrade, client create/revoke, audit verify."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from stopspread.cli import cli
from stopspread.services.keys import hash_api_key
from stopspread.storage import head_revision


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"STOPSPREAD_DATA_DIR": str(tmp_path), "STOPSPREAD_ARGON2_MEMORY_KIB": "1024"}


def test_db_upgrade(env: dict[str, str], tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    assert f"revision {head_revision()}" in result.output
    assert (tmp_path / "stopspread.db").is_file()


def test_client_create_prints_the_key_once_and_stores_its_hash(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = CliRunner().invoke(cli, ["client", "create", "shop", "--can-hash"], env=env)
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert key.startswith("ssk_")
    with sqlite3.connect(tmp_path / "stopspread.db") as conn:
        stored = conn.execute("select key_hash, can_hash from platform_clients").fetchall()
    assert stored == [(hash_api_key(key), 1)]
    again = CliRunner().invoke(cli, ["client", "create", "shop"], env=env)
    assert again.exit_code == 2 and "stopspread: " in again.stderr  # refused: exists already
    assert CliRunner().invoke(cli, ["client", "revoke", "shop"], env=env).exit_code == 0
    nobody = CliRunner().invoke(cli, ["client", "revoke", "nobody"], env=env)
    assert nobody.exit_code == 2 and "stopspread: " in nobody.stderr


@pytest.mark.parametrize("damage", ["edit", "delete"])
def test_audit_verify_detects_damage(env: dict[str, str], tmp_path: Path, damage: str) -> None:
    runner = CliRunner()
    for name in ("a", "b", "c"):
        assert runner.invoke(cli, ["client", "create", name], env=env).exit_code == 0
    ok = runner.invoke(cli, ["audit", "verify"], env=env)
    assert ok.exit_code == 0
    assert "3 events" in ok.output
    with sqlite3.connect(tmp_path / "stopspread.db") as conn:
        if damage == "edit":
            conn.execute("update audit_events set payload = '{\"client\":9}' where seq = 2")
        else:
            conn.execute("delete from audit_events where seq = 2")
    broken = runner.invoke(cli, ["audit", "verify"], env=env)
    assert broken.exit_code == 1
    assert "BROKEN" in broken.output


def test_bad_setting_is_a_setup_error(env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["db", "upgrade"], env={**env, "STOPSPREAD_NO_SUCH": "1"})
    assert result.exit_code == 3
    assert "stopspread: unknown setting STOPSPREAD_NO_SUCH" in result.stderr
