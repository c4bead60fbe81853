"""Issue 16: a support center's day walked through the real pages of a live server, in Chromium.

The same day as ``test_center_day`` (which walks it at the HTTP/service level), here page by
page: the worker signs in and fills her profile → adds the local site as a source and scans it →
review page, one photo's group confirmed in bulk and a single card decided (by script, no
reload) → the case's consent choice, "one notice per host" drafted, confirmed and sent (the SMTP
sink gets one e-mail per host) → the host removes an item, "check again now" on its request's
page (the follow-up) sees it gone, the copy comes
back and a rescan counts one re-upload → a platform's ``/v1/match`` hit reviewed on
``/worker/matches`` → the evidence package ZIP downloaded and verified → her status page shows
the dashboard's numbers → she withdraws (each choice, on two cases) and the worker's case page
shows the withdrawn banner without decision buttons.

Not through a page: enrolment (the survivor's page hashes in the browser; the hashes are sent
through the service as ``test_center_day`` does), the platform's ``/v1/match`` call (an API),
and, as seed data, the first host's abuse address and the second case's sighting (a service
scan); the second host's is saved with the dashboard's host form. At every step the dashboard page, her status page
and the report model (``build_report``) agree with the seeded data, including 0 re-uploads
before anything came back. axe-core finds nothing on every page visited, in each state it is
seen in (not again where only numbers or names change: her status page after each step, a
rescan's page, the second host's notice, the second withdrawal); the steps are named in
``test-artifacts/screenshots/center-day/`` (tests/browser.py says when PNGs are written).
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from stopspread.config import SmtpSecurity
from stopspread.hashing import digest_bytes, enrolment_hashes
from stopspread.languages import Language
from stopspread.services import platform
from stopspread.services.cases import create_case
from stopspread.services.context import Services
from stopspread.services.removal.workflow import save_host
from stopspread.services.scans.queue import ScanDeps, case_id_for_code
from stopspread.services.signal_input import SignalIn
from stopspread.services.workers.accounts import assign_case, create_center, create_worker
from stopspread.storage.models import SignalType
from stopspread.storage.models_worker import WorkerRole
from stopspread.takedown.hosts import HostEntry
from stopspread.web.i18n import load_catalog
from tests.browser import DESKTOP, PHONE, axe_violations, new_page, screenshot
from tests.conftest import fast_settings, make_services
from tests.report.test_pdf import flat, pdftotext
from tests.scankit import edited_copies, original, shapes
from tests.services.removal.test_removal_e2e import loopback, scan_urls, sightings
from tests.services.review_seed import PASSWORD
from tests.smtpsink import SmtpSink
from tests.sources.site import LocalSite, local_site
from tests.web.support import auth, live_server, pdq_body
from tests.web.test_center_day import Numbers, agree

SURVIVOR_FIELDS = ("matches", "reviews_open", "reviews_closed", "notices_sent", "removed",
                   "reappeared")  # fmt: skip


@dataclass
class Day:
    base: str
    svc: Services
    site: LocalSite
    sink: SmtpSink
    deps: ScanDeps
    code: str
    secret: str
    case_id: int
    other_code: str
    other_secret: str
    other_id: int


def _enrol(svc: Services, images: list[bytes]) -> tuple[str, str, int]:
    """Her device's hashes, as the survivor page sends them: code, secret and the case's id."""
    signals: list[SignalIn] = []
    for body in images:
        signals += [SignalIn(SignalType.PDQ, h.hash.hex, h.quality) for h in enrolment_hashes(body)]
        signals.append(SignalIn(SignalType.MD5, digest_bytes(body).md5))
    new = create_case(svc, signals)
    return new.code, new.secret, case_id_for_code(svc.db, new.code)


@pytest.fixture
def day(tmp_path: Path) -> Iterator[Day]:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with SmtpSink() as sink, local_site() as site:
        changes: dict[str, object] = {
            "fetch_allow_loopback": True, "fetch_host_interval_s": 0.0,
            "smtp_from": "takedown@center.example", "smtp_host": "127.0.0.1",
            "smtp_port": sink.port, "smtp_security": SmtpSecurity.NONE,
        }  # fmt: skip
        svc = make_services(url, tmp_path, **changes)
        code, secret, case_id = _enrol(svc, [original(1), original(2)])
        other_code, other_secret, other_id = _enrol(svc, [original(3)])
        create_center(svc, "서울 지원센터")
        who = create_worker(svc, "서울 지원센터", "kim", PASSWORD, WorkerRole.WORKER)
        assign_case(svc, code, "서울 지원센터")
        assign_case(svc, other_code, "서울 지원센터")
        save_host(svc, who, HostEntry("127.0.0.1", Language.KO, "KR", abuse_email="abuse@kr.test"))
        deps = ScanDeps(svc.settings, svc.db, resolver=loopback)
        # the second case's one sighting, by a service scan: only her withdrawal is walked
        site.file("/b/copy.png", original(3), "image/png")
        site.html("/b/", '<img src="/b/copy.png" alt="">')
        scan_urls(deps, other_id, [site.url("/b/")])
        assert len(sightings(svc, other_id)) == 1
        with live_server(fast_settings(url, tmp_path, **changes)) as base:
            yield Day(base, svc, site, sink, deps, code, secret, case_id, other_code,
                      other_secret, other_id)  # fmt: skip
        svc.db.dispose()


class Walk:
    """One browser page, the catalogue of its language, numbered steps and axe."""

    def __init__(self, browser: Any, day: Day, lang: str, size: str) -> None:
        viewport = DESKTOP if size == "desktop" else PHONE
        self.page = new_page(
            browser, viewport=viewport, locale="ko-KR" if lang == "ko" else "en-GB"
        )
        self.page.set_default_timeout(60_000)
        self.day, self.lang, self.size, self.step = day, lang, size, 0
        self.m = load_catalog().messages[lang]

    def t(self, key: str, **values: object) -> str:
        text = self.m[key]
        for name, value in values.items():
            text = text.replace("{" + name + "}", str(value))
        return text

    def shot(self, name: str, page: Any = None, axe: bool = True) -> None:
        """A numbered step (tests/browser.py's ``screenshot``); axe-core finds nothing on the
        page as it is now, unless ``axe`` is off because an earlier step checked the same
        page in the same state (only numbers or names differ)."""
        page = page or self.page
        if axe:
            found = axe_violations(page)
            assert found == [], [(v["id"], [n["target"] for n in v["nodes"]]) for v in found]
        self.step += 1
        screenshot(page, f"center-day/{self.lang}-{self.size}/{self.step:02d}-{name}")

    def go(self, path: str) -> None:
        self.page.goto(self.day.base + path)

    def numbers(self, case_id: int, expected: Numbers) -> None:
        """The report model, the dashboard service and her status agree with ``expected``;
        the dashboard page shows the same."""
        who = _kim(self.day.svc)
        assert agree(self.day.svc, who, case_id, self.day.deps) == expected
        self.go(f"/worker/takedown?case={case_id}&lang={self.lang}")
        page = self.page
        assert page.locator("#n-sightings").inner_text() == str(expected[0])
        assert page.locator("#n-confirmed").inner_text() == str(expected[2])
        assert page.locator("#n-reuploads").inner_text() == str(expected[5])


def _kim(svc: Services) -> Any:
    from sqlalchemy import select

    from stopspread.services.workers.accounts import WorkerIdentity
    from stopspread.storage.models_worker import Worker

    with svc.db.read() as session:
        row = session.scalars(select(Worker).where(Worker.username == "kim")).one()
        return WorkerIdentity(row.id, row.center_id, row.role, row.username)


def _status(w: Walk, code: str, secret: str, name: str, axe: bool) -> tuple[int, ...]:
    """Her status page, opened with her code and secret in a context of her own."""
    page = new_page(w.page.context.browser, viewport=w.page.viewport_size,
                    locale="ko-KR" if w.lang == "ko" else "en-US")  # fmt: skip
    page.set_default_timeout(60_000)
    page.goto(f"{w.day.base}/survivor/status?lang={w.lang}")
    page.fill("#code-input", code)
    page.fill("#secret-input", secret)
    page.click("#lookup-button")
    expect(page.locator("#result-title")).to_be_focused()
    values = tuple(
        int(page.locator(f'.count[data-field="{f}"] .count-value').inner_text())
        for f in SURVIVOR_FIELDS
    )
    w.shot(name, page, axe)
    page.context.close()
    return values


def _survivor_agrees(w: Walk, expected: Numbers, name: str, axe: bool = False) -> None:
    """Her status page (her code and secret) shows the dashboard's numbers. axe-core checks
    it where asked: with no counts yet, and with every count and its date shown; in between
    the same page differs only in its numbers."""
    assert _status(w, w.day.code, w.day.secret, name, axe) == expected


def _sign_in_and_profile(w: Walk) -> None:
    page = w.page
    w.go(f"/worker/profile?lang={w.lang}")
    page.get_by_label(w.t("worker.login.username"), exact=True).fill("kim")
    page.get_by_label(w.t("worker.login.password"), exact=True).fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/worker/profile**")
    page.fill("#display-name", "김지원")
    page.fill("#role-title", "삭제지원 상담원" if w.lang == "ko" else "Removal support worker")
    page.fill("#contact-email", "kim@center.test")
    page.locator("form[action='/worker/profile'] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("#display-name").input_value() == "김지원"
    w.shot("profile")


def _scan(w: Walk, targets: list[str], first: bool) -> None:
    page = w.page
    w.go("/worker/scans")
    if first:
        page.select_option("#source-case", str(w.day.case_id))
        page.check("#kind-urls")
        page.fill("#source-target", "\n".join(targets))
        page.locator("form[action='/worker/scans/sources'] button[type=submit]").click()
        page.wait_for_url("**/worker/scans?added=1")
        w.shot("source-added")
    page.get_by_role("button", name=w.t("worker.scans.run", label=targets[0])).first.click()
    page.wait_for_url("**/worker/scans/*")
    expect(page.locator("#scan-status")).to_have_text(w.t("worker.scans.status.done"),
                                                       timeout=120_000)  # fmt: skip
    w.shot("scan-done" if first else "rescan-done", axe=first)  # a rescan: the same page


def _review(w: Walk) -> None:
    """One photo's two copies confirmed as a group, the other photo's copy on its card."""
    page = w.page
    w.go(f"/worker/review?case={w.day.case_id}")
    groups = page.locator("section.group")
    expect(groups).to_have_count(2)
    w.shot("review-groups")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    before = page.url
    single = page.locator("section.group", has=page.locator("li.card")).filter(
        has_not=page.locator("form.group-decisions")
    )
    card = single.locator("li.card").first
    card.get_by_role("button", name=w.t("worker.decision.confirm"), exact=True).click()
    expect(card.locator(".badge-confirmed")).to_have_count(1)
    group = page.locator("section.group", has=page.locator("form.group-decisions"))
    group.get_by_role("button", name=w.t("worker.group.confirm")).click()
    expect(page.locator("#review-announce")).to_contain_text("2")
    expect(group.locator(".badge-confirmed")).to_have_count(2)
    assert page.url == before and navigations == []  # decisions by script, no reload
    w.shot("review-decided")


def _plant(site: LocalSite) -> list[str]:
    """Photo 1's two copies among unrelated pictures on 127.0.0.1; photo 2's on localhost."""
    one, two = edited_copies(1), edited_copies(2)
    site.file("/media/border.jpg", one["border"], "image/jpeg")
    site.file("/media/reencoded.jpg", one["reencoded"], "image/jpeg")
    tags = ['<img src="/media/border.jpg" alt="">', '<img src="/media/reencoded.jpg" alt="">']
    for n in range(3):
        site.file(f"/media/other-{n}.jpg", shapes(200 + n), "image/jpeg")
        tags.append(f'<img src="/media/other-{n}.jpg" alt="">')
    site.html("/board/1", "<p>post</p>" + "".join(tags))
    site.file("/media/two.jpg", two["border"], "image/jpeg")
    site.html("/board/2", '<img src="/media/two.jpg" alt="">')
    port = site.base_url.rsplit(":", 1)[1]
    return [site.url("/board/1"), f"http://localhost:{port}/board/2"]


def _save_host(w: Walk) -> None:
    """The dashboard names the host with no contact yet (prefilled); its abuse desk saved."""
    page = w.page
    w.go(f"/worker/takedown?case={w.day.case_id}")
    assert page.locator("#host-domain").input_value() == "localhost"
    page.fill("#host-email", "abuse@us.test")
    page.select_option("#host-language", "en")
    page.fill("#host-country", "US")
    page.locator("form[action='/worker/takedown/hosts'] button[type=submit]").click()
    page.wait_for_load_state()
    saved = w.t("takedown.host.saved", domain="localhost")
    expect(page.locator("[role=status]").first).to_have_text(saved)
    w.shot("host-saved")


def _notices(w: Walk) -> None:
    """Her consent choice, one notice per host drafted, each confirmed and sent."""
    page = w.page
    w.go(f"/worker/takedown?case={w.day.case_id}")
    page.check("#consent-sharing_only")
    page.get_by_role("button", name=w.t("takedown.consent.save"), exact=True).click()
    page.wait_for_load_state()
    assert page.locator("#consent-sharing_only").is_checked()
    page.get_by_role("button", name=w.t("takedown.notice.draft_for", code=w.day.code)).click()
    page.wait_for_load_state()
    expect(page.locator("[role=status]").first).to_have_text(
        w.t("takedown.notice.drafted", count=2)
    )
    links = page.locator(".case-notices li a")
    expect(links).to_have_count(2)
    assert sorted(links.all_inner_texts()) == ["127.0.0.1", "localhost"]
    w.shot("notices-drafted")
    hrefs = [a.get_attribute("href") for a in links.all()]
    for n, href in enumerate(hrefs):
        assert href is not None
        w.go(href)
        assert "김지원" in page.locator("#notice-text").input_value()
        w.shot(f"notice-{n + 1}", axe=n == 0)  # the second: the same pages, another host
        page.get_by_role("link", name=w.t("takedown.notice.to_confirm")).click()
        page.wait_for_url("**/confirm")
        w.shot(f"notice-{n + 1}-confirm", axe=n == 0)
        page.locator("form[action$='/send'] button[type=submit]").click()
        page.wait_for_load_state()
        expect(page.locator("[role=status]").first).to_contain_text(w.t("takedown.notice.sent"))
    sent = {m["To"]: m for m in w.day.sink.messages}
    assert sorted(sent) == ["abuse@kr.test", "abuse@us.test"]  # one e-mail per host
    korean = sent["abuse@kr.test"].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    english = sent["abuse@us.test"].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "촬영에는 동의했지만, 이 촬영물의 유포에는 동의한 적이 없습니다" in korean
    assert "agreed to the recording but never consented to its publication" in english
    assert "김지원" in korean and "전자서명" not in korean
    assert korean.count("/media/") == 2 and english.count("/media/two.jpg") >= 1


def _check_removed(w: Walk, path: str) -> None:
    """The follow-up of the request about ``path``, from its page (the scheduled job's check)."""
    page = w.page
    w.go(f"/worker/takedown?case={w.day.case_id}")
    hrefs = [a.get_attribute("href") for a in page.locator("table a[href*='/requests/']").all()]
    for href in hrefs:
        assert href is not None
        w.go(href)
        if not page.locator("dd.mono").first.inner_text().endswith(path):
            continue
        page.get_by_role("button", name=w.t("takedown.request.check"), exact=True).click()
        page.wait_for_load_state()
        gone = w.t("takedown.request.checked", outcome=w.t("takedown.check.gone"))
        expect(page.locator("[role=status]").first).to_have_text(gone)
        w.shot("request-checked-gone")
        return
    raise AssertionError(f"no request about {path}")


def _package(w: Walk, tmp_path: Path, warcs: int) -> None:
    """The evidence package from the dashboard: manifest digests match the files, and every
    WARC's digest is in the manifest and in the PDF's text."""
    page = w.page
    w.go(f"/worker/takedown?case={w.day.case_id}")
    page.select_option("#report-case", str(w.day.case_id))
    page.select_option("#report-lang", w.lang)
    with page.expect_download() as info:
        page.get_by_role("button", name=w.t("takedown.package_submit")).click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    with zipfile.ZipFile(target) as archive:
        lines = archive.read("manifest-sha256.txt").decode().splitlines()
        listed = dict(reversed(line.split("  ", 1)) for line in lines)
        assert set(listed) | {"manifest-sha256.txt", "manifest.json"} == set(archive.namelist())
        for path, digest in listed.items():
            assert hashlib.sha256(archive.read(path)).hexdigest() == digest
        [pdf_name] = [p for p in listed if p.endswith(f"-{w.lang}.pdf")]
        text = flat(pdftotext(archive.read(pdf_name), tmp_path))
    in_warc = [d for p, d in listed.items() if p.startswith("warc/")]
    media = [p for p in listed if p.startswith("warc/") and p.endswith("-media.warc")]
    assert len(media) == warcs and all(d in text for d in in_warc)
    assert "김지원" in text


def _withdraw(w: Walk, code: str, secret: str, choice: str, axe: bool) -> None:
    """She withdraws from her status page with the given choice for the center's evidence
    (axe-core on the first withdrawal's pages; the second's differ only in words)."""
    page = new_page(w.page.context.browser, viewport=w.page.viewport_size,
                    locale="ko-KR" if w.lang == "ko" else "en-US")  # fmt: skip
    page.set_default_timeout(60_000)
    page.goto(f"{w.day.base}/survivor/status?lang={w.lang}")
    page.fill("#code-input", code)
    page.fill("#secret-input", secret)
    page.click("#lookup-button")
    expect(page.locator("#result-title")).to_be_focused()
    page.check(f"#center-evidence-{choice}")
    w.shot(f"withdraw-{choice}-choose", page, axe)
    page.click("#withdraw-button")
    expect(page.locator("#withdraw-confirm-title")).to_be_focused()
    page.click("#withdraw-yes")
    # the erasure's request: at load 30-45 it took longer than expect's default 5 s (twice)
    expect(page.locator("#withdrawn-title")).to_be_focused(timeout=60_000)
    outcome = "erased" if choice == "delete" else "kept"
    expect(page.locator("#withdrawn-evidence")).to_contain_text(
        w.t(f"survivor.js.withdraw.evidence_{outcome}").split("{")[0].strip()
    )
    w.shot(f"withdraw-{choice}-done", page, axe)
    page.context.close()


def _withdrawn_case_page(w: Walk, case_id: int, code: str, choice: str, axe: bool) -> None:
    """The worker's case page: the withdrawn banner, no decision buttons."""
    page = w.page
    w.go(f"/worker/review?case={case_id}")
    banner = page.locator("#withdrawn-banner")
    expect(banner).to_contain_text(w.t("worker.withdrawn.title", code=code))
    said = "worker.withdrawn.erased" if choice == "delete" else "worker.withdrawn.kept"
    expect(banner).to_contain_text(w.t(said))
    assert page.locator("form.decisions").count() == 0
    assert page.locator("button[name=decision]").count() == 0
    w.shot(f"case-withdrawn-{choice}", axe=axe)


@pytest.mark.parametrize(("lang", "size"), [("ko", "desktop"), ("en", "phone")])
def test_a_centers_day_in_the_browser(
    day: Day, browser: Any, lang: str, size: str, tmp_path: Path
) -> None:
    w = Walk(browser, day, lang, size)
    _sign_in_and_profile(w)
    w.numbers(day.case_id, (0, 0, 0, 0, 0, 0))
    w.shot("dashboard-empty")
    _survivor_agrees(w, (0, 0, 0, 0, 0, 0), "survivor-empty", axe=True)

    # 1. one scan of the local site: three copies (one scan: copies, not re-uploads)
    targets = _plant(day.site)
    _scan(w, targets, first=True)
    w.numbers(day.case_id, (3, 3, 0, 0, 0, 0))
    _survivor_agrees(w, (3, 3, 0, 0, 0, 0), "survivor-found")

    # 2. review: a single card, then a photo's group in bulk, by script
    _review(w)
    w.numbers(day.case_id, (3, 0, 3, 0, 0, 0))
    w.shot("dashboard-reviewed")
    _survivor_agrees(w, (3, 0, 3, 0, 0, 0), "survivor-reviewed")

    # 3. the second host's abuse desk, then one notice per host with her consent choice
    _save_host(w)
    _notices(w)
    w.numbers(day.case_id, (3, 0, 3, 3, 0, 0))
    w.shot("dashboard-sent")
    _survivor_agrees(w, (3, 0, 3, 3, 0, 0), "survivor-sent")
    assert w.page.locator("#reuploads + p.muted").count() == 1  # nothing came back yet

    # 4. the host removes one copy; "check again now" on its request's page records it gone
    day.site.remove("/media/border.jpg")
    _check_removed(w, "/media/border.jpg")
    w.numbers(day.case_id, (3, 0, 3, 3, 1, 0))
    w.shot("dashboard-removed")

    # 5. the same file is put back under another name: the rescan counts one re-upload
    body = edited_copies(1)["border"]
    day.site.file("/media/back.jpg", body, "image/jpeg")
    tags = "".join(f'<img src="/media/{n}.jpg" alt="">' for n in ("back", "reencoded"))
    day.site.html("/board/1", "<p>post</p>" + tags)
    _scan(w, targets, first=False)
    w.numbers(day.case_id, (4, 1, 3, 3, 1, 1))
    assert w.page.locator("#reuploads + ul li").count() == 1
    w.shot("dashboard-reupload")
    _survivor_agrees(w, (4, 1, 3, 3, 1, 1), "survivor-reupload", axe=True)
    w.go(f"/worker/takedown?case={day.case_id}")  # a rescan counts it once, not twice
    _scan(w, targets, first=False)
    w.numbers(day.case_id, (4, 1, 3, 3, 1, 1))

    # 6. a platform's upload matches (API): reviewed on /worker/matches
    _client, key = platform.create_client(day.svc.db, "사진 앱")
    value = enrolment_hashes(original(1))[0].hash.hex
    with httpx.Client(base_url=day.base, timeout=60) as api:
        hit = api.post("/v1/match", json=pdq_body(value), headers=auth(key)).json()
        assert hit["match"] is True
        told = api.get(f"/v1/feedback/{hit['ref']}", headers=auth(key)).json()
        assert (told["decision"], told["hits"]) == ("open", 1)  # the journal applied
        w.numbers(day.case_id, (5, 2, 3, 3, 1, 1))
        w.go("/worker/matches")
        w.shot("matches")
        card = w.page.locator("#matches > li").first
        card.get_by_role("button", name=w.t("matches.decision.confirm")).click()
        w.page.wait_for_url("**/worker/matches?saved=*")
        w.shot("matches-decided")
        told = api.get(f"/v1/feedback/{hit['ref']}", headers=auth(key)).json()
        assert told["decision"] == "confirmed"
    w.numbers(day.case_id, (5, 1, 4, 3, 1, 1))
    _survivor_agrees(w, (5, 1, 4, 3, 1, 1), "survivor-matched")

    # 7. the evidence package: four captured pictures (the platform's upload has none), and
    # the three pages they were on (board 1 twice: before and after the removal)
    _package(w, tmp_path, warcs=4)

    # 8. she withdraws each case with another choice; the worker's pages say so
    first, second = ("keep", "delete") if lang == "ko" else ("delete", "keep")
    _withdraw(w, day.code, day.secret, first, axe=True)
    _withdrawn_case_page(w, day.case_id, day.code, first, axe=True)
    _withdraw(w, day.other_code, day.other_secret, second, axe=False)
    _withdrawn_case_page(w, day.other_id, day.other_code, second, axe=False)
    w.page.context.close()
