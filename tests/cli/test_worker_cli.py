"""Support-center commands: centers, worker accounts, case assignment, a case from files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from stopspread.cli import cli
from tests.cli.conftest import write_video
from tests.conftest import encode, synthetic_rgb

PASSWORD = "a long enough password"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "STOPSPREAD_DATA_DIR": str(tmp_path),
        "STOPSPREAD_ARGON2_MEMORY_KIB": "1024",
        "STOPSPREAD_ARGON2_TIME_COST": "1",
    }


def _run(env: dict[str, str], *args: str, password: str | None = None) -> Result:
    given = f"{password}\n{password}\n" if password else None
    return CliRunner().invoke(cli, list(args), env=env, input=given)


def _rows(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(tmp_path / "stopspread.db") as conn:
        return conn.execute(sql).fetchall()


def test_centers_and_worker_accounts(env: dict[str, str], tmp_path: Path) -> None:
    assert _run(env, "center", "create", "Seoul Center").exit_code == 0
    made = _run(env, "worker", "create", "mina", "--center", "Seoul Center", password=PASSWORD)
    assert made.exit_code == 0 and "mina (worker)" in made.output
    assert PASSWORD not in made.output
    admin = ["worker", "create", "hana", "--center", "Seoul Center", "--admin"]
    assert _run(env, *admin, password=PASSWORD).exit_code == 0
    short = _run(env, "worker", "create", "x", "--center", "Seoul Center", password="short")
    assert short.exit_code == 2 and "at least 12 characters" in short.stderr
    nowhere = _run(env, "worker", "create", "y", "--center", "Nowhere", password=PASSWORD)
    assert nowhere.exit_code == 2 and "no center named 'Nowhere'" in nowhere.stderr
    assert "Password" not in nowhere.output  # refused before a password is asked for
    nobody = _run(env, "worker", "passwd", "nobody", password=PASSWORD)
    assert nobody.exit_code == 2 and "no worker named 'nobody'" in nobody.stderr
    assert "Password" not in nobody.output
    assert _run(env, "worker", "passwd", "mina", password=PASSWORD + "2").exit_code == 0
    assert _run(env, "worker", "disable", "mina").exit_code == 0
    rows = _rows(tmp_path, "select username, role, active from workers order by id")
    assert rows == [("mina", "worker", 0), ("hana", "admin", 1)]
    kinds = [k for (k,) in _rows(tmp_path, "select kind from audit_events order by seq")]
    assert kinds == ["center_created", "worker_created", "worker_created"] + ["worker_changed"] * 2


def test_case_create_from_files_and_assign(env: dict[str, str], tmp_path: Path) -> None:
    assert _run(env, "center", "create", "Seoul Center").exit_code == 0
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(encode(synthetic_rgb(320, 240, seed=21), "JPEG", quality=90))
    video = write_video(tmp_path / "clip.mp4", seed=3, seconds=2)
    result = _run(env, "case", "create", "--center", "Seoul Center", str(photo), str(video))
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert set(lines) == {"code", "secret"}
    signals = _rows(tmp_path, "select type, count(*) from signals group by type order by type")
    assert signals[0] == ("md5", 2) and signals[1][0] == "pdq" and signals[1][1] > 10
    assigned = _rows(
        tmp_path, "select c.code from case_assignments a join cases c on c.id = a.case_id"
    )
    assert assigned == [(lines["code"],)]
    again = _run(env, "case", "assign", lines["code"].lower(), "--center", "Seoul Center")
    assert again.exit_code == 0
    missing = _run(env, "case", "assign", "AAAA-BBBB-CCCC", "--center", "Seoul Center")
    assert missing.exit_code == 2
    bad = _run(env, "case", "create", "--center", "Nowhere", str(photo))
    assert bad.exit_code == 2 and len(_rows(tmp_path, "select id from cases")) == 1
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    assert _run(env, "case", "create", "--center", "Seoul Center", str(broken)).exit_code == 1
