"""The review page at scale in real Chromium: a group decided with the page's script (no
navigation), preview levels switched in place, axe-core clean, screenshots.

Screenshots go to ``test-artifacts/screenshots/worker/review-groups-*.png``: the photo group
of five copies with its bulk form, then after the bulk decision; and ``preview-levels-*``:
one card in each preview level.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from stopspread.storage.models_scan import ReviewState, Sighting
from tests.browser import (
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    axe_violations,
    images_loaded,
    screenshot,
)
from tests.conftest import fast_settings, make_services
from tests.services.review_groups_seed import Copies, add_copies
from tests.services.review_seed import World, build_world
from tests.web.support import live_server
from tests.web.test_worker_browser import _sign_in

Site = tuple[str, World, Copies]


@pytest.fixture
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("review-groups-browser")
    url = f"sqlite:///{tmp / 'db.sqlite'}"
    svc = make_services(url, tmp)
    world = build_world(svc, tmp)
    copies = add_copies(world)
    with live_server(fast_settings(url, tmp)) as base_url:
        yield base_url, world, copies
    svc.db.dispose()


@pytest.mark.parametrize(("lang", "size"), [("ko", "desktop"), ("en", "phone")])
def test_a_group_is_decided_without_a_reload(
    site: Site, browser: Any, lang: str, size: str
) -> None:
    from playwright.sync_api import expect

    base, world, copies = site
    page = _sign_in(browser, base, DESKTOP if size == "desktop" else PHONE, lang)
    page.goto(f"{base}/worker/review?case={world.case_a}")
    images_loaded(page.locator(".preview img"), 9, width=240)
    group = page.locator(f"#group-{world.case_a}-{copies.photo_1}")
    title = "등록한 사진 1" if lang == "ko" else "Enrolled photo 1"
    expect(group.locator("h2")).to_contain_text(title)
    expect(group.locator("li.card")).to_have_count(5)
    assert axe_violations(page) == []
    screenshot(page, f"worker/review-groups-{lang}-{size}")

    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    before = page.url
    confirm_all = "모두 맞아요" if lang == "ko" else "Confirm all"
    group.get_by_role("button", name=confirm_all).click()
    saved = (
        "발견 5건의 판단을 저장했어요."
        if lang == "ko"
        else "Your decision on 5 sightings is saved."
    )
    expect(page.locator("#review-announce")).to_have_text(saved)
    expect(group.locator(".badge-confirmed")).to_have_count(5)
    expect(group.locator("form.group-decisions")).to_be_hidden()
    expect(group.locator("h2")).to_be_focused()  # focus left the form that went away
    assert page.url == before and navigations == []
    with world.svc.db.read() as session:
        states = {session.get(Sighting, s).review_status for s in copies.copies}  # type: ignore[union-attr]
    assert states == {ReviewState.CONFIRMED}
    assert axe_violations(page) == []
    screenshot(page, f"worker/review-groups-decided-{lang}-{size}")
    page.context.close()


def test_preview_levels_switch_in_place(site: Site, browser: Any) -> None:
    from playwright.sync_api import expect

    base, world, copies = site
    page = _sign_in(browser, base, DESKTOP, "ko")
    page.goto(f"{base}/worker/review?case={world.case_a}")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    card = page.locator(f"#sighting-{copies.copies[0]}")
    img = card.locator(".preview img")
    for name, level, caption in [
        ("색 흐림", "colour", "흐린 색 미리보기 (원본 아님)"),
        ("윤곽선", "outline", "윤곽선 미리보기 (원본 아님)"),
        ("흑백 흐림", "blur", "흐린 흑백 미리보기"),
    ]:
        card.get_by_role("link", name=name).click()
        expect(card.locator("figcaption")).to_have_text(caption)
        expect(card.get_by_role("link", name=name)).to_have_attribute("aria-current", "true")
        suffix = "" if level == "blur" else f"?level={level}"
        assert (img.get_attribute("src") or "").endswith(f"preview.png{suffix}")
        images_loaded(img, 1, width=240)
        (SCREENSHOTS / "worker").mkdir(parents=True, exist_ok=True)
        card.screenshot(path=str(SCREENSHOTS / f"worker/preview-levels-{level}-ko.png"))
    assert navigations == []
    assert axe_violations(page) == []
    page.context.close()
