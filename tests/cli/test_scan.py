"""The scan commands against a local site: source add/list, scan run/list/show, mark-removed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from stopspread.cli import cli
from stopspread.cli.scan import parse_every
from tests.conftest import make_services
from tests.scankit import edited_copies, enrol, original
from tests.sources.site import Page, local_site


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


@pytest.fixture
def scan_env(tmp_path: Path) -> tuple[dict[str, str], str]:
    svc = make_services(f"sqlite:///{tmp_path / 'stopspread.db'}", tmp_path)
    code, _case_id = enrol(svc, [original(1)], [])
    svc.db.dispose()
    return {"STOPSPREAD_DATA_DIR": str(tmp_path), "STOPSPREAD_FETCH_HOST_INTERVAL_S": "0"}, code


def test_a_loopback_url_is_refused_naming_the_setting_that_allows_it(
    scan_env: tuple[dict[str, str], str],
) -> None:
    env, code = scan_env
    added = CliRunner().invoke(
        cli, ["source", "add", code, "crawl", "http://127.0.0.1:9/"], env=env
    )
    assert added.exit_code == 2
    assert "STOPSPREAD_FETCH_ALLOW_LOOPBACK=true" in added.stderr
    assert added.stderr.startswith("stopspread: URL refused: a loopback address")


def test_a_crawl_whose_robots_txt_cannot_be_read_fails_with_the_reason(
    scan_env: tuple[dict[str, str], str],
) -> None:
    env, code = scan_env
    runner = CliRunner()
    with local_site() as site:
        site.html("/", '<img src="/a.jpg">')
        port = site.base_url.rsplit(":", 1)[1]
        start = f"http://localhost:{port}/"  # a name: accepted, then refused at every fetch
        added = runner.invoke(cli, ["source", "add", code, "crawl", start], env=env)
        assert added.exit_code == 0, added.output
        ran = runner.invoke(cli, ["scan", "run", added.stdout.strip()], env=env)
    assert ran.exit_code == 1
    assert "): failed" in ran.stdout and "skipped 1" in ran.stdout
    assert "robots.txt refused every page" in ran.stderr
    assert f"localhost:{port}/robots.txt could not be read" in ran.stderr
    assert "STOPSPREAD_FETCH_ALLOW_LOOPBACK=true" in ran.stderr
    assert "\tfailed\t" in runner.invoke(cli, ["scan", "list"], env=env).stdout
    shown = runner.invoke(cli, ["scan", "show", "1"], env=env)
    assert "failed" in shown.stdout and "robots.txt" in shown.stderr
    cancel = runner.invoke(cli, ["scan", "cancel", "1"], env=env)
    assert cancel.exit_code == 2 and "scan 1 is failed already: nothing to cancel" in cancel.stderr


def test_a_robots_txt_server_error_and_a_scan_where_every_page_failed(
    scan_env: tuple[dict[str, str], str],
) -> None:
    env, code = scan_env
    env = {**env, "STOPSPREAD_FETCH_ALLOW_LOOPBACK": "true"}
    runner = CliRunner()
    with local_site() as site:
        site.routes["/robots.txt"] = Page(b"oops", "text/plain", status=503)
        added = runner.invoke(cli, ["source", "add", code, "crawl", site.url("/")], env=env)
        ran = runner.invoke(cli, ["scan", "run", added.stdout.strip()], env=env)
        assert ran.exit_code == 1
        assert "robots.txt answered HTTP 503" in ran.stderr
        del site.routes["/robots.txt"]  # 404: everything allowed; but every page is gone
        urls = [site.url("/gone-1"), site.url("/gone-2.jpg")]
        added = runner.invoke(cli, ["source", "add", code, "urls", *urls], env=env)
        ran = runner.invoke(cli, ["scan", "run", added.stdout.strip()], env=env)
    assert ran.exit_code == 1
    assert "errors 2" in ran.stdout and "FetchStatusError 2" in ran.stdout
    assert "nothing fetched: every page failed (last: FetchStatusError: HTTP 404)" in ran.stderr


def test_refusals_and_empty_lists_say_so(scan_env: tuple[dict[str, str], str]) -> None:
    env, code = scan_env
    runner = CliRunner()
    empty = runner.invoke(cli, ["source", "list", code], env=env)
    assert empty.exit_code == 0 and "no sources yet" in empty.stderr
    assert "no scans yet" in runner.invoke(cli, ["scan", "list"], env=env).stderr
    assert runner.invoke(cli, ["scan", "run-due"], env=env).stdout == "no scans due\n"
    missing = runner.invoke(cli, ["scan", "show", "99"], env=env)
    assert missing.exit_code == 2 and missing.stderr == "stopspread: no such scan\n"
    assert runner.invoke(cli, ["scan", "cancel", "99"], env=env).exit_code == 2
    folder = runner.invoke(cli, ["source", "add", code, "folder", "/no/such/folder"], env=env)
    assert folder.exit_code == 2 and "the folder does not exist" in folder.stderr
    unreadable = runner.invoke(cli, ["source", "add", code, "urls", "@/no/such/file"], env=env)
    assert unreadable.exit_code == 2 and "cannot read /no/such/file" in unreadable.output
