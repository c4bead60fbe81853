"""The service commands: db upgrade, client create/revoke, audit verify."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
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


def _serve_welcome(env: dict[str, str]) -> list[str]:
    """Start ``stopspread serve`` on port 0, read its welcome up to the end, stop it."""
    full = {**os.environ, **env, "STOPSPREAD_PORT": "0", "PYTHONUNBUFFERED": "1"}
    code = "from stopspread.cli import main; main()"
    with subprocess.Popen(
        [sys.executable, "-c", code, "serve"],
        env=full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    ) as server:  # fmt: skip
        lines: list[str] = []
        try:
            assert server.stdout is not None
            for line in server.stdout:
                lines.append(line.rstrip("\n"))
                if "Uvicorn running on" in line or "Application startup complete" in line:
                    break
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
    return lines


def test_serve_prints_the_welcome_and_a_new_setup_link_until_an_admin_exists(
    env: dict[str, str], tmp_path: Path
) -> None:
    first = _serve_welcome(env)
    text = "\n".join(first)
    assert f"database:      sqlite:///{tmp_path / 'stopspread.db'}" in text
    assert f"evidence:      {tmp_path / 'evidence'}" in text
    base = next(line.split()[3] for line in first if line.startswith("StopSpread starts on"))
    assert base.startswith("http://127.0.0.1:") and not base.endswith(":0")
    for label, path in (("survivors", "/"), ("workers", "/worker/login"), ("API", "/docs")):
        assert any(label in line and line.endswith(f" {base}{path}") for line in first), path
    links = [line.strip() for line in first if "/setup?token=" in line]
    assert len(links) == 1 and links[0].startswith(f"{base}/setup?token=")
    assert "worker create USER --center NAME --admin" in text
    second = "\n".join(_serve_welcome(env))
    assert links[0].split("=", 1)[1] not in second and "/setup?token=" in second  # a new link

    made = CliRunner().invoke(cli, ["center", "create", "Seoul Center"], env=env)
    assert made.exit_code == 0
    admin = ["worker", "create", "hana", "--center", "Seoul Center", "--admin"]
    password = "a long enough password\n"
    assert CliRunner().invoke(cli, admin, env=env, input=password * 2).exit_code == 0
    third = "\n".join(_serve_welcome(env))
    assert "/setup" not in third and "admin account: yes" in third


def test_serve_refuses_a_bad_centers_file(env: dict[str, str], tmp_path: Path) -> None:
    """Like any settings file: a bad centers file is a set-up error (exit 3) naming it."""
    bad = tmp_path / "centers.toml"
    bad.write_text('[[centers]]\nname = "센터"\nphone = "call us"\n', encoding="utf-8")
    env = {**env, "STOPSPREAD_CENTERS_FILE": str(bad), "STOPSPREAD_PORT": "0"}
    result = CliRunner().invoke(cli, ["serve"], env=env)
    assert result.exit_code == 3, result.output
    assert f"stopspread: {bad}: center 1: missing field 'hours'" in result.stderr
