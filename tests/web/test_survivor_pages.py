"""The survivor web app in real headless Chromium against a live server on port 0.

One server for the module. Each flow test drives the whole path (start, age question, files,
hashing, confirm, code and secret, status, withdrawal) in one language at one screen size,
records every request the browser makes and proves no file bytes left it, runs axe-core on
every step (desktop, both languages) and saves a screenshot of every step under
``test-artifacts/screenshots/survivor/``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser import DESKTOP, PHONE, axe_violations, new_page, screenshot
from tests.conftest import TESTDATA, encode, fast_settings, synthetic_rgb
from tests.web.support import live_server
from tests.web.survivor_support import RequestLog, assert_no_file_bytes_left, md5s

VIDEO = TESTDATA / "vpdq" / "videos" / "test-padded-dimensions.mp4"  # 5 s, 56 kB, H.264
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


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("survivor-pages")
    settings = fast_settings(
        f"sqlite:///{tmp / 'db.sqlite'}",
        tmp,
        case_attempts_per_minute=1000.0,
        address_attempts_per_minute=1000.0,
    )
    with live_server(settings) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three synthetic images (never a real photograph), one with a Korean name."""
    folder = tmp_path_factory.mktemp("survivor-files")
    made = {
        "사진-1.jpg": encode(synthetic_rgb(640, 480, seed=11), "JPEG", quality=90),
        "photo-2.png": encode(synthetic_rgb(300, 420, seed=12), "PNG"),
        "photo-3.jpg": encode(synthetic_rgb(1024, 768, seed=13), "JPEG", quality=85),
    }
    for name, data in made.items():
        (folder / name).write_bytes(data)
    return [folder / name for name in made]


class Steps:
    """Screenshots (and axe-core where asked) of each step, numbered in order."""

    def __init__(self, page: Any, lang: str, view: str, axe: bool) -> None:
        self.page, self.prefix, self.axe, self.count = page, f"survivor/{lang}-{view}", axe, 0

    def __call__(self, name: str) -> None:
        self.count += 1
        screenshot(self.page, f"{self.prefix}/{self.count:02d}-{name}")
        if self.axe:
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
    page.wait_for_function(
        "id => document.activeElement && document.activeElement.id === id",
        arg=element_id,
        timeout=timeout,
    )


def choose_and_hash(page: Any, files: list[Path], steps: Callable[[str], None]) -> None:
    page.wait_for_selector("#step-choose:not([hidden])")
    steps("choose")
    page.set_input_files("#file-input", [str(p) for p in files])
    page.wait_for_function(
        "n => document.querySelectorAll('#file-list li').length === n", arg=len(files)
    )
    steps("choose-files")
    page.check("#show-previews")
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    steps("choose-previews")
    page.uncheck("#show-previews")
    page.evaluate(GATE)
    page.click("#hash-button")
    wait_focus(page, "hashing-title")
    page.wait_for_selector("#hash-status:not(:empty)")
    steps("hashing")
    page.evaluate("window.__openGate()")
    wait_focus(page, "confirm-title", SLOW_MS)
    assert page.is_hidden("#confirm-failed")
    steps("confirm")


def check_receipt(page: Any, code: str, secret: str, files: list[Path]) -> None:
    page.check("#include-sha")
    with page.expect_download() as download:
        page.click("#download-button")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert code in text and secret in text
    for path in files:
        assert hashlib.sha256(path.read_bytes()).hexdigest() in text
    assert path.name not in text
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("#copy-button")
    page.wait_for_selector("#done-status:not(:empty)")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert code in copied and secret in copied


def check_nothing_stored(page: Any) -> None:
    stored = page.evaluate(
        "async () => [localStorage.length, sessionStorage.length, document.cookie,"
        " (await indexedDB.databases()).length]"
    )
    assert stored == [0, 0, "", 0]


def status_and_withdraw(
    page: Any, site: str, code: str, secret: str, sent: int, steps: Callable[[str], None]
) -> None:
    page.wait_for_selector("#status-form")
    steps("status")
    page.fill("#code-input", code.replace("-", "").lower())
    page.fill("#secret-input", secret + "x")
    page.click("#lookup-button")
    page.wait_for_selector("#status-message.error")
    steps("status-wrong-secret")
    page.fill("#secret-input", secret)
    page.click("#lookup-button")
    wait_focus(page, "result-title")
    values = page.eval_on_selector_all(
        "#counts .count",
        "els => Object.fromEntries(els.map(e => [e.dataset.field, e.querySelector('.count-value').textContent]))",
    )
    assert values["signals"] == f"{sent:,}" and values["matches"] == "0"
    assert page.is_visible(".count--pending[data-field=removed]")
    steps("status-counts")
    page.click("#withdraw-button")
    wait_focus(page, "withdraw-confirm-title")
    steps("withdraw-confirm")
    page.click("#withdraw-yes")
    wait_focus(page, "withdrawn-title")
    assert f"{sent:,}" in page.text_content("#withdrawn-body")
    steps("withdrawn")
    answer = httpx.get(f"{site}/v1/cases/{code}", headers={"X-Case-Secret": secret})
    assert answer.status_code == 403  # withdrawn: the secret's hash is gone with the hashes


FLOWS = [
    pytest.param("ko", "desktop", True, id="ko-desktop-video"),
    pytest.param("en", "desktop", False, id="en-desktop"),
    pytest.param("ko", "phone", False, id="ko-phone"),
    pytest.param("en", "phone", False, id="en-phone"),
]


@pytest.mark.parametrize(("lang", "view", "video"), FLOWS)
def test_enrol_follow_and_withdraw_without_any_file_leaving_the_browser(
    site: str, browser: Any, images: list[Path], lang: str, view: str, video: bool
) -> None:
    files = list(images)
    if video:
        if not VIDEO.is_file():
            pytest.skip(f"test video not found at {VIDEO} (see ../shared/testdata/README.md)")
        files.append(VIDEO)
    page = open_page(browser, lang, view)
    log = RequestLog(site)
    log.attach(page.context)
    steps = Steps(page, lang, view, axe=view == "desktop")

    page.goto(f"{site}/survivor")  # the language comes from the browser's Accept-Language
    assert page.get_attribute("html", "lang") == lang
    steps("start")
    page.click("button[name=answer][value=adult]")
    page.wait_for_url("**/survivor/new*")
    choose_and_hash(page, files, steps)
    page.click("#send-button")
    wait_focus(page, "done-title")
    code, secret = page.text_content("#case-code"), page.text_content("#case-secret")
    assert code and secret
    steps("done")
    page.emulate_media(media="print")
    steps("done-print")
    page.emulate_media(media="screen")
    check_receipt(page, code, secret, files)
    check_nothing_stored(page)

    signals = assert_no_file_bytes_left(log, [p.read_bytes() for p in files])
    assert {s["value"] for s in signals if s["type"] == "md5"} == md5s(
        [p.read_bytes() for p in files]
    )
    case = httpx.get(f"{site}/v1/cases/{code}", headers={"X-Case-Secret": secret}).json()
    assert case["signals"] == len(signals) and case["status"] == "active"

    assert page.is_disabled("#to-status")
    page.check("#saved-check")
    page.click("#to-status")
    page.wait_for_url("**/survivor/status")
    status_and_withdraw(page, site, code, secret, len(signals), steps)
    assert_no_file_bytes_left(log, [p.read_bytes() for p in files])
    page.context.close()
