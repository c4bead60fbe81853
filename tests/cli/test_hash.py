"""``stopspread hash`` through the real console script, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stopspread.hashing import hash_image

from ..conftest import encode, synthetic_rgb


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", "from stopspread.cli import main; main()", *args]
    return subprocess.run(
        cmd,
        input=stdin.decode("latin-1") if stdin else None,
        capture_output=True,
        text=True,
        encoding="latin-1",
        timeout=120,
        check=False,
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "a.jpg").write_bytes(encode(synthetic_rgb(640, 480, seed=1)))
    (tmp_path / "sub" / "b.png").write_bytes(encode(synthetic_rgb(300, 200, seed=2), "PNG"))
    (tmp_path / "sub" / "deeper" / "c.webp").write_bytes(
        encode(synthetic_rgb(200, 300, seed=3), "WEBP")
    )
    (tmp_path / "sub" / "notes.txt").write_text("not an image, skipped by the folder walk")
    return tmp_path


def test_text_lines_for_a_folder(folder: Path) -> None:
    result = run("hash", str(folder))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    for line in lines:
        kind, hex_, quality, path = line.split(" ", 3)
        assert kind == "pdq" and len(hex_) == 64 and 0 <= int(quality) <= 100
        assert hash_image(Path(path)).pdq.hex == hex_
    assert [Path(line.split(" ", 3)[3]).name for line in lines] == ["a.jpg", "b.png", "c.webp"]


def test_json_dihedral_and_digests(folder: Path) -> None:
    result = run("hash", "--json", "--dihedral", str(folder / "a.jpg"))
    record = json.loads(result.stdout)
    assert set(record["dihedral"]) == {
        "original",
        "rotate90",
        "rotate180",
        "rotate270",
        "flipx",
        "flipy",
        "flipplus1",
        "flipminus1",
    }
    assert len(record["md5"]) == 32 and len(record["sha256"]) == 64
    assert record["pipeline"] == "reference" and record["low_quality"] is False


def test_text_dihedral_and_digest_lines(folder: Path) -> None:
    result = run("hash", "--dihedral", "--digests", str(folder / "a.jpg"))
    kinds = [line.split()[0] for line in result.stdout.splitlines()]
    assert kinds[0] == "pdq" and len([k for k in kinds if k.startswith("pdq:")]) == 7
    assert kinds[-2:] == ["md5", "sha256"]


def test_stdin(folder: Path) -> None:
    data = (folder / "a.jpg").read_bytes()
    result = run("hash", "-", stdin=data)
    assert result.returncode == 0
    assert result.stdout.split()[1] == hash_image(data).pdq.hex
    assert result.stdout.split()[3] == "-"


def test_errors_go_to_stderr_and_exit_1(folder: Path) -> None:
    (folder / "broken.jpg").write_bytes((folder / "a.jpg").read_bytes()[:500])
    result = run("hash", "-j", "2", str(folder), str(folder / "missing.jpg"))
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 3
    assert "broken.jpg" in result.stderr and "missing.jpg" in result.stderr
    assert "Traceback" not in result.stderr


def test_json_errors_are_records_too(folder: Path) -> None:
    (folder / "x.jpg").write_text("plain text")
    result = run("hash", "--json", str(folder / "x.jpg"))
    assert result.returncode == 1
    assert json.loads(result.stdout)["kind"] == "UnsupportedMediaError"


def test_low_quality_is_reported(tmp_path: Path) -> None:
    flat = tmp_path / "flat.png"
    flat.write_bytes(encode(synthetic_rgb(100, 100) * 0 + 128, "PNG"))
    result = run("hash", str(flat))
    assert result.returncode == 0
    assert result.stdout.split()[2] == "0"
    assert "low quality" in result.stderr


def test_usage_errors_exit_2() -> None:
    assert run("hash").returncode == 2
    assert run("hash", "--jobs", "0", "x").returncode == 2
    assert run("nonsense").returncode == 2


def test_bomb_with_small_cap_is_refused(folder: Path) -> None:
    result = run("hash", "--max-megapixels", "0.1", str(folder / "a.jpg"))
    assert result.returncode == 1
    assert "pixel" in result.stderr


def test_fast_flag(folder: Path) -> None:
    result = run("hash", "--fast", "--json", str(folder / "a.jpg"))
    assert json.loads(result.stdout)["pipeline"] == "fast"


def test_empty_folder_exits_1(tmp_path: Path) -> None:
    result = run("hash", str(tmp_path))
    assert result.returncode == 1
    assert "no image files" in result.stderr


def test_version() -> None:
    assert "stopspread" in run("--version").stdout


def test_progress_bar_can_be_forced(folder: Path) -> None:
    result = run("hash", "--progress", str(folder))
    assert result.returncode == 0
    assert "hashing" in result.stderr
    assert len(result.stdout.splitlines()) == 3
