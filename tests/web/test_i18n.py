"""Korean first, then English: every message in both languages, and the language choice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.requests import Request

from stopspread.languages import PAGE_LANGUAGES, Language
from stopspread.web.i18n import LOCALES_DIR, MessageError, load_catalog, negotiate


def _request(query: str = "", cookie: str = "", accept: str = "") -> Request:
    headers = []
    if cookie:
        headers.append((b"cookie", f"lang={cookie}".encode()))
    if accept:
        headers.append((b"accept-language", accept.encode()))
    return Request({"type": "http", "query_string": query.encode(), "headers": headers})


def test_every_key_exists_in_every_language_with_text() -> None:
    catalog = load_catalog()
    keys = {lang: set(table) for lang, table in catalog.messages.items()}
    assert keys[Language.KO] == keys[Language.EN]
    for lang, table in catalog.messages.items():
        assert all(value.strip() for value in table.values()), lang


def test_each_area_file_is_in_both_languages_and_prefixed_by_its_area() -> None:
    areas = {
        lang: {p.name for p in (LOCALES_DIR / lang.value).glob("*.json")} for lang in PAGE_LANGUAGES
    }
    assert areas[Language.KO] == areas[Language.EN]
    for lang in PAGE_LANGUAGES:
        for path in (LOCALES_DIR / lang.value).glob("*.json"):
            keys = json.loads(path.read_text(encoding="utf-8"))
            assert all(key.startswith(path.stem + ".") for key in keys), path


def test_placeholders_agree_between_languages() -> None:
    catalog = load_catalog()
    import string

    def names(text: str) -> set[str]:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field}

    for key, ko in catalog.messages[Language.KO].items():
        assert names(ko) == names(catalog.messages[Language.EN][key]), key


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "expected"),
    [
        ("", "", "", Language.KO),
        ("", "", "en-US,en;q=0.9", Language.EN),
        ("", "", "fr-FR,en;q=0.5,ko;q=0.8", Language.KO),
        ("", "", "fr-FR,de;q=0.5", Language.KO),
        ("", "en", "ko", Language.EN),
        ("lang=ko", "en", "en", Language.KO),
        ("lang=xx", "", "en", Language.EN),
        ("", "", "en;q=0,ko;q=0.1", Language.KO),
        ("", "", "en;q=bad", Language.KO),
    ],
)
def test_negotiate(query: str, cookie: str, accept: str, expected: Language) -> None:
    assert negotiate(_request(query, cookie, accept)) is expected


def test_translator_fills_placeholders_and_refuses_unknown_keys(tmp_path: Path) -> None:
    for lang in PAGE_LANGUAGES:
        (tmp_path / lang.value).mkdir()
        (tmp_path / lang.value / "demo.json").write_text(
            json.dumps({"demo.hello": f"{lang.value} {{name}}"}), encoding="utf-8"
        )
    t = load_catalog(tmp_path).translator(Language.EN)
    assert t("demo.hello", name="Ji-woo") == "en Ji-woo"
    with pytest.raises(MessageError, match=r"demo\.missing"):
        t("demo.missing")


def test_a_broken_catalogue_is_a_typed_error(tmp_path: Path) -> None:
    for lang in PAGE_LANGUAGES:
        (tmp_path / lang.value).mkdir()
    (tmp_path / "ko" / "bad.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(MessageError, match=r"bad\.json"):
        load_catalog(tmp_path)
