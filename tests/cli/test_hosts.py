"""``stopspread hosts check | lookup``."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from stopspread.cli import cli

CENTER = """\
version = 1

[hosts."kr-host.example"]
form_url = "https://kr-host.example/new-form"
language = "ko"
jurisdiction = "KR"

[hosts."127.0.0.1"]
abuse_email = "abuse@local.test"
language = "en"
"""


def test_check_shipped_and_bad_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["hosts", "check"])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output
    bad = tmp_path / "center.toml"
    bad.write_text(
        'version = 1\n[hosts."a.example"]\nlanguage = "fr"\nabuse_email = "a@a.example"\n'
    )
    result = CliRunner().invoke(cli, ["hosts", "check", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:3: " in result.stderr


def test_lookup_merges_the_center_file(tmp_path: Path) -> None:
    center = tmp_path / "center.toml"
    center.write_text(CENTER)
    env = {"STOPSPREAD_HOSTS_FILE": str(center)}
    urls = ["https://cdn.kr-host.example/a.jpg", "http://127.0.0.1:8080/x.png"]
    result = CliRunner().invoke(cli, ["hosts", "lookup", "--json", *urls], env=env)
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["form_url"] == "https://kr-host.example/new-form"  # the center's entry won
    assert first["abuse_email"] is None
    assert second["domain"] == "127.0.0.1"
    unknown = CliRunner().invoke(cli, ["hosts", "lookup", "https://www.unknown.co.kr/p"], env=env)
    assert unknown.exit_code == 1
    assert "add unknown.co.kr to the registry" in unknown.stdout
    bad_env = {"STOPSPREAD_HOSTS_FILE": str(tmp_path / "missing.toml")}
    broken = CliRunner().invoke(cli, ["hosts", "lookup", "https://a.example/"], env=bad_env)
    assert broken.exit_code == 3 and "missing.toml" in broken.stderr
