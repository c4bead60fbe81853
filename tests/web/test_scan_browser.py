"""The scan pages in real Chromium: add a source and start a scan with the keyboard, watch
the progress update by itself, axe-core finds nothing. Screenshots go to
``test-artifacts/screenshots/worker/scans-*``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from stopspread.services.workers import accounts
from stopspread.storage.models_worker import WorkerRole
from tests.browser import DESKTOP, PHONE, axe_violations, new_page, screenshot
from tests.conftest import fast_settings, make_services
from tests.scankit import edited_copies, enrol, original
from tests.sources.site import local_site
from tests.web.support import live_server

PASSWORD = "correct horse battery staple 42"
TEXT = {
    "ko": {
        "name": "이름",
        "password": "비밀번호",
        "target": "주소",
        "done": "끝남",
        "run": "지금 스캔",
    },
    "en": {
        "name": "Name",
        "password": "Password",
        "target": "Address",
        "done": "Finished",
        "run": "Scan now",
    },
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    tmp = tmp_path_factory.mktemp("scan-browser")
    url = f"sqlite:///{tmp / 'db.sqlite'}"
    changes = {"fetch_allow_loopback": True, "fetch_host_interval_s": 0.0}
    svc = make_services(url, tmp, **changes)
    code, _case_id = enrol(svc, [original(1)], [])
    accounts.create_center(svc, "Seoul Center")
    accounts.create_worker(svc, "Seoul Center", "mina", PASSWORD, WorkerRole.WORKER)
    accounts.assign_case(svc, code, "Seoul Center")
    with local_site() as site, live_server(fast_settings(url, tmp, **changes)) as base:
        site.file("/copy.jpg", edited_copies(1)["border"], "image/jpeg")
        site.html("/", '<img src="/copy.jpg" alt="">')
        yield base, site.url("/")
    svc.db.dispose()


@pytest.mark.parametrize(("lang", "size"), [("ko", "desktop"), ("en", "phone")])
def test_add_a_source_and_scan_with_the_keyboard(
    server: tuple[str, str], browser: Any, lang: str, size: str
) -> None:
    base, start = server
    text = TEXT[lang]
    viewport = DESKTOP if size == "desktop" else PHONE
    page = new_page(browser, viewport=viewport, locale="ko-KR" if lang == "ko" else "en-GB")
    page.goto(f"{base}/worker/scans?lang={lang}")
    page.get_by_label(text["name"], exact=True).fill("mina")
    page.get_by_label(text["password"], exact=True).fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/worker/scans?lang=*")
    assert axe_violations(page) == []
    page.get_by_label(text["target"], exact=True).fill(start)
    page.get_by_label(text["target"], exact=True).press("Tab")
    page.keyboard.press("Tab")  # the depth field, then the schedule, then the button
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/worker/scans?added=1")
    screenshot(page, f"worker/scans-{lang}-{size}")
    button = page.get_by_role("button", name=f"{text['run']}: {start}").first
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/worker/scans/*")
    expect(page.locator("#scan-status")).to_have_text(text["done"], timeout=120_000)
    assert page.locator('[data-count="new_sightings"]').inner_text() in ("0", "1")
    assert text["done"] in page.locator("#scan-announce").inner_text()
    assert page.locator("#scan-cancel").is_hidden()
    assert axe_violations(page) == []
    screenshot(page, f"worker/scan-{lang}-{size}")
    page.context.close()
