"""The page skeleton: language, security headers, static files, and the base layout in Chromium."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import Request
from fastapi.responses import HTMLResponse
from playwright.sync_api import expect

from stopspread.web import create_app
from stopspread.web.deps import PagesDep
from stopspread.web.pages import TEMPLATES_DIR, Pages
from stopspread.web.security import CSP
from tests.browser import PHONE, axe_violations, new_page, save_screenshot
from tests.conftest import fast_settings
from tests.web.support import serve

DEMO = """{% extends "base.html" %}
{% block content %}<h1>{{ t("common.product") }}</h1><p>{{ t("common.footer") }}</p>{% endblock %}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> object:
    tmp = tmp_path_factory.mktemp("pages")
    (tmp / "templates").mkdir()
    (tmp / "templates" / "demo.html").write_text(DEMO, encoding="utf-8")
    app = create_app(fast_settings(f"sqlite:///{tmp / 'db.sqlite'}", tmp))
    pages = Pages(templates=[tmp / "templates", TEMPLATES_DIR])

    @app.get("/demo", response_class=HTMLResponse)
    async def demo(request: Request, _pages: PagesDep) -> HTMLResponse:
        return pages.render(request, "demo.html")

    from stopspread.storage import Database, upgrade

    db = Database(f"sqlite:///{tmp / 'db.sqlite'}")
    upgrade(db)
    db.dispose()
    with serve(app) as base_url:
        yield base_url


def test_korean_by_default_english_when_preferred_or_chosen(site: str) -> None:
    with httpx.Client(base_url=site) as client:
        ko = client.get("/demo")
        en = client.get("/demo", headers={"Accept-Language": "en-GB,en;q=0.9"})
        chosen = client.get("/demo?lang=en")
    assert '<html lang="ko">' in ko.text and "본문으로 건너뛰기" in ko.text
    assert '<html lang="en">' in en.text and 'href="/demo?lang=ko"' in en.text
    assert chosen.cookies.get("lang") == "en"
    assert client.cookies.get("lang") == "en"


def test_pages_carry_the_security_headers_and_the_api_does_not(site: str) -> None:
    with httpx.Client(base_url=site) as client:
        page = client.get("/demo")
        api = client.get("/healthz")
    assert page.headers["content-security-policy"] == CSP
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert "content-security-policy" not in api.headers


def test_static_files_are_served(site: str) -> None:
    with httpx.Client(base_url=site) as client:
        css = client.get("/static/common/base.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


def test_base_layout_is_accessible_in_both_languages(site: str, browser: object) -> None:
    for lang in ("ko", "en"):
        page = new_page(browser, viewport=PHONE)
        page.goto(f"{site}/demo?lang={lang}")
        assert axe_violations(page) == []
        path = save_screenshot(page, f"skeleton/base-{lang}-phone")
        assert path.stat().st_size > 0
        page.keyboard.press("Tab")
        expect(page.locator(".skip-link")).to_be_focused()
        page.context.close()


def test_axe_finds_violations_once_loaded_and_again_after_a_navigation(
    site: str, browser: object
) -> None:
    """``axe_violations`` loads axe-core once per document and returns only violations: a
    missing alt text and a nameless button are found, twice on the same document; after a
    navigation (axe-core gone with the old document) the clean page has none."""
    page = new_page(browser, viewport=PHONE)
    page.goto(f"{site}/demo?lang=ko")
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main><h1>t</h1>'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><button></button></main></body></html>'
    )
    for _ in range(2):
        found = {v["id"] for v in axe_violations(page)}
        assert {"image-alt", "button-name"} <= found, found
    page.goto(f"{site}/demo?lang=en")
    assert axe_violations(page) == []
    page.context.close()


def test_screenshots_folder_is_ignored_by_git() -> None:
    ignore = (Path(__file__).resolve().parents[2] / ".gitignore").read_text()
    assert "/test-artifacts/" in ignore
