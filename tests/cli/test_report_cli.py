"""``stopspread report CASE`` and ``stopspread takedown check``."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from stopspread.cli import cli
from tests.conftest import make_services
from tests.services.review_seed import build_world


@pytest.fixture
def world_env(tmp_path: Path) -> tuple[dict[str, str], str]:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    svc = make_services(url, tmp_path)
    world = build_world(svc, tmp_path)
    svc.db.dispose()
    env = {"STOPSPREAD_DATA_DIR": str(tmp_path), "STOPSPREAD_DATABASE_URL": url}
    return env, world.code_a


def test_report_writes_the_pdf_and_the_warc_files(
    world_env: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    env, code = world_env
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report", code, "--lang", "en", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    pdf = out / f"report-{code}-en.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    warcs = sorted((out / "warc").glob("*.warc"))
    assert len(warcs) == 4  # the seed's two media captures and two pages of case A
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True)
        flat = "".join(text.stdout.decode().split())
        assert "Seoul Center" in text.stdout.decode()
        for path in warcs:
            assert hashlib.sha256(path.read_bytes()).hexdigest() in flat


def test_report_of_an_unknown_case_is_a_usage_error(world_env: tuple[dict[str, str], str]) -> None:
    env, _code = world_env
    result = CliRunner().invoke(cli, ["report", "NO-SUCH-CASE"], env=env)
    assert result.exit_code == 2
    assert "no such case" in result.output


def test_takedown_check_with_nothing_to_check(world_env: tuple[dict[str, str], str]) -> None:
    env, _code = world_env
    result = CliRunner().invoke(cli, ["takedown", "check"], env=env)
    assert result.exit_code == 0, result.output
    assert "0 requests checked" in result.output


def test_blurred_previews_only_when_asked(
    world_env: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    env, code = world_env
    plain, blurred = tmp_path / "plain", tmp_path / "blurred"
    for folder, extra in ((plain, []), (blurred, ["--blurred-previews"])):
        args = ["report", code, "--out", str(folder), *extra]
        assert CliRunner().invoke(cli, args, env=env).exit_code == 0
    assert b"/Subtype /Image" not in (plain / f"report-{code}-ko.pdf").read_bytes()
    assert b"/Subtype /Image" in (blurred / f"report-{code}-ko.pdf").read_bytes()
