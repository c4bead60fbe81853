"""The room-check pages in real Chromium, phone first: consent with the keyboard, results,
advice, axe-core finds nothing. Screenshots go to ``test-artifacts/screenshots/roomcheck/``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import DESKTOP, PHONE, axe_violations, new_page, screenshot
from tests.web.roomcheck_support import PASSWORD, RoomSite, room_site

TEXT = {
    "ko": {
        "consent": "이 방은 제 방이거나, 이 네트워크를 점검할 권한이 있어요.",
        "start": "점검 시작",
        "likely": "카메라일 가능성이 높아요",
        "unlikely": "카메라가 아닌 것 같아요",
        "cannot": "이 점검으로 찾을 수 없는 것",
        "name": "이름",
        "password": "비밀번호",
        "saved": "점검 결과를 증거로 저장했어요.",
    },
    "en": {
        "consent": "This is my room, or I am authorised to check this network.",
        "start": "Start the check",
        "likely": "Likely a camera",
        "unlikely": "Probably not a camera",
        "cannot": "What this check cannot find",
        "name": "Name",
        "password": "Password",
        "saved": "The results were kept as evidence.",
    },
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RoomSite]:
    with room_site(tmp_path_factory.mktemp("roomcheck-browser")) as made:
        yield made


def _consent_and_start(page: Any, text: dict[str, str]) -> None:
    box = page.get_by_label(text["consent"], exact=True)
    box.focus()
    page.keyboard.press("Space")
    expect(box).to_be_checked()
    page.get_by_role("button", name=text["start"]).focus()
    page.keyboard.press("Enter")


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_standalone_page_on_a_phone(site: RoomSite, browser: Any, lang: str) -> None:
    text = TEXT[lang]
    page = new_page(browser, viewport=PHONE, locale="ko-KR" if lang == "ko" else "en-GB")
    page.goto(f"{site.standalone_url}/room-check?lang={lang}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert axe_violations(page) == []
    screenshot(page, f"roomcheck/standalone-consent-{lang}-phone")
    _consent_and_start(page, text)
    expect(page.get_by_text(text["likely"], exact=True).first).to_be_visible(timeout=60_000)
    assert page.get_by_text(text["likely"], exact=True).count() == 5
    assert page.get_by_text(text["unlikely"], exact=True).count() == 5
    expect(page.get_by_role("heading", name=text["cannot"])).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]  # nothing runs off a phone's screen
    assert axe_violations(page) == []
    screenshot(page, f"roomcheck/standalone-results-{lang}-phone")


@pytest.mark.parametrize(("lang", "size"), [("ko", "phone"), ("en", "desktop")])
def test_worker_keeps_a_check_and_sees_it_on_the_case(
    site: RoomSite, browser: Any, lang: str, size: str
) -> None:
    text = TEXT[lang]
    viewport = PHONE if size == "phone" else DESKTOP
    page = new_page(browser, viewport=viewport, locale="ko-KR" if lang == "ko" else "en-GB")
    page.goto(f"{site.worker_url}/worker/cases/{site.case_id}/room-check?lang={lang}")
    page.get_by_label(text["name"], exact=True).fill("mina")
    page.get_by_label(text["password"], exact=True).fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/worker/cases/{site.case_id}/room-check*")
    assert axe_violations(page) == []
    screenshot(page, f"roomcheck/case-{lang}-{size}")
    _consent_and_start(page, text)
    page.wait_for_url("**/room-check/*?saved=1", timeout=60_000)
    expect(page.get_by_role("status").first).to_contain_text(text["saved"])
    assert page.get_by_text(text["likely"], exact=True).count() == 5
    assert axe_violations(page) == []
    screenshot(page, f"roomcheck/case-result-{lang}-{size}")
    page.goto(f"{site.worker_url}/worker/cases/{site.case_id}/room-check")
    kept = page.locator(".checks li")
    assert kept.count() >= 1
    assert axe_violations(page) == []
