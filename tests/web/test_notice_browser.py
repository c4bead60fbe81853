"""Notices per host in real Chromium: the case's notices and consent on the dashboard, a notice
with its edit form, the confirmation page and her profile — Korean and English, desktop and
phone; axe-core must find nothing, and no deadline shows seconds. Screenshots go to
``test-artifacts/screenshots/notices/``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from stopspread.services.removal import notices
from tests.browser import DESKTOP, PHONE, axe_violations, new_page, screenshot
from tests.conftest import fast_settings, make_services
from tests.services.removal.notice_seed import notice_world, url_on
from tests.services.review_seed import PASSWORD
from tests.web.support import live_server

SECONDS = re.compile(r"\d{2}:\d{2}:\d{2}")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, int]]:
    tmp = tmp_path_factory.mktemp("notice-browser")
    url = f"sqlite:///{tmp / 'db.sqlite'}"
    svc = make_services(url, tmp, smtp_from="takedown@seoul.test")
    urls = [url_on("hosta.example", n) for n in range(12)] + [url_on("hostb.example", 1)]
    world = notice_world(svc, urls)
    notices.set_case_consent(svc, world.who, world.case_id, notices.ConsentBasis.SHARING_ONLY)
    first = notices.draft_case_notices(svc, world.who, world.case_id).notice_ids[0]
    svc.db.dispose()
    with live_server(fast_settings(url, tmp, smtp_from="takedown@seoul.test")) as base_url:
        yield base_url, world.case_id, first


def _sign_in(browser: Any, base: str, viewport: dict[str, int], lang: str) -> Any:
    page = new_page(browser, viewport=viewport, locale="ko-KR" if lang == "ko" else "en-GB")
    page.goto(f"{base}/worker/profile?lang={lang}")
    page.get_by_label("이름" if lang == "ko" else "Name", exact=True).fill("hana")
    page.get_by_label("비밀번호" if lang == "ko" else "Password", exact=True).fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/worker/profile**")
    return page


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_notice_pages_screens_and_accessibility(
    site: tuple[str, int, int], browser: Any, lang: str, size: str
) -> None:
    base, case_id, notice_id = site
    page = _sign_in(browser, base, DESKTOP if size == "desktop" else PHONE, lang)
    assert page.locator("#display-name").input_value() == "김하나"
    assert axe_violations(page) == []
    screenshot(page, f"notices/profile-{lang}-{size}")

    page.goto(f"{base}/worker/takedown?case={case_id}")
    checked = page.locator("input[name=consent]:checked")
    assert checked.get_attribute("value") == "sharing_only"
    assert page.locator(".case-notices li").count() == 2
    assert axe_violations(page) == []
    screenshot(page, f"notices/case-{lang}-{size}")

    page.goto(f"{base}/worker/takedown/notices/{notice_id}")
    assert page.locator("ol.notice-items li").count() == 12
    assert "김하나" in page.locator("#notice-text").input_value()
    assert axe_violations(page) == []
    screenshot(page, f"notices/notice-{lang}-{size}")

    page.goto(f"{base}/worker/takedown/notices/{notice_id}/confirm")
    assert page.locator("#confirm-recipient").inner_text() == "abuse@hosta.example"
    assert page.locator("#confirm-items li").count() == 12
    assert not SECONDS.search(page.locator("#confirm-deadline").inner_text())
    assert "촬영에는 동의했지만" in page.locator("#confirm-text").inner_text()
    assert axe_violations(page) == []
    screenshot(page, f"notices/confirm-{lang}-{size}")
    page.context.close()
