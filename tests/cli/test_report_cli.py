"""``stopspread report CASE`` and ``stopspread takedown check``."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from stopspread.cli import cli
from stopspread.services.removal.workflow import draft_request, save_host, set_status
from stopspread.services.workers import accounts
from stopspread.services.workers.review import Decision, decide
from stopspread.storage.models_scan import Sighting
from stopspread.takedown.hosts import HostEntry, Language
from stopspread.takedown.requests import RequestStatus
from tests.conftest import make_services
from tests.report.test_pdf import flat, pdftotext
from tests.services.review_seed import PASSWORD, build_world
from tests.sources.site import LocalSite, Page, local_site


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
    result = CliRunner().invoke(
        cli, ["report", code, "--lang", "en", "--out", str(out), "--author", "Kim Jiwon"], env=env
    )
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
    result = CliRunner().invoke(cli, ["report", "NO-SUCH-CASE", "--author", "김지원"], env=env)
    assert result.exit_code == 2
    assert "no such case" in result.output


def test_zip_writes_the_evidence_package_prepared_by_the_author(
    world_env: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    env, code = world_env
    target = tmp_path / "out" / "package.zip"
    args = ["report", code, "--zip", str(target), "--author", "김지원"]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    assert "4 WARC files" in result.output
    assert not (tmp_path / "out" / "package.zip.partial").exists()
    with zipfile.ZipFile(target) as archive:
        lines = archive.read("manifest-sha256.txt").decode().splitlines()
        listed = dict(reversed(line.split("  ", 1)) for line in lines)
        assert len([p for p in listed if p.startswith("warc/")]) == 4
        for path, digest in listed.items():
            assert hashlib.sha256(archive.read(path)).hexdigest() == digest
        pdf = archive.read(f"report-{code}-ko.pdf")
        assert json.loads(archive.read("manifest.json"))["prepared_by"] == "김지원"
    text = pdftotext(pdf, tmp_path)
    assert "김지원" in text and "cli" not in text.split()
    compact = flat(text)
    assert all(digest in compact for path, digest in listed.items() if path.startswith("warc/"))


def test_the_author_is_required_and_never_cli(world_env: tuple[dict[str, str], str]) -> None:
    env, code = world_env
    missing = CliRunner().invoke(cli, ["report", code, "--zip", "x.zip"], env=env)
    assert missing.exit_code == 2 and "--author" in missing.output
    blank = CliRunner().invoke(cli, ["report", code, "--zip", "x.zip", "--author", " "], env=env)
    assert blank.exit_code == 2 and "--author" in blank.output


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
        args = ["report", code, "--out", str(folder), "--author", "김지원", *extra]
        assert CliRunner().invoke(cli, args, env=env).exit_code == 0
    assert b"/Subtype /Image" not in (plain / f"report-{code}-ko.pdf").read_bytes()
    assert b"/Subtype /Image" in (blurred / f"report-{code}-ko.pdf").read_bytes()


def _sent_requests(tmp_path: Path, site: LocalSite) -> dict[str, str]:
    """Two sent requests of the seed's case A, whose media URLs are on the local site."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    svc = make_services(url, tmp_path, smtp_from="takedown@center.example")
    world = build_world(svc, tmp_path)
    first, second = world.sightings_a[:2]
    with svc.db.write() as (session, _head):
        session.get(Sighting, first).media_url = site.url("/broken.jpg")  # type: ignore[union-attr]
        session.get(Sighting, second).media_url = site.url("/gone.jpg")  # type: ignore[union-attr]
    who = accounts.session_info(svc, accounts.login(svc, "mina", PASSWORD, "t").token).identity
    save_host(svc, who, HostEntry("127.0.0.1", Language.KO, "KR", abuse_email="abuse@kr.test"))
    for sighting in (first, second):
        decide(svc, who, sighting, Decision.CONFIRM)
        request = draft_request(svc, who, sighting)
        set_status(svc, None, request, RequestStatus.SENT, actor="test")
    svc.db.dispose()
    return {"STOPSPREAD_DATA_DIR": str(tmp_path), "STOPSPREAD_DATABASE_URL": url}


def test_takedown_check_exits_2_when_no_check_could_be_made_and_1_when_some(
    tmp_path: Path,
) -> None:
    with local_site() as site:
        site.routes["/broken.jpg"] = Page(b"oops", "text/plain", status=500)
        env = _sent_requests(tmp_path, site)
        none = CliRunner().invoke(cli, ["takedown", "check"], env=env)
        assert none.exit_code == 2, none.output
        assert none.stdout.count("\terror\t") == 2
        assert "2 requests checked, 2 could not be checked" in none.stdout
        assert "stopspread: no request could be checked (2 errors)" in none.stderr
        loopback = {**env, "STOPSPREAD_FETCH_ALLOW_LOOPBACK": "true"}
        some = CliRunner().invoke(cli, ["takedown", "check"], env=loopback)
    assert some.exit_code == 1, some.output
    assert "\terror\tHTTP 500" in some.stdout and "\tgone\tHTTP 404" in some.stdout
    assert "stopspread: 1 of 2 requests could not be checked" in some.stderr
