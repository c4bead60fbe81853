"""Browser helpers for the survivor page tests: pages, steps with screenshots and axe, waits."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser import DESKTOP, PHONE, axe_violations, new_page, screenshot

__all__ = [
    "FITS",
    "GATE",
    "LOCALES",
    "SLOW_MS",
    "VIEWPORTS",
    "Steps",
    "focused_id",
    "open_page",
    "tab_to",
    "wait_focus",
]

VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
LOCALES = {"ko": "ko-KR", "en": "en-US"}
SLOW_MS = 120_000  # hashing a video on a busy 2-core machine

# Holds the page's hashing until the test has looked at the "hashing" step.
GATE = """() => {
  const hashing = window.StopSpreadHashing;
  const original = hashing.hashFile;
  let open;
  const gate = new Promise((resolve) => { open = resolve; });
  window.__openGate = () => open();
  hashing.hashFile = async (file, options) => {
    options.onProgress({done: 1, total: 3, stage: "hashing"});
    await gate;
    return original.call(hashing, file, options);
  };
}"""


# Nothing scrolls sideways, and every visible button and check row is at least 44 px tall.
FITS = """() => document.documentElement.scrollWidth <= window.innerWidth &&
  [...document.querySelectorAll("main button, .quick-exit, .toggle, .site-nav a")]
    .filter((el) => el.getClientRects().length > 0)
    .every((el) => el.getBoundingClientRect().height >= 44)"""


class Steps:
    """Each step numbered in order for its screenshot (tests/browser.py: written when the test
    fails), checked to fit the screen, and by axe-core where asked."""

    def __init__(self, page: Any, lang: str, view: str, axe: bool, first: int = 1) -> None:
        self.page, self.prefix, self.axe = page, f"survivor/{lang}-{view}", axe
        self.count = first - 1

    def __call__(self, name: str, axe: bool = True) -> None:
        self.count += 1
        self.page.evaluate("window.scrollTo(0, 0)")  # the sticky quick exit at the top
        screenshot(self.page, f"{self.prefix}/{self.count:02d}-{name}")
        assert self.page.evaluate(FITS), f"{name}: wider than the screen, or a target under 44 px"
        if self.axe and axe:
            found = axe_violations(self.page)
            assert found == [], [(v["id"], [n["target"] for n in v["nodes"]]) for v in found]


def open_page(browser: Any, lang: str, view: str) -> Any:
    page = new_page(browser, viewport=VIEWPORTS[view], locale=LOCALES[lang])
    page.set_default_timeout(30_000)
    return page


def focused_id(page: Any) -> str:
    result: str = page.evaluate("document.activeElement && document.activeElement.id")
    return result


def wait_focus(page: Any, element_id: str, timeout: int = 30_000) -> None:
    expect(page.locator(f"#{element_id}")).to_be_focused(timeout=timeout)


def tab_to(page: Any, element_id: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused_id(page) == element_id:
            return
    raise AssertionError(f"#{element_id} is not reachable with the Tab key")
