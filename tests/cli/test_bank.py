"""``stopspread hash --format tx`` and ``bank export|import``: files tx reads, bad rows reported."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from stopspread.cli import cli
from tests.cli.conftest import scene
from tests.conftest import random_pdq


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"STOPSPREAD_DATA_DIR": str(tmp_path), "STOPSPREAD_ARGON2_MEMORY_KIB": "1024"}


def test_hash_format_tx_images_and_video(tmp_path: Path, video_a: Path) -> None:
    image = tmp_path / "p.png"
    Image.fromarray(scene(5)).save(image)
    result = CliRunner().invoke(cli, ["hash", "--format", "tx", str(image), str(video_a)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("pdq ") and len(lines[0].split()) == 2
    assert lines[1].startswith('vpdq ["') and lines[2].startswith("video_md5 ")
    assert not any(line.startswith("#") for line in lines)


def test_export_import_round_trip_with_bad_rows(env: dict[str, str], tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    values = [random_pdq(rng) for _ in range(4)]
    good = [f"pdq {v}" for v in values] + [f"video_md5 {'e' * 32}", "url https://x.example/"]
    source = tmp_path / "in.txt"
    source.write_text("\n".join([*good, "pdq nothex", "vpdq [1,2", "garbage"]) + "\n")
    run = CliRunner().invoke(cli, ["bank", "import", "partner", str(source)], env=env)
    assert run.exit_code == 1  # some rows were bad; the good ones are in
    assert "5 added, 0 already there, 1 of other signal types, 3 malformed" in run.stdout
    assert f"{source}:7:" in run.stderr and "nothex" not in run.stderr
    again = CliRunner().invoke(cli, ["bank", "import", "partner", str(source)], env=env)
    assert "0 added, 5 already there" in again.stdout
    out = tmp_path / "out.csv"
    exported = CliRunner().invoke(
        cli, ["bank", "export", "--bank", "partner", "--format", "csv", "-o", str(out)], env=env
    )
    assert exported.exit_code == 0, exported.output
    rows = out.read_text().splitlines()
    assert rows[0] == "signal_type,signal_str,collab,category,tags"
    assert len(rows) == 6 and f"video_md5,{'e' * 32},StopSpread,POSITIVE_CLASS," in rows
    back = CliRunner().invoke(cli, ["bank", "import", "copy", str(out)], env=env)
    assert back.exit_code == 0 and "5 added" in back.stdout
    missing = CliRunner().invoke(cli, ["bank", "export", "--bank", "nope"], env=env)
    assert missing.exit_code == 2  # refused: ExitCode.REFUSED
    with sqlite3.connect(tmp_path / "stopspread.db") as conn:
        kinds = [k for (k,) in conn.execute("select kind from audit_events order by seq")]
        payloads = " ".join(p for (p,) in conn.execute("select payload from audit_events"))
    assert kinds.count("bank_imported") == 3 and kinds.count("bank_exported") == 1
    assert values[0] not in payloads


def test_default_export_is_the_published_hashes(env: dict[str, str], tmp_path: Path) -> None:
    from stopspread.config import Settings
    from stopspread.services import cases
    from stopspread.services.context import build_services
    from stopspread.services.signal_input import parse_signal
    from stopspread.storage import Database, upgrade

    rng = np.random.default_rng(10)
    high, low = random_pdq(rng), random_pdq(rng)
    db = Database(f"sqlite:///{tmp_path / 'stopspread.db'}")
    upgrade(db)
    svc = build_services(
        Settings(data_dir=tmp_path, argon2_time_cost=1, argon2_memory_kib=1024), db
    )
    cases.create_case(svc, [parse_signal("pdq", high, 90), parse_signal("pdq", low, 40),
                            parse_signal("md5", "f" * 32)])  # fmt: skip
    db.dispose()
    run = CliRunner().invoke(cli, ["bank", "export"], env=env)
    assert run.exit_code == 0, run.output
    assert run.stdout.splitlines() == [f"pdq {high}"]
