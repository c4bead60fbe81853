"""First-run set-up in real Chromium: the printed link → the form → sign in as the new admin.

Screenshots (Korean and English, desktop and phone) go to
``test-artifacts/screenshots/setup/``; axe-core must find nothing on any step.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stopspread.services.context import Services
from stopspread.services.workers import setup
from tests.browser import DESKTOP, PHONE, axe_violations, new_page, screenshot
from tests.conftest import fast_settings, make_services
from tests.web.support import live_server

PASSWORD = "a long enough password"
WORDS = {
    "ko": {
        "center": "센터 이름",
        "admin": "관리자 이름 (로그인할 때 써요)",
        "password": "비밀번호 (12자 이상)",
        "again": "비밀번호 다시 입력",
        "submit": "센터와 관리자 만들기",
        "name": "이름",
        "login_password": "비밀번호",
        "nav_admin": "관리",
        "admin_title": "센터 관리",
        "done": "설정은 이미 끝났어요",
    },
    "en": {
        "center": "Center name",
        "admin": "Admin user name (for signing in)",
        "password": "Password (at least 12 characters)",
        "again": "Password again",
        "submit": "Create the center and its admin",
        "name": "Name",
        "login_password": "Password",
        "nav_admin": "Admin",
        "admin_title": "Center admin",
        "done": "Set-up is finished already",
    },
}


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[tuple[str, Services]]:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    svc = make_services(url, tmp_path)
    with live_server(fast_settings(url, tmp_path)) as base_url:
        yield base_url, svc
    svc.db.dispose()


@pytest.mark.parametrize(("lang", "size"), [("ko", "desktop"), ("en", "desktop"), ("ko", "phone")])
def test_setup_then_sign_in_as_the_new_admin(
    fresh: tuple[str, Services], browser: Any, lang: str, size: str
) -> None:
    base, svc = fresh
    words = WORDS[lang]
    token = setup.issue_setup_token(svc)
    assert token is not None
    viewport = DESKTOP if size == "desktop" else PHONE
    page = new_page(browser, viewport=viewport, locale="ko-KR" if lang == "ko" else "en-GB")
    page.goto(f"{base}/setup?token={token}")
    assert page.locator("html").get_attribute("lang") == lang
    assert axe_violations(page) == []
    screenshot(page, f"setup/form-{lang}-{size}")

    page.get_by_label(words["center"], exact=True).fill("서울 지원센터")
    page.get_by_label(words["admin"], exact=True).fill("hana")
    page.get_by_label(words["password"], exact=True).fill(PASSWORD)
    page.get_by_label(words["again"], exact=True).fill(PASSWORD)
    page.get_by_role("button", name=words["submit"]).click()
    page.wait_for_url("**/worker/login?setup=done")
    assert page.get_by_role("status").is_visible()
    assert axe_violations(page) == []
    screenshot(page, f"setup/sign-in-{lang}-{size}")

    page.get_by_label(words["name"], exact=True).fill("hana")
    page.get_by_label(words["login_password"], exact=True).fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/worker/cases")
    page.get_by_role("link", name=words["nav_admin"], exact=True).click()
    page.wait_for_url("**/worker/admin")
    assert page.locator("h1").inner_text() == words["admin_title"]
    assert page.get_by_text("hana", exact=True).first.is_visible()

    page.goto(f"{base}/setup?token={token}")  # the link worked once
    assert words["done"] in page.locator("[role=alert]").inner_text()
    assert axe_violations(page) == []
    screenshot(page, f"setup/used-{lang}-{size}")
