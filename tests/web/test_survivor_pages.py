"""The survivor web app in real headless Chromium against a live server on port 0.

One server for the module. Each flow test drives the whole path (start, age question, files,
hashing, confirm, code and secret, status, withdrawal) in one language at one screen size,
records every request the browser makes and proves no file bytes left it, runs axe-core on
every step (desktop, both languages) and names every step for its screenshot under
``test-artifacts/screenshots/survivor/`` (written when a test fails; see tests/browser.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from stopspread.languages import Language
from stopspread.web.i18n import load_catalog
from stopspread.web.pages import STATIC_DIR, TEMPLATES_DIR
from tests.browser import images_loaded
from tests.conftest import TESTDATA, encode, fast_settings, synthetic_rgb
from tests.web.support import live_server
from tests.web.survivor_browser import (
    GATE,
    LOCALES,
    SLOW_MS,
    VIEWPORTS,
    Steps,
    open_page,
    tab_to,
    wait_focus,
)
from tests.web.survivor_support import RequestLog, assert_no_file_bytes_left, md5s

VIDEO = TESTDATA / "vpdq" / "videos" / "test-padded-dimensions.mp4"  # 5 s, 56 kB, H.264


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("survivor-pages")
    settings = fast_settings(
        f"sqlite:///{tmp / 'db.sqlite'}",
        tmp,
        case_attempts_per_minute=1000.0,
        address_attempts_per_minute=1000.0,
        max_signals_per_request=50,  # every enrolment goes in batches: create, then add
    )
    with live_server(settings) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three synthetic images (never a real photograph), one with a Korean name."""
    folder = tmp_path_factory.mktemp("survivor-files")
    made = {
        "사진-1.jpg": encode(synthetic_rgb(480, 360, seed=11), "JPEG", quality=90),
        "photo-2.png": encode(synthetic_rgb(240, 320, seed=12), "PNG"),
        "photo-3.jpg": encode(synthetic_rgb(640, 480, seed=13), "JPEG", quality=85),
    }
    for name, data in made.items():
        (folder / name).write_bytes(data)
    return [folder / name for name in made]


def choose_and_hash(page: Any, files: list[Path], steps: Callable[[str], None]) -> None:
    page.wait_for_selector("#step-choose:not([hidden])")
    steps("choose")
    page.set_input_files("#file-input", [str(p) for p in files])
    expect(page.locator("#file-list li")).to_have_count(len(files))
    steps("choose-files")
    page.check("#show-previews")
    images_loaded(page.locator("#file-list img.preview"), sum(p != VIDEO for p in files))
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
    lang = Language(page.get_attribute("html", "lang"))  # the page says "copied" once it is done
    copied = load_catalog().messages[lang]["survivor.js.copied"]
    expect(page.locator("#done-status")).to_have_text(copied)
    text = page.evaluate("navigator.clipboard.readText()")
    assert code in text and secret in text


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
    page.fill("#secret-input", " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)))
    page.click("#lookup-button")  # typed as shown, in groups of four
    wait_focus(page, "result-title")
    values = page.eval_on_selector_all(
        "#counts .count",
        "els => Object.fromEntries(els.map(e => [e.dataset.field, e.querySelector('.count-value').textContent]))",
    )
    assert values["signals"] == f"{sent:,}" and values["matches"] == "0"
    # the takedown counts come from the support workers' side (issue 9): nothing sent yet
    assert (values["notices_sent"], values["removed"], values["reappeared"]) == ("0", "0", "0")
    assert not page.is_visible(".count--pending[data-field=removed]")
    steps("status-counts")
    page.click("#withdraw-button")
    wait_focus(page, "withdraw-confirm-title")
    page.click("#withdraw-no")  # changing her mind deletes nothing
    wait_focus(page, "withdraw-button")
    page.click("#withdraw-button")
    wait_focus(page, "withdraw-confirm-title")
    steps("withdraw-confirm")
    page.click("#withdraw-yes")
    wait_focus(page, "withdrawn-title")
    assert f"{sent:,}" in page.text_content("#withdrawn-body")
    lang = Language(page.get_attribute("html", "lang"))  # no center held evidence: it says so
    none = load_catalog().messages[lang]["survivor.js.withdraw.evidence_none"]
    assert page.text_content("#withdrawn-evidence") == none
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
    files = list(images) if view == "desktop" else images[:2]  # phone runs: shorter
    if video:
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
    code, shown = page.text_content("#case-code"), page.text_content("#case-secret")
    assert code and shown and re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){6}", shown)  # grouped
    assert not set(shown) & set("ILOU_")  # no look-alikes (issue 16)
    secret = shown
    steps("done")
    page.emulate_media(media="print")
    steps("done-print", axe=False)  # the same page as "done", printed
    page.emulate_media(media="screen")
    check_receipt(page, code, secret, files)
    check_nothing_stored(page)

    signals = assert_no_file_bytes_left(log, [p.read_bytes() for p in files])
    assert [url.endswith("/signals") for url, _ in log.api_bodies()][:2] == [False, True]
    loaded = {r.url.rsplit("/", 1)[1] for r in log.sent}
    assert {"hash-worker.js", "pdq.js"} <= loaded  # the worker's own requests are seen too
    assert {s["value"] for s in signals if s["type"] == "md5"} == md5s(
        [p.read_bytes() for p in files]
    )
    videos = [p.read_bytes() for p in files if p == VIDEO]
    assert {s["value"] for s in signals if s.get("media") == "video"} == md5s(videos)
    case = httpx.get(f"{site}/v1/cases/{code}", headers={"X-Case-Secret": secret}).json()
    assert case["signals"] == len(signals) and case["status"] == "active"

    assert page.is_disabled("#to-status")
    page.check("#saved-check")
    page.click("#to-status")
    page.wait_for_url("**/survivor/status")
    status_and_withdraw(page, site, code, secret, len(signals), steps)
    assert_no_file_bytes_left(log, [p.read_bytes() for p in files])
    page.context.close()


