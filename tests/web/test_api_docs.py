"""``/docs`` (Swagger UI from our own origin, under the pages' CSP), no ``/redoc``, and
``/favicon.ico``: over HTTP, and ``/docs`` in real Chromium."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.sync_api import expect

from stopspread.web.security import CSP
from tests.browser import DESKTOP, new_page, screenshot
from tests.conftest import fast_settings
from tests.web.support import live_server


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("api-docs")
    with live_server(fast_settings(f"sqlite:///{tmp / 'db.sqlite'}", tmp)) as base_url:
        yield base_url


def test_docs_page_is_strict_and_loads_only_our_files(site: str) -> None:
    with httpx.Client(base_url=site) as client:
        page = client.get("/docs")
        assert page.status_code == 200 and page.headers["content-security-policy"] == CSP
        scripts = re.findall(r"<script[^>]*>", page.text)
        assert scripts and all(' src="/' in tag for tag in scripts)  # no inline script
        assert " style=" not in page.text and "<style" not in page.text
        assert "http" not in "".join(re.findall(r'(?:src|href)="([^"]*)"', page.text))
        for path in re.findall(r'(?:src|href)="(/[^"]*)"', page.text):
            assert client.get(path).status_code == 200, path
        bundle = client.get("/docs/assets/swagger-ui-bundle.js")
        assert "javascript" in bundle.headers["content-type"]


def test_redoc_is_not_served(site: str) -> None:
    with httpx.Client(base_url=site) as client:
        for path in ("/redoc", "/docs/oauth2-redirect"):
            answer = client.get(path)
            assert answer.status_code == 404, path
            assert answer.json()["ok"] is False


def test_favicon_is_a_small_icon(site: str) -> None:
    answer = httpx.get(f"{site}/favicon.ico")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/x-icon"
    assert len(answer.content) < 4096
    with Image.open(io.BytesIO(answer.content)) as icon:
        assert icon.format == "ICO" and {(16, 16), (32, 32)} <= icon.info["sizes"]


def test_docs_in_the_browser_show_the_operations_offline_without_csp_violations(
    site: str, browser: Any
) -> None:
    page = new_page(browser, viewport=DESKTOP, locale="en-GB")
    requests: list[str] = []
    console: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{site}/docs")
    expect(page.locator("#swagger-ui")).to_have_attribute("data-state", "ready")
    operation = page.locator('.opblock-summary-path[data-path="/v1/match"]')
    expect(operation).to_be_visible()
    operation.click()  # opened: its request body and answers are drawn from the description
    opened = page.locator(".opblock.is-open")
    expect(opened).to_have_count(1)
    expect(opened.get_by_role("button", name="Try it out")).to_be_visible()
    screenshot(page, "api/docs-en-desktop")
    off_origin = [u for u in requests if not u.startswith((site + "/", "data:", "blob:"))]
    assert off_origin == []
    assert f"{site}/openapi.json" in requests
    assert [m for m in console if "Content Security Policy" in m or "Refused to" in m] == []
    assert errors == []
    page.context.close()


def test_docs_assets_come_from_the_installed_package() -> None:
    from stopspread.web.routes.api_docs import swagger_ui_dir

    folder = swagger_ui_dir()
    assert (folder / "swagger-ui-bundle.js").is_file() and (folder / "swagger-ui.css").is_file()
    assert "site-packages" in folder.parts  # the installed package, never a copy in this repo


def _refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(document: dict[str, Any], ref: str) -> object:
    node: object = document
    for part in ref.removeprefix("#/").split("/"):
        assert isinstance(node, dict) and part in node, ref
        node = node[part]
    return node


def test_every_reference_in_the_openapi_document_resolves(site: str) -> None:
    """Found by schemathesis (tests/web/test_api_schemathesis.py): POST /v1/match's body
    pointed at ``#/$defs/QuerySignalIn``, which the document does not have, so clients and
    schemathesis could not read that body at all."""
    document = httpx.get(f"{site}/openapi.json").json()
    refs = set(_refs(document))
    assert refs
    for ref in refs:
        assert ref.startswith("#/")
        _resolve(document, ref)
