"""Korean first, then English: language choice and the message catalogues of the pages.

Messages live in ``locales/<lang>/<area>.json``: one flat object per area and language, keys
prefixed by the area (``"survivor.start.title"``), values with ``{name}`` placeholders. Every key
exists in every language; ``tests/web/test_i18n.py`` checks it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from starlette.requests import Request

from stopspread.errors import StopSpreadError
from stopspread.languages import PAGE_LANGUAGES, Language

__all__ = [
    "LANG_COOKIE",
    "LOCALES_DIR",
    "Catalog",
    "MessageError",
    "Translator",
    "load_catalog",
    "negotiate",
]

LOCALES_DIR: Final = Path(__file__).resolve().parent / "locales"
LANG_COOKIE: Final = "lang"

Translator = Callable[..., str]


class MessageError(StopSpreadError):
    """A message catalogue is missing, malformed, or lacks a key a page asked for."""


def _parse(value: str | None) -> Language | None:
    if not value:
        return None
    primary = value.strip().lower().split("-")[0]
    return next((lang for lang in PAGE_LANGUAGES if lang.value == primary), None)


def _from_accept_language(header: str) -> Language | None:
    """The supported language the browser ranks highest (``q`` weights, ties in order)."""
    ranked: list[tuple[float, int, Language]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        lang = _parse(tag)
        if lang is not None and weight > 0:
            ranked.append((-weight, position, lang))
    return min(ranked)[2] if ranked else None


def negotiate(request: Request) -> Language:
    """``?lang=``, then the ``lang`` cookie, then Accept-Language; Korean otherwise."""
    return (
        _parse(request.query_params.get("lang"))
        or _parse(request.cookies.get(LANG_COOKIE))
        or _from_accept_language(request.headers.get("accept-language", ""))
        or Language.KO
    )


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every message of every area, per language."""

    messages: Mapping[Language, Mapping[str, str]]

    def translator(self, lang: Language) -> Translator:
        table = self.messages[lang]

        def t(key: str, /, **values: object) -> str:
            try:
                text = table[key]
            except KeyError as exc:
                raise MessageError(f"no {lang.value} message for {key!r}") from exc
            return text.format(**values) if values else text

        return t


def load_catalog(root: Path = LOCALES_DIR) -> Catalog:
    """Read every ``<lang>/<area>.json``; raises :class:`MessageError` on a bad file."""
    messages: dict[Language, dict[str, str]] = {}
    for lang in PAGE_LANGUAGES:
        table: dict[str, str] = {}
        for path in sorted((root / lang.value).glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise MessageError(f"{path}: {exc}") from exc
            if not isinstance(data, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in data.items()
            ):
                raise MessageError(f"{path}: must be one object of string keys and values")
            table.update(data)
        messages[lang] = table
    return Catalog(messages)
