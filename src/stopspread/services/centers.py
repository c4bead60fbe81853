"""The support centers a deployment names to survivors: who she can give her 접수 번호 to.

A center's set-up lists them in a TOML file (setting ``centers_file``, format in
``docs/centers.md``)::

    version = 1

    [[centers]]
    name = { ko = "해바라기센터 (서울)", en = "Sunflower Center (Seoul)" }
    phone = "02-3400-1700"
    hours = { ko = "24시간", en = "24 hours a day" }
    does = { ko = "상담, 삭제 지원, 경찰 동행", en = "Counselling, removal, police visits" }
    languages = ["ko", "en"]

``hours`` and ``does`` are plain words she reads, so they must come in Korean and English;
``name`` may be one string for both. A bad file is a set-up error (:class:`ConfigError`,
``stopspread serve`` exits 3) that names the file, the entry and the field; a missing
setting is no error: the pages then say in one sentence that a center can help, with no list.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from stopspread.config import Settings
from stopspread.errors import ConfigError
from stopspread.languages import PAGE_LANGUAGES, Language

__all__ = [
    "CENTERS_VERSION",
    "SPOKEN_LANGUAGES",
    "Center",
    "Localised",
    "centers_from_settings",
    "load_centers",
    "parse_centers",
]

CENTERS_VERSION: Final = 1  # the only format version this code reads
# ISO 639 codes a center may say it speaks; each has a name in both page languages
# (locales/*/survivor.json, ``survivor.centers.language.<code>``; a test checks it).
SPOKEN_LANGUAGES: Final = frozenset(
    {"ko", "en", "zh", "ja", "vi", "th", "ru", "mn", "tl", "uz", "km", "ne", "id", "kvk"}
)
_REQUIRED: Final = ("name", "phone", "hours", "does", "languages")
_PHONE: Final = re.compile(r"^\+?[0-9][0-9 ()-]{1,24}$")
_MAX_TEXT: Final = 300  # characters per text: a line or two on a phone
_MAX_CENTERS: Final = 50


@dataclass(frozen=True, slots=True)
class Localised:
    """One text in each page language."""

    ko: str
    en: str

    def get(self, lang: Language | str) -> str:
        return self.en if Language(lang) is Language.EN else self.ko


@dataclass(frozen=True, slots=True)
class Center:
    """One support center as the survivor pages show it."""

    name: Localised
    phone: str
    hours: Localised
    does: Localised
    languages: tuple[str, ...]  # codes from SPOKEN_LANGUAGES, in the file's order


def centers_from_settings(settings: Settings) -> tuple[Center, ...]:
    """The configured centers; none when ``centers_file`` is not set."""
    if settings.centers_file is None:
        return ()
    return load_centers(settings.centers_file)


def load_centers(path: Path) -> tuple[Center, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read centers file {path}: {exc}") from exc
    return parse_centers(text, str(path))


def parse_centers(text: str, source: str = "<centers>") -> tuple[Center, ...]:
    """Parse a centers file; :class:`ConfigError` names ``source`` and what is wrong."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    unknown = set(table) - {"version", "centers"}
    if unknown:
        raise ConfigError(f"{source}: unknown key {sorted(unknown)[0]!r} (version, centers)")
    if table.get("version", CENTERS_VERSION) != CENTERS_VERSION:
        raise ConfigError(f"{source}: version must be {CENTERS_VERSION}")
    entries = table.get("centers")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{source}: no [[centers]] entries")
    if len(entries) > _MAX_CENTERS:
        raise ConfigError(f"{source}: more than {_MAX_CENTERS} centers")
    return tuple(_center(entry, f"{source}: center {n}") for n, entry in enumerate(entries, 1))


def _center(entry: Any, where: str) -> Center:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: not a table")
    unknown = set(entry) - set(_REQUIRED)
    if unknown:
        raise ConfigError(f"{where}: unknown field {sorted(unknown)[0]!r}")
    missing = [name for name in _REQUIRED if name not in entry]
    if missing:
        raise ConfigError(f"{where}: missing field {missing[0]!r}")
    phone = entry["phone"]
    if not isinstance(phone, str) or not _PHONE.match(phone.strip()):
        raise ConfigError(f"{where}: phone must be digits, spaces, dashes or brackets")
    return Center(
        name=_text(entry["name"], f"{where} name", one_for_both=True),
        phone=phone.strip(),
        hours=_text(entry["hours"], f"{where} hours", one_for_both=False),
        does=_text(entry["does"], f"{where} does", one_for_both=False),
        languages=_languages(entry["languages"], f"{where} languages"),
    )


def _text(raw: Any, where: str, *, one_for_both: bool) -> Localised:
    if isinstance(raw, str) and one_for_both:
        return Localised(ko=_line(raw, where), en=_line(raw, where))
    if not isinstance(raw, Mapping):
        shape = 'a string or { ko = "…", en = "…" }' if one_for_both else '{ ko = "…", en = "…" }'
        raise ConfigError(f"{where}: must be {shape}")
    wanted = {lang.value for lang in PAGE_LANGUAGES}
    if set(raw) != wanted:
        raise ConfigError(f"{where}: give exactly ko and en (every text in both languages)")
    return Localised(ko=_line(raw["ko"], f"{where}.ko"), en=_line(raw["en"], f"{where}.en"))


def _line(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(f"{where}: must be a non-empty string")
    if len(raw) > _MAX_TEXT:
        raise ConfigError(f"{where}: longer than {_MAX_TEXT} characters")
    return " ".join(raw.split())


def _languages(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(c, str) for c in raw):
        raise ConfigError(f'{where}: must be a list of language codes, e.g. ["ko", "en"]')
    for code in raw:
        if code not in SPOKEN_LANGUAGES:
            known = ", ".join(sorted(SPOKEN_LANGUAGES))
            raise ConfigError(f"{where}: unknown language code {code!r} (known: {known})")
    return tuple(dict.fromkeys(raw))
