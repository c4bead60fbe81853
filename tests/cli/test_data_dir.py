"""One data folder from anywhere: the per-user folder unless a setting names one; db status."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from stopspread.cli import cli
from stopspread.config import Settings, load_settings
from stopspread.storage import head_revision
from tests.conftest import TEST_DATA_HOME

PASSWORD = "a long enough password"


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """No STOPSPREAD_DATA_DIR: the per-user data folder, here under a test XDG data home."""
    return {
        "XDG_DATA_HOME": str(tmp_path / "xdg"),
        "STOPSPREAD_DATA_DIR": "",
        "STOPSPREAD_ARGON2_MEMORY_KIB": "1024",
        "STOPSPREAD_ARGON2_TIME_COST": "1",
    }


def _run(env: dict[str, str], *args: str, password: str | None = None) -> Result:
    given = f"{password}\n{password}\n" if password else None
    # An empty STOPSPREAD_DATA_DIR means "unset" for CliRunner (it removes the variable).
    clean = {k: (None if v == "" else v) for k, v in env.items()}
    return CliRunner().invoke(cli, list(args), env=clean, input=given)


def test_two_working_directories_share_one_database(
    home: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    monkeypatch.chdir(first)
    assert _run(home, "center", "create", "Seoul Center").exit_code == 0
    monkeypatch.chdir(second)
    made = _run(home, "worker", "create", "hana", "--center", "Seoul Center", "--admin",
                password=PASSWORD)  # fmt: skip
    assert made.exit_code == 0, made.output  # the center made from the other folder is here
    database = tmp_path / "xdg" / "stopspread" / "stopspread.db"
    assert database.is_file()
    assert not (first / "var").exists() and not (second / "var").exists()
    status = _run(home, "db", "status")
    assert status.exit_code == 0, status.output
    assert f"database:      sqlite:///{database}" in status.output
    assert f"evidence:      {database.parent / 'evidence'}" in status.output
    assert f"revision {head_revision()} (latest)" in status.output
    assert "admin account: yes" in status.output


def test_a_subprocess_in_another_folder_sees_the_same_data(
    home: dict[str, str], tmp_path: Path
) -> None:
    assert _run(home, "center", "create", "Busan Center").exit_code == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOPSPREAD_")}
    env["XDG_DATA_HOME"] = home["XDG_DATA_HOME"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = "from stopspread.cli import main; main()"
    again = subprocess.run(
        [sys.executable, "-c", code, "center", "create", "Busan Center"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert again.returncode == 2
    assert "stopspread: a center named 'Busan Center' exists already" in again.stderr


def test_db_status_before_and_after_the_database_exists(home: dict[str, str]) -> None:
    before = _run(home, "db", "status")
    assert before.exit_code == 1
    assert "no database yet" in before.output and "admin account: no" in before.output
    assert not (Path(home["XDG_DATA_HOME"]) / "stopspread" / "stopspread.db").exists()
    assert _run(home, "db", "upgrade").exit_code == 0
    after = _run(home, "db", "status")
    assert after.exit_code == 0 and "(latest)" in after.output
    assert "admin account: no (serve prints a one-time /setup link)" in after.output


def test_db_status_hides_the_password_and_names_an_unreachable_database(
    home: dict[str, str], tmp_path: Path
) -> None:
    env = {**home, "STOPSPREAD_DATABASE_URL": "postgresql://ana:hunter22@127.0.0.1:1/nope"}
    result = _run(env, "db", "status")
    assert result.exit_code == 3
    assert "postgresql://ana:***@127.0.0.1:1/nope" in result.stderr
    assert "hunter22" not in result.output
    upgrade = _run(env, "center", "create", "X")
    assert upgrade.exit_code == 3 and "cannot open the database" in upgrade.stderr
    assert "hunter22" not in upgrade.output
    bogus = _run({**home, "STOPSPREAD_DATABASE_URL": "bogus"}, "center", "create", "X")
    assert bogus.exit_code == 3 and "(not a valid database URL)" in bogus.stderr
    unwritable = _run({**home, "STOPSPREAD_DATA_DIR": "/proc/no-such-folder"}, "db", "upgrade")
    assert unwritable.exit_code == 3
    assert "cannot open the database sqlite:////proc/no-such-folder/stopspread.db" in (
        unwritable.stderr
    )


def test_explicit_settings_win_and_relative_folders_are_resolved_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"STOPSPREAD_DATA_DIR": "data"})
    assert settings.data_dir == tmp_path / "data" and settings.data_dir.is_absolute()
    assert settings.url == f"sqlite:///{tmp_path / 'data' / 'stopspread.db'}"
    toml = tmp_path / "s.toml"
    toml.write_text(f'data_dir = "{tmp_path / "t"}"\n', encoding="utf-8")
    assert load_settings({}, toml).data_dir == tmp_path / "t"
    url = "postgresql://db.example/stopspread"
    assert load_settings({"STOPSPREAD_DATABASE_URL": url}).url == url


def test_the_tests_never_use_the_real_per_user_folder() -> None:
    assert Settings().data_dir == TEST_DATA_HOME / "stopspread"
    assert load_settings({}).data_dir.is_relative_to(TEST_DATA_HOME)
