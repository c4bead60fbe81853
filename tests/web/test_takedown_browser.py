"""The takedown pages in real Chromium: the dashboard (numbers, chart, lists, forms) and a
request's page, Korean and English, desktop and phone; axe-core must find nothing.
Screenshots go to ``test-artifacts/screenshots/takedown/``."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from stopspread.languages import Language
from stopspread.services.removal.workflow import draft_request, save_host
from stopspread.services.workers.accounts import WorkerIdentity
from stopspread.services.workers.review import Decision, decide
from stopspread.storage.models_worker import Worker
from stopspread.takedown.hosts import HostEntry
from tests.browser import DESKTOP, PHONE, axe_violations, new_page, screenshot
from tests.conftest import fast_settings, make_services
from tests.report.test_pdf import flat, pdftotext
from tests.services.review_seed import PASSWORD, build_world
from tests.web.support import live_server


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    tmp = tmp_path_factory.mktemp("takedown-browser")
    url = f"sqlite:///{tmp / 'db.sqlite'}"
    svc = make_services(url, tmp, smtp_from="takedown@seoul.test")
    world = build_world(svc, tmp)
    with svc.db.read() as session:
        row = session.scalars(select(Worker).where(Worker.username == "mina")).one()
        mina = WorkerIdentity(row.id, row.center_id, row.role, row.username)
    for sighting_id in world.sightings_a:
        decide(svc, mina, sighting_id, Decision.CONFIRM)
    save_host(svc, mina, HostEntry("127.0.0.1", Language.KO, "KR", abuse_email="abuse@host.test"))
    request_id = draft_request(svc, mina, world.sightings_a[0])
    with live_server(fast_settings(url, tmp, smtp_from="takedown@seoul.test")) as base_url:
        yield base_url, request_id
    svc.db.dispose()


def _sign_in(browser: Any, base: str, viewport: dict[str, int], lang: str) -> Any:
    page = new_page(browser, viewport=viewport, locale="ko-KR" if lang == "ko" else "en-GB")
    page.goto(f"{base}/worker/takedown?lang={lang}")
    page.get_by_label("이름" if lang == "ko" else "Name", exact=True).fill("mina")
    page.get_by_label("비밀번호" if lang == "ko" else "Password", exact=True).fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/worker/takedown**")
    return page


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_takedown_pages_screens_and_accessibility(
    site: tuple[str, int], browser: Any, lang: str, size: str
) -> None:
    base, request_id = site
    page = _sign_in(browser, base, DESKTOP if size == "desktop" else PHONE, lang)
    title = "삭제 요청 현황" if lang == "ko" else "Takedown requests"
    assert page.locator("h1").inner_text() == title
    assert page.locator("#n-confirmed").inner_text() == "3"
    assert page.locator("svg[role=img] rect").count() == 6  # one bar per status
    chart_box = page.locator("svg[role=img]").bounding_box()
    assert (
        chart_box is not None
        and chart_box["width"] <= (DESKTOP if size == "desktop" else PHONE)["width"]
    )
    assert axe_violations(page) == []
    screenshot(page, f"takedown/dashboard-{lang}-{size}")
    page.goto(f"{base}/worker/takedown/requests/{request_id}")
    assert "127.0.0.1" in page.locator("pre.notice-text").inner_text()
    assert axe_violations(page) == []
    screenshot(page, f"takedown/request-{lang}-{size}")
    page.context.close()


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_evidence_package_button_downloads_a_verified_zip(
    site: tuple[str, int], browser: Any, lang: str, tmp_path: Path
) -> None:
    """The dashboard's ZIP button (a plain form, no script) gives the whole package."""
    base, _request_id = site
    page = _sign_in(browser, base, DESKTOP, lang)
    page.select_option("#report-lang", lang)
    label = "증거 패키지(ZIP) 내려받기" if lang == "ko" else "Download the evidence package (ZIP)"
    with page.expect_download() as info:
        page.get_by_role("button", name=label).click()
    download = info.value
    assert download.suggested_filename.startswith("evidence-package-")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    with zipfile.ZipFile(target) as archive:
        lines = archive.read("manifest-sha256.txt").decode().splitlines()
        listed = dict(reversed(line.split("  ", 1)) for line in lines)
        for path, digest in listed.items():
            assert hashlib.sha256(archive.read(path)).hexdigest() == digest
        [pdf_name] = [p for p in listed if p.endswith(f"-{lang}.pdf")]
        text = pdftotext(archive.read(pdf_name), tmp_path)
    warcs = [d for p, d in listed.items() if p.startswith("warc/")]
    assert len(warcs) == 4 and all(d in flat(text) for d in warcs)
    assert "이미나" in text  # her profile's name, not her sign-in name
    page.context.close()
