"""The scan commands against a local site: source add/list, scan run/list/show, mark-removed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from stopspread.cli import cli
from stopspread.cli.scan import parse_every
from tests.conftest import make_services
from tests.scankit import edited_copies, enrol, original
from tests.sources.site import local_site


def test_source_add_scan_run_and_follow_up(tmp_path: Path) -> None:
    svc = make_services(f"sqlite:///{tmp_path / 'stopspread.db'}", tmp_path)
    code, _case_id = enrol(svc, [original(1)], [])
    svc.db.dispose()
    env = {
        "STOPSPREAD_DATA_DIR": str(tmp_path),
        "STOPSPREAD_FETCH_ALLOW_LOOPBACK": "true",
        "STOPSPREAD_FETCH_HOST_INTERVAL_S": "0",
    }
    runner = CliRunner()
    with local_site() as site:
        site.file("/copy.jpg", edited_copies(1)["caption"], "image/jpeg")
        site.html("/", '<img src="/copy.jpg"><img src="/missing.jpg">')
        added = runner.invoke(
            cli, ["source", "add", code, "crawl", site.url("/"), "--depth", "1"], env=env
        )
        assert added.exit_code == 0, added.output
        source_id = added.output.strip()
        listed = runner.invoke(cli, ["source", "list", code], env=env)
        assert f"{source_id}\tcrawl\ton demand\t{site.url('/')}" in listed.output

        ran = runner.invoke(cli, ["scan", "run", source_id], env=env)
        assert ran.exit_code == 0, ran.output
        assert "done" in ran.output and "hits 1 (new 1," in ran.output
        assert "errors 1" in ran.output and "FetchStatusError 1" in ran.output

    assert "\tdone\t" in runner.invoke(cli, ["scan", "list", "--case", code], env=env).output
    assert "scan 1 (source 1): done" in runner.invoke(cli, ["scan", "show", "1"], env=env).output
    assert runner.invoke(cli, ["scan", "mark-removed", "1"], env=env).output == "marked removed\n"
    assert runner.invoke(cli, ["scan", "run-due"], env=env).exit_code == 0
    bad = runner.invoke(
        cli, ["source", "add", code, "crawl", "http://user:pw@example.com/"], env=env
    )
    assert bad.exit_code == 2 and "credentials" in bad.output
    unknown = runner.invoke(cli, ["source", "list", "NOPE-NOPE-NOPE"], env=env)
    assert unknown.exit_code == 2


def test_parse_every() -> None:
    assert [parse_every(t) for t in ("90", "30m", "6h", "1d", None)] == [
        90,
        1800,
        21600,
        86400,
        None,
    ]
    with pytest.raises(Exception, match="number"):
        parse_every("soon")
