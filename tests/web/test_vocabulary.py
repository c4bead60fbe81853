"""One vocabulary (issue 16, docs/glossary.md): no legacy terms, no stray English on Korean pages.

Two layers: every Korean message in the catalogue, and the visible text of the Korean survivor
and worker pages as a real server renders them (data such as URLs, case codes and user names
taken out). Names and formats kept in Latin letters are listed in ``LATIN_ALLOWED`` and in the
glossary; anything else in Latin letters on a Korean page fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from stopspread.languages import Language
from stopspread.services.centers import SPOKEN_LANGUAGES
from stopspread.web.i18n import load_catalog
from tests.conftest import fast_settings, make_services
from tests.services.review_seed import World, build_world
from tests.services.test_centers import GOOD
from tests.web.support import live_server
from tests.web.test_worker_pages import login

# Korean words the two vocabularies used, and what replaced them (docs/glossary.md)
FORBIDDEN_KO = {
    "사건 코드": "접수 번호",
    "사건 비밀": "비밀 코드",
    "비밀번호(사건": "비밀 코드",
    "기관": "센터",
    "검색": "스캔",
    "지원기관": "지원센터",
}
FORBIDDEN_EN = re.compile(r"(?i)\bcase secret\b|\bsecret\b(?!\s+code)|\borgani[sz]ation|\bagenc")
# Names, formats and standards written in Latin letters in Korean text too (docs/glossary.md)
LATIN_ALLOWED = frozenset(
    {
        *("StopSpread", "English", "Take", "It", "Down", "NCMEC"),  # names
        *("Chrome", "Edge", "Firefox", "Safari", "Web", "Worker", "OffscreenCanvas"),
        *("JPEG", "PNG", "WebP", "MP4", "WebM", "JSON", "PDF", "WARC", "ZIP", "API"),  # formats
        *(
            "SHA-256",
            "PDQ",
            "vPDQ",
            "VPDQ",
            "MD5",
            "UTC",
            "KST",
            "MAC",
            "http",
            "https",
        ),  # standards
        *("KR", "US", "JP"),  # country codes shown as examples
    }
)
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
_URLISH = re.compile(r"https?://\S+|\b[\w.-]+\.(?:org|com|net|kr|txt|example|test)\b\S*")
_CODEISH = re.compile(r"\b[0-9A-Z]{1,4}(?:-[0-9A-Z]{1,4}){2,}-?…?")  # ABCD-EFGH-…, 7K3M-Q9TX-…
_HEX = re.compile(r"\b[0-9a-f]{16,}\b")  # digests shown as data
_COMMAND = re.compile(r"stopspread(?: (?:[a-z]+|--[a-z]+|이름|센터))+")  # command examples
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9+-]*")


def stray_latin(text: str) -> set[str]:
    for pattern in (_PLACEHOLDER, _URLISH, _CODEISH, _HEX, _COMMAND):
        text = pattern.sub(" ", text)
    return {word.rstrip("-") for word in _LATIN.findall(text)} - LATIN_ALLOWED


def legacy_terms(text: str) -> set[str]:
    return {term for term in FORBIDDEN_KO if term in text}


def test_korean_messages_use_one_vocabulary() -> None:
    for key, text in load_catalog().messages[Language.KO].items():
        assert not legacy_terms(text), (key, legacy_terms(text))
        assert not stray_latin(text), (key, stray_latin(text))


def test_english_messages_use_one_vocabulary() -> None:
    for key, text in load_catalog().messages[Language.EN].items():
        assert not FORBIDDEN_EN.search(_PLACEHOLDER.sub(" ", text)), (key, text)


def test_every_spoken_language_has_a_name_in_both_languages() -> None:
    for lang, table in load_catalog().messages.items():
        for code in SPOKEN_LANGUAGES:
            assert table.get(f"survivor.centers.language.{code}"), (lang, code)


class VisibleText(HTMLParser):
    """Text a reader meets: text nodes outside script/style, and labels read aloud."""

    SKIP = frozenset({"script", "style", "template"})
    SPOKEN = ("aria-label", "alt", "title", "placeholder", "data-label")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skipping += 1
        self.parts.extend(value for name, value in attrs if name in self.SPOKEN and value)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    shown = " ".join(parser.parts)
    found = re.search(r'id="survivor-messages">(.*?)</script>', html, re.S)
    if found:  # the strings the page scripts show later
        shown += " " + " ".join(json.loads(found.group(1)).values())
    return shown


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    tmp = tmp_path_factory.mktemp("vocabulary")
    url = f"sqlite:///{tmp / 'db.sqlite'}"
    svc = make_services(url, tmp)
    world = build_world(svc, tmp)
    centers = tmp / "centers.toml"
    centers.write_text(GOOD, encoding="utf-8")
    with live_server(fast_settings(url, tmp, centers_file=centers)) as base_url:
        yield base_url, world
    svc.db.dispose()


SURVIVOR_PAGES = ("/survivor", "/survivor/minors", "/survivor/new", "/survivor/status")
WORKER_PAGES = ("/worker/cases", "/worker/review", "/worker/scans", "/worker/takedown")


def _check_korean(html: str, page: str, data: set[str]) -> None:
    text = visible(html)
    for value in data:
        text = text.replace(value, " ")
    assert not legacy_terms(text), (page, legacy_terms(text))
    assert not stray_latin(text), (page, stray_latin(text))


def test_korean_survivor_pages_show_one_vocabulary(site: tuple[str, World]) -> None:
    with httpx.Client(base_url=site[0], timeout=30) as client:
        for page in (*SURVIVOR_PAGES, "/worker/login"):
            answer = client.get(page, params={"lang": "ko"})
            assert answer.status_code == 200, page
            _check_korean(answer.text, page, set())


@pytest.mark.parametrize("name", ["mina", "hana"])
def test_korean_worker_pages_show_one_vocabulary(site: tuple[str, World], name: str) -> None:
    base_url, world = site
    data = {"mina", "hana", "jiwoo", "Seoul Center", world.code_a}  # data, not our words
    with httpx.Client(base_url=base_url, timeout=30, cookies={"lang": "ko"}) as client:
        assert login(client, name).status_code in (200, 303)
        pages = (*WORKER_PAGES, "/worker/admin") if name == "hana" else WORKER_PAGES
        for page in pages:
            answer = client.get(page, params={"lang": "ko"})
            assert answer.status_code == 200, page
            _check_korean(answer.text, page, data)


def test_survivor_pages_name_the_centers(site: tuple[str, World]) -> None:
    with httpx.Client(base_url=site[0], timeout=30) as client:
        for page in ("/survivor/status", "/survivor/new"):
            ko = client.get(page, params={"lang": "ko"}).text
            assert "서울 해바라기센터" in ko and 'href="tel:02-3400-1700"' in ko
            assert "베트남어" in ko and "접수 번호와 비밀 코드를 알려 주면" in ko
            en = client.get(page, params={"lang": "en"}).text
            assert "Seoul Sunflower Center" in en and "24 hours a day" in en
            assert "Vietnamese" in en and "Korean Sign Language" in en


def test_without_a_centers_file_one_plain_sentence(tmp_path: Path, sqlite_url: str) -> None:
    with live_server(fast_settings(sqlite_url, tmp_path)) as base_url:
        html = httpx.get(f"{base_url}/survivor/status", params={"lang": "ko"}, timeout=30).text
    assert "이 서비스를 쓰는 지원센터에 접수 번호와 비밀 코드를 알려 주면" in html
    assert 'class="center-list"' not in html


def test_a_worker_reads_how_a_case_reaches_her(site: tuple[str, World]) -> None:
    with httpx.Client(base_url=site[0], timeout=30, cookies={"lang": "ko"}) as client:
        login(client, "mina")
        html = client.get("/worker/cases", params={"lang": "ko"}).text
    assert "사건이 우리 센터에 오는 길" in html
    assert "곧바로 센터 관리자에게 전하고" in html  # her part, not the admin's
