"""The review page in real Chromium: blurred previews, the deliberate reveal, decisions.

Screenshots (Korean and English, desktop and phone) go to
``test-artifacts/screenshots/worker/``; axe-core must find nothing on any worker page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from stopspread.storage.models import AuditEvent
from stopspread.storage.models_scan import ReviewState, Sighting
from tests.browser import DESKTOP, PHONE, axe_violations, images_loaded, new_page, screenshot
from tests.conftest import fast_settings, make_services
from tests.services.review_seed import PASSWORD, World, build_world
from tests.web.support import live_server


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    tmp = tmp_path_factory.mktemp("worker-browser")
    url = f"sqlite:///{tmp / 'db.sqlite'}"
    svc = make_services(url, tmp)
    world = build_world(svc, tmp)
    with live_server(fast_settings(url, tmp)) as base_url:
        yield base_url, world
    svc.db.dispose()


def _sign_in(browser: Any, base: str, viewport: dict[str, int], lang: str) -> Any:
    page = new_page(browser, viewport=viewport, locale="ko-KR" if lang == "ko" else "en-GB")
    page.goto(f"{base}/worker/review?lang={lang}")  # redirected to the sign-in form
    assert "/worker/login" in page.url
    page.get_by_label("이름" if lang == "ko" else "Name", exact=True).fill("mina")
    page.get_by_label("비밀번호" if lang == "ko" else "Password", exact=True).fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/worker/review**")
    return page


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_review_page_screens_and_accessibility(
    site: tuple[str, World], browser: Any, lang: str, size: str
) -> None:
    base, _world = site
    page = _sign_in(browser, base, DESKTOP if size == "desktop" else PHONE, lang)
    images_loaded(page.locator(".preview img"), 3, width=240)  # the blurred previews
    assert page.locator("h1").inner_text() == ("발견 검토" if lang == "ko" else "Review sightings")
    assert page.locator("article h3").count() == 3
    assert axe_violations(page) == []
    screenshot(page, f"worker/review-{lang}-{size}")
    if size == "desktop":
        page.goto(f"{base}/worker/cases")
        assert axe_violations(page) == []
        screenshot(page, f"worker/cases-{lang}-{size}")
        page.context.clear_cookies()
        page.goto(f"{base}/worker/login?lang={lang}")
        assert axe_violations(page) == []
        screenshot(page, f"worker/login-{lang}-{size}")
    page.context.close()


def test_reveal_is_deliberate_logged_and_keyboard_reachable(
    site: tuple[str, World], browser: Any
) -> None:
    base, world = site
    page = _sign_in(browser, base, DESKTOP, "en")
    sid = world.sightings_a[0]
    link = page.get_by_role("link", name=f"Show the original of sighting {sid}…")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/worker/sightings/{sid}/reveal")
    assert page.locator("img").count() == 0  # nothing shown before the second step
    assert axe_violations(page) == []
    screenshot(page, "worker/reveal-confirm-en-desktop")
    before = _reveals(world)
    page.get_by_role("button", name="Yes, show the original").click()
    images_loaded(page.locator(".original img"), 1)
    assert _reveals(world) == [*before, {"worker": 1, "sighting": sid, "evidence": _ev(world, sid)}]
    assert axe_violations(page) == []
    page.context.close()


def test_decisions_by_keyboard(site: tuple[str, World], browser: Any) -> None:
    """With the page's script the form goes out by fetch: no navigation, the card updates."""
    from playwright.sync_api import expect

    base, world = site
    page = _sign_in(browser, base, DESKTOP, "ko")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    before = page.url
    sid = world.sightings_a[1]
    card = page.locator(f"#sighting-{sid}")
    card.get_by_role("button", name="아니에요").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#review-announce")).to_have_text(f"발견 {sid}번의 판단을 저장했어요.")
    expect(card.locator(".badge-rejected")).to_have_text("아님")
    expect(card.locator("[data-reviewed-by]")).to_have_text("mina")
    assert page.url == before and navigations == []
    with world.svc.db.read() as session:
        row = session.get(Sighting, sid)
        assert row is not None and row.review_status is ReviewState.REJECTED
    page.context.close()


def test_admin_page(site: tuple[str, World], browser: Any) -> None:
    base, _world = site
    page = new_page(browser, viewport=DESKTOP)
    page.goto(f"{base}/worker/login?next=%2Fworker%2Fadmin")
    page.get_by_label("이름", exact=True).fill("hana")
    page.get_by_label("비밀번호", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="로그인").click()
    page.wait_for_url("**/worker/admin")
    assert page.get_by_role("link", name="관리").get_attribute("aria-current") == "page"
    assert axe_violations(page) == []
    screenshot(page, "worker/admin-ko-desktop")
    page.context.close()


def _reveals(world: World) -> list[dict[str, object]]:
    with world.svc.db.read() as session:
        rows = session.scalars(
            select(AuditEvent.payload).where(AuditEvent.kind == "evidence_revealed")
        )
        return [json.loads(p) for p in rows]


def _ev(world: World, sid: int) -> int:
    with world.svc.db.read() as session:
        row = session.get(Sighting, sid)
        assert row is not None
        return row.media_evidence_id
