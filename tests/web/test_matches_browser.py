"""/worker/matches in real Chromium: the platform-match queue, Korean and English, desktop and
phone; a decision made with the keyboard; axe-core must find nothing.
Screenshots go to ``test-artifacts/screenshots/matches/``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from stopspread.services import platform
from stopspread.services.context import Services
from stopspread.services.timeline import case_timeline
from stopspread.storage.models import Bank, Signal
from tests.browser import DESKTOP, PHONE, axe_violations, new_page, screenshot
from tests.conftest import fast_settings, make_services
from tests.services.review_seed import PASSWORD, build_world
from tests.web.support import live_server


@dataclass
class Site:
    base_url: str
    svc: Services
    case_id: int


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("matches-browser")
    url = f"sqlite:///{tmp / 'db.sqlite'}"
    svc = make_services(url, tmp)
    world = build_world(svc, tmp)
    with svc.db.read() as session:
        signal_id = (
            session.query(Signal.id)
            .join(Bank, Bank.id == Signal.bank_id)
            .filter(Bank.case_id == world.case_a)
            .scalar()
        )
    refs = []
    for name in ("사진 앱", "video-site"):  # two platforms; the second sends its own feedback
        client, _key = platform.create_client(svc.db, name)
        for _ in range(2):
            result = platform.record_match(svc, client, [signal_id])
            assert result.match and result.ref
        refs.append((client, result.ref))
    client, ref = refs[1]
    platform.feedback(svc, client, ref, platform.ReviewStatus.CONFIRMED)
    with live_server(fast_settings(url, tmp)) as base_url:
        yield Site(base_url, svc, world.case_a)
    svc.db.dispose()


def _sign_in(browser: Any, base: str, viewport: dict[str, int], lang: str) -> Any:
    page = new_page(browser, viewport=viewport, locale="ko-KR" if lang == "ko" else "en-GB")
    page.goto(f"{base}/worker/matches?lang={lang}")
    page.get_by_label("이름" if lang == "ko" else "Name", exact=True).fill("mina")
    page.get_by_label("비밀번호" if lang == "ko" else "Password", exact=True).fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/worker/matches?lang=*")
    return page


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_matches_page_screens_and_accessibility(
    site: Site, browser: Any, lang: str, size: str
) -> None:
    viewport = DESKTOP if size == "desktop" else PHONE
    page = _sign_in(browser, site.base_url, viewport, lang)
    title = "플랫폼에서 발견된 것" if lang == "ko" else "Found on platforms"
    assert page.locator("h1").inner_text() == title
    nav = page.locator('nav a[aria-current="page"]')
    assert nav.inner_text() == ("플랫폼 발견" if lang == "ko" else "Platform matches")
    cards = page.locator("#matches > li")
    assert cards.count() == 2
    text = page.locator("#matches").inner_text()
    assert "사진 앱" in text and "video-site" in text
    said = "피해자의 촬영물이 맞다고 함" if lang == "ko" else "Says it is her image"
    assert said in text
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"]  # nothing runs off a phone's screen
    assert axe_violations(page) == []
    screenshot(page, f"matches/queue-{lang}-{size}")
    page.context.close()


def test_a_decision_by_keyboard_reaches_her_counts(site: Site, browser: Any) -> None:
    page = _sign_in(browser, site.base_url, DESKTOP, "ko")
    first = page.locator("#matches > li").first
    button = first.get_by_role("button", name="피해자의 촬영물이 맞아요")
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/worker/matches?saved=*")
    assert "판단을 저장했어요" in page.locator("[role=status]").inner_text()
    assert page.locator("#matches-open").inner_text() == "판단을 기다리는 것: 1건"
    assert axe_violations(page) == []
    screenshot(page, "matches/decided-ko-desktop")
    page.context.close()
    with site.svc.db.read() as session:
        counts = case_timeline(session, [site.case_id]).counts
    # the seed's three sightings wait for review too
    assert (counts.platform_matches, counts.confirmed, counts.under_review) == (2, 1, 4)


@pytest.mark.parametrize(("lang", "size"), [("ko", "desktop"), ("en", "phone")])
def test_the_case_timeline_on_the_case_dashboard(
    site: Site, browser: Any, lang: str, size: str
) -> None:
    page = _sign_in(browser, site.base_url, DESKTOP if size == "desktop" else PHONE, lang)
    page.goto(f"{site.base_url}/worker/takedown?case={site.case_id}")
    rows = page.locator("#case-timeline tbody tr")
    assert rows.count() >= 5  # three sightings and two platform matches, found
    heading = "사건의 흐름" if lang == "ko" else "What happened in this case"
    assert page.locator("#timeline").inner_text() == heading
    assert page.locator("#n-sightings").inner_text() == "5"
    assert axe_violations(page) == []
    screenshot(page, f"matches/case-timeline-{lang}-{size}")
    page.context.close()
