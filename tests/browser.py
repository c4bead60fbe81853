"""Real headless Chromium (Debian's ``/usr/bin/chromium``) driven by Playwright, for page tests.

``browser`` is one browser for the whole session; ``new_page`` opens a fresh context (no shared
cookies or storage) at a given viewport; ``axe_violations`` runs axe-core on the page as it is now.

Screenshots are artifacts for people, never asserted, and a full-page PNG costs about a second
on a loaded machine: ``screenshot`` names the step a page is at and writes nothing, unless
``STOPSPREAD_TEST_SCREENSHOTS=1`` asks for every step (``test-artifacts/screenshots/<name>.png``).
When a test fails, every page still open is saved as it stands then, under the name of its
last step: ``test-artifacts/screenshots/failed/<name>.png``. ``save_screenshot`` always writes
(for a test that reads the file).
Tests that use these fail with a clear message when Chromium is not installed (``make test``
installs it).

Waiting: on the page's own state only — locators, ``expect(...)``, ``wait_for_url``, DOM
attributes the page sets (``images_loaded`` for pictures). Never ``page.wait_for_function``:
Playwright polls it by evaluating the string again on later animation frames, which our CSP
(no ``unsafe-eval``) refuses whenever the first try did not already succeed — a flake.
``tests/test_browser_rules.py`` keeps it out. A one-shot ``evaluate`` is compiled inside
the DevTools call, which Chromium allows; keep those to what no locator can read.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest

CHROMIUM: Final = Path("/usr/bin/chromium")
ARTIFACTS: Final = Path(__file__).resolve().parent.parent / "test-artifacts"
SCREENSHOTS: Final = ARTIFACTS / "screenshots"
DESKTOP: Final = {"width": 1280, "height": 800}
PHONE: Final = {"width": 360, "height": 740}
SCREENSHOTS_ENV: Final = "STOPSPREAD_TEST_SCREENSHOTS"
AXE_TAGS: Final = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
# As root in a sandbox without a network: no zygote sandbox, no background connections.
CHROMIUM_ARGS: Final = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

__all__ = [
    "DESKTOP",
    "PHONE",
    "axe_violations",
    "browser",
    "images_loaded",
    "new_page",
    "pytest_runtest_makereport",
    "pytest_runtest_setup",
    "save_screenshot",
    "screenshot",
]

# The last step named on each page of the running test: (page, name) by the page's id.
_last_step: dict[int, tuple[Any, str]] = {}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.fail(f"Chromium not found at {CHROMIUM} (make test installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def new_page(
    browser: Any, viewport: dict[str, int] = DESKTOP, locale: str = "ko-KR", **options: Any
) -> Any:
    """A page in a fresh context: its own cookies and storage, the given size and language."""
    context = browser.new_context(viewport=viewport, locale=locale, **options)
    return context.new_page()


def screenshot(page: Any, name: str, full_page: bool = True) -> Path:
    """``page`` is at the step ``name`` (folders in it allowed): saved only if the test fails
    (``failed/<name>.png``) or ``STOPSPREAD_TEST_SCREENSHOTS=1``; where that PNG goes."""
    _last_step[id(page)] = (page, name)
    if os.environ.get(SCREENSHOTS_ENV) == "1":
        return save_screenshot(page, name, full_page)
    return SCREENSHOTS / f"{name}.png"


def save_screenshot(page: Any, name: str, full_page: bool = True) -> Path:
    """Save a PNG as ``test-artifacts/screenshots/<name>.png`` now."""
    path = SCREENSHOTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    return path


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Each test starts with no step named (a module's shared page included)."""
    _last_step.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed test: each page still open, as it stands now, under its last step's name."""
    report = yield
    if report.when == "call" and report.failed:
        _save_failed_pages()
    return report


def _save_failed_pages() -> None:
    from playwright.sync_api import Error

    for page, name in list(_last_step.values()):
        if page.is_closed():
            continue
        try:
            path = SCREENSHOTS / "failed" / f"{name}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(path), full_page=True, timeout=15_000)
        except Error:  # a crashed or hung page: the failure itself is already reported
            continue


# axe-core is injected once per document (a navigation drops it); only violations are
# collected and sent back: the passes' nodes were most of the time of a run (about 3.7 s on a
# loaded machine for a worker page) and nothing reads them.
_AXE_LOADED: Final = "() => typeof window.axe === 'object' && typeof window.axe.run === 'function'"
_AXE_RUN: Final = "(options) => window.axe.run(document, options).then((r) => r.violations)"


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as rendered now (id, impact, help, nodes)."""
    from axe_playwright_python.base import AXE_SCRIPT

    if not page.evaluate(_AXE_LOADED):
        page.evaluate(AXE_SCRIPT)
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    violations: list[dict[str, Any]] = page.evaluate(_AXE_RUN, options)
    return violations


def images_loaded(images: Any, count: int, width: int | None = None) -> None:
    """Wait until ``images`` (a locator) matches ``count`` pictures, each loaded and decoded
    (``width`` pixels wide when given), reading DOM properties: no script is evaluated."""
    from playwright.sync_api import expect

    expect(images).to_have_count(count)
    for image in images.all():
        expect(image).to_have_js_property("complete", True)
        if width is None:
            expect(image).not_to_have_js_property("naturalWidth", 0)
        else:
            expect(image).to_have_js_property("naturalWidth", width)