LANG_VIEWS = [
    pytest.param(lang, view, id=f"{lang}-{view}") for lang in LOCALES for view in VIEWPORTS
]


@pytest.mark.parametrize(("lang", "view"), LANG_VIEWS)
def test_under_18_is_routed_to_help_and_quick_exit_leaves_no_way_back(
    site: str, browser: Any, lang: str, view: str
) -> None:
    page = open_page(browser, lang, view)
    steps = Steps(page, lang, view, axe=view == "desktop", first=20)
    page.goto(f"{site}/survivor")
    page.click("button[name=answer][value=minor]")
    page.wait_for_url("**/survivor/minors*")
    text = page.text_content("main")
    assert "02-735-8994" in text and "112" in text and "1388" in text
    assert "takeitdown.ncmec.org" in text
    steps("minors")
    assert page.evaluate("history.length") == 2  # about:blank, then one entry for the visit
    page.click("[data-quick-exit]")
    page.wait_for_url("**/today")
    assert "StopSpread" not in page.content()
    assert page.evaluate("history.length") == 2
    steps("quick-exit-page")
    page.go_back()
    assert "survivor" not in page.url
    page.context.close()


@pytest.mark.parametrize(("lang", "view"), LANG_VIEWS)
def test_unreadable_files_are_named_and_hashing_can_be_stopped(
    site: str, browser: Any, images: list[Path], lang: str, view: str, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8)
    page = open_page(browser, lang, view)
    log = RequestLog(site)
    log.attach(page.context)
    steps = Steps(page, lang, view, axe=view == "desktop", first=30)
    page.goto(f"{site}/survivor/new")
    page.set_input_files("#file-input", [str(images[1]), str(broken)])
    page.click("#hash-button")
    wait_focus(page, "confirm-title", SLOW_MS)
    assert "broken.jpg" in page.text_content("#failed-list")
    steps("confirm-with-unreadable-file")
    page.click("#back-button")
    wait_focus(page, "choose-title")
    page.evaluate(GATE)
    page.click("#hash-button")
    wait_focus(page, "hashing-title")
    page.click("#cancel-button")
    wait_focus(page, "choose-title")
    page.evaluate("window.__openGate()")
    page.wait_for_selector("#choose-status:not(:empty)")
    steps("hashing-stopped")
    assert page.is_hidden("#step-confirm")
    assert not [r for r in log.sent if "/v1/" in r.url]
    page.context.close()


@pytest.mark.parametrize("lang", list(LOCALES))
def test_without_the_browser_features_the_page_says_so(site: str, browser: Any, lang: str) -> None:
    page = open_page(browser, lang, "desktop")
    page.add_init_script("delete window.OffscreenCanvas")
    page.goto(f"{site}/survivor/new")
    assert page.is_visible("#unsupported") and page.is_hidden("#step-choose")
    Steps(page, lang, "desktop", axe=True, first=40)("unsupported")
    page.context.close()


def test_the_whole_flow_works_with_the_keyboard_alone(
    site: str, browser: Any, images: list[Path]
) -> None:
    page = open_page(browser, "ko", "desktop")
    page.on("filechooser", lambda _chooser: None)  # intercepting from the start
    page.goto(f"{site}/survivor/new")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    tab_to(page, "choose-button")
    with page.expect_event("filechooser") as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files([str(p) for p in images[:2]])
    tab_to(page, "hash-button")
    page.keyboard.press("Enter")
    wait_focus(page, "confirm-title", SLOW_MS)
    tab_to(page, "send-button")
    page.keyboard.press("Enter")
    wait_focus(page, "done-title")
    tab_to(page, "saved-check")
    page.keyboard.press("Space")
    tab_to(page, "to-status")
    page.keyboard.press("Enter")
    page.wait_for_url("**/survivor/status")
    page.context.close()


