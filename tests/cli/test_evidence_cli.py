"""``stopspread evidence verify``: exit 0 intact, 1 with each problem listed, 2 usage errors."""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from stopspread.cli import cli
from stopspread.config import Settings
from stopspread.services.custody import EvidenceStore
from stopspread.storage import Database, upgrade
from tests.conftest import make_services
from tests.services.custody.conftest import new_case, sample_captures


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"STOPSPREAD_DATA_DIR": str(tmp_path), "STOPSPREAD_ARGON2_MEMORY_KIB": "1024"}


def _capture(tmp_path: Path) -> None:
    svc = make_services(Settings(data_dir=tmp_path).url, tmp_path)
    store = EvidenceStore.from_settings(svc.settings, svc.db)
    case_id = new_case(svc)
    with svc.db.write() as (session, _head):
        store.capture(session, case_id, sample_captures(), reason="cli test")
    svc.db.dispose()


def test_intact_store_exits_0(env: dict[str, str], tmp_path: Path) -> None:
    _capture(tmp_path)
    result = CliRunner().invoke(cli, ["evidence", "verify"], env=env)
    assert result.exit_code == 0, result.output
    assert "evidence intact: 3 evidence records, 3 log entries" in result.stdout


def test_damage_exits_1_and_lists_each_problem(env: dict[str, str], tmp_path: Path) -> None:
    _capture(tmp_path)
    with sqlite3.connect(tmp_path / "stopspread.db") as conn:
        conn.execute("update evidence_records set url = 'http://elsewhere/' where id = 2")
        conn.execute("update evidence_log set at = '2020-01-01' where seq = 3")
    path = next((tmp_path / "evidence").rglob("*.warc.aes"))
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF
    path.write_bytes(bytes(data))
    result = CliRunner().invoke(cli, ["evidence", "verify"], env=env)
    assert result.exit_code == 1
    assert "PROBLEM evidence 2: url differs from its log entry" in result.stderr
    assert "PROBLEM log entry 3: was edited" in result.stderr
    assert "ciphertext digest" in result.stderr
    assert "BROKEN: 3 problems" in result.stderr


def test_setup_errors_exit_3_and_usage_errors_2(env: dict[str, str], tmp_path: Path) -> None:
    upgrade(Database(Settings(data_dir=tmp_path).url))  # a database, but no key ever made
    missing = CliRunner().invoke(cli, ["evidence", "verify"], env=env)
    assert missing.exit_code == 3 and "no evidence key" in missing.output
    assert not (tmp_path / "evidence.key").exists()
    bad = {**env, "STOPSPREAD_EVIDENCE_KEY": base64.b64encode(b"short").decode()}
    assert CliRunner().invoke(cli, ["evidence", "verify"], env=bad).exit_code == 3
    assert CliRunner().invoke(cli, ["evidence", "verify", "--nope"], env=env).exit_code == 2