def test_the_age_question_works_without_scripts_and_pages_are_strict(site: str) -> None:
    with httpx.Client(base_url=site) as client:
        minor = client.get("/survivor/age?answer=minor&lang=en")
        adult = client.get("/survivor/age?answer=adult")
        other = client.get("/survivor/age?answer=maybe")
        home = client.get("/?lang=en")
        pages = [client.get(path) for path in ("/survivor", "/survivor/new", "/survivor/status")]
    assert (minor.status_code, minor.headers["location"]) == (303, "/survivor/minors?lang=en")
    assert adult.headers["location"] == "/survivor/new"
    assert other.headers["location"] == "/survivor"
    assert (home.status_code, home.headers["location"]) == (303, "/survivor?lang=en")
    for page in pages:
        assert page.status_code == 200
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert " style=" not in page.text and " on" + "click=" not in page.text
    secret_field = pages[2].text.split('id="secret-input"')[0].rsplit("<input", 1)[1]
    assert "name=" not in secret_field  # a secret never goes into a URL, even without scripts


def test_every_message_the_pages_ask_for_exists_and_every_one_is_used() -> None:
    keys = set(load_catalog().messages[Language.KO])
    scripts = "".join(p.read_text("utf-8") for p in (STATIC_DIR / "survivor").glob("*.js"))
    templates = "".join(p.read_text("utf-8") for p in (TEMPLATES_DIR / "survivor").glob("*.html"))
    asked = {"survivor.js." + k for k in re.findall(r'\bt\(\s*"([^"]+)"\s*[,)]', scripts)}
    asked |= set(re.findall(r"\bt\(\s*[\"']([^\"']+)[\"']\s*[,)]", templates))
    assert asked - keys == set()
    literals = {"survivor.js." + k for k in re.findall(r'"([a-z_.-]+)"', scripts)}
    literals |= set(re.findall(r"[\"'](survivor\.[a-z_.0-9-]+)[\"']", templates))
    prefixes = tuple(
        ["survivor.js." + p for p in re.findall(r'\bt\(\s*"([^"]+)"\s*\+', scripts)]
        + re.findall(r"\bt\(\s*[\"']([^\"']+)[\"']\s*~", templates)
    )
    unused = {
        k
        for k in keys
        if k.startswith("survivor.") and k not in literals and not k.startswith(prefixes)
    }
    assert unused == set()


def test_leaving_before_saving_the_secret_asks_first_but_the_quick_exit_never_does(
    site: str, browser: Any, images: list[Path]
) -> None:
    page = open_page(browser, "en", "desktop")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.goto(f"{site}/survivor/new")
    page.set_input_files("#file-input", [str(images[0])])
    page.click("#hash-button")
    wait_focus(page, "confirm-title", SLOW_MS)
    page.click("#send-button")
    wait_focus(page, "done-title")
    with page.expect_event("dialog"):  # dismissing the question keeps her here
        page.click(".site-nav a[href='/survivor']")
    assert dialogs == ["beforeunload"] and page.url.endswith("/survivor/new")
    page.click("[data-quick-exit]")
    page.wait_for_url("**/today")
    assert dialogs == ["beforeunload"]
    page.context.close()


def test_the_language_switch_changes_every_word_and_keeps_one_history_entry(
    site: str, browser: Any
) -> None:
    page = open_page(browser, "ko", "phone")
    page.goto(f"{site}/survivor/status")
    assert page.get_attribute("html", "lang") == "ko"
    page.click(".lang-switch")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.evaluate("history.length") == 2
    messages = json.loads(page.locator("#survivor-messages").text_content())
    assert messages["survivor.js.status.forbidden"].startswith("The case code")
    assert {c["name"]: c["value"] for c in page.context.cookies()}["lang"] == "en"
    page.click(".site-nav a[href='/survivor']")
    page.wait_for_url("**/survivor")
    assert page.get_attribute("html", "lang") == "en"
    page.context.close()


def test_the_enrolment_page_loads_opencv_before_she_chooses_photos(site: str, browser: Any) -> None:
    """Issue 14's browser budget: OpenCV.js (for her photos' shape points) starts loading
    when the enrolment page opens, not when her first photo needs it."""
    page = open_page(browser, "ko", "desktop")
    with page.expect_request(lambda r: r.url.endswith("/hashing/opencv/opencv.js")) as loaded:
        page.goto(f"{site}/survivor/new")
    assert loaded.value.method == "GET"
    assert page.is_visible("#step-choose")  # nothing chosen yet
    page.context.close()
