"""The host registry: who to ask, in which language, under which law, for each hosting domain.

A registry is a TOML file (format in ``docs/takedown.md``) with one table per domain::

    version = 1

    [hosts."example.com"]
    abuse_email = "abuse@example.com"
    form_url = "https://example.com/report"
    language = "en"
    jurisdiction = "US"
    notes = "Answers within a day."

The shipped file (:func:`shipped_registry_path`) holds placeholders only; a center adds its own
file (setting ``hosts_file``) and, later, edits kept in the database. Layers are merged with
:meth:`HostRegistry.merged`: a later layer replaces a whole entry of an earlier one.

:meth:`HostRegistry.lookup` finds the entry for a URL: the exact host first, then each parent
domain up to the registrable domain (from the Public Suffix List bundled with
``publicsuffixlist``; nothing is fetched at run time). A host without an entry comes back as
:class:`UnknownHost`, never ``None``, so that a worker can fill it in.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

from stopspread.config import Settings
from stopspread.errors import HostRegistryError
from stopspread.languages import Language

__all__ = [
    "REGISTRY_VERSION",
    "HostEntry",
    "HostRegistry",
    "KnownHost",
    "UnknownHost",
    "host_of",
    "load_registry",
    "normalise_domain",
    "parse_registry",
    "registrable_domain",
    "registry_from_settings",
    "shipped_registry_path",
]

REGISTRY_VERSION: Final = 1  # the only format version this code reads
_FIELDS: Final = frozenset({"abuse_email", "form_url", "language", "jurisdiction", "notes"})
_EMAIL: Final = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
_COUNTRY: Final = re.compile(r"^[A-Z]{2}$")  # ISO 3166-1 alpha-2
_LABEL: Final = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True, slots=True)
class HostEntry:
    """One hosting domain's abuse contact. At least one of ``abuse_email``/``form_url`` is set."""

    domain: str
    language: Language
    jurisdiction: str  # ISO 3166-1 alpha-2, upper case; "ZZ" when unknown
    abuse_email: str | None = None
    form_url: str | None = None
    notes: str = ""
    source: str = ""  # the file (or "database") the entry came from


@dataclass(frozen=True, slots=True)
class KnownHost:
    """A URL whose host (or a parent domain of it) has an entry."""

    url: str
    host: str
    registrable: str
    entry: HostEntry


@dataclass(frozen=True, slots=True)
class UnknownHost:
    """A URL whose host has no entry: list ``registrable`` for a worker to fill in."""

    url: str
    host: str
    registrable: str


@dataclass(frozen=True, slots=True)
class HostRegistry:
    """Entries by normalised domain. Build with :func:`load_registry` or :func:`parse_registry`."""

    entries: Mapping[str, HostEntry] = field(default_factory=dict)

    @classmethod
    def merged(cls, *layers: HostRegistry | Iterable[HostEntry]) -> HostRegistry:
        """Merge layers in order; an entry in a later layer replaces the earlier one whole."""
        out: dict[str, HostEntry] = {}
        for layer in layers:
            items = layer.entries.values() if isinstance(layer, HostRegistry) else layer
            for entry in items:
                out[entry.domain] = entry
        return cls(out)

    def get(self, domain: str) -> HostEntry | None:
        return self.entries.get(normalise_domain(domain))

    def lookup(self, url: str) -> KnownHost | UnknownHost:
        """The entry for ``url``'s host: exact host, then parents up to the registrable domain."""
        host = host_of(url)
        registrable = registrable_domain(host)
        candidate = host
        while True:
            entry = self.entries.get(candidate)
            if entry is not None:
                return KnownHost(url=url, host=host, registrable=registrable, entry=entry)
            if candidate == registrable or "." not in candidate:
                return UnknownHost(url=url, host=host, registrable=registrable)
            candidate = candidate.split(".", 1)[1]

    def __len__(self) -> int:
        return len(self.entries)


def shipped_registry_path() -> Path:
    """The registry shipped with StopSpread (placeholder entries that show the format)."""
    return Path(__file__).with_name("data") / "hosts.toml"


def registry_from_settings(settings: Settings, edits: Iterable[HostEntry] = ()) -> HostRegistry:
    """The shipped registry, the center's file (``hosts_file``) over it, then ``edits``."""
    layers: list[HostRegistry | Iterable[HostEntry]] = [load_registry(shipped_registry_path())]
    if settings.hosts_file is not None:
        layers.append(load_registry(settings.hosts_file))
    layers.append(edits)
    return HostRegistry.merged(*layers)


def normalise_domain(domain: str) -> str:
    """Lower case, no trailing dot, internationalised names as IDNA A-labels (``xn--``)."""
    name = domain.strip().rstrip(".").lower()
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name


def host_of(url: str) -> str:
    """The normalised host name (or IP address) of an absolute URL.

    Raises :class:`ValueError` when the URL has no host.
    """
    host = urlsplit(url.strip()).hostname
    if not host:
        raise ValueError("the URL has no host name")
    return normalise_domain(host)


@cache
def _psl() -> PublicSuffixList:
    # ICANN section only: a private suffix (github.io, blogspot.com) still belongs to the
    # company that runs it, and that company is who gets the notice.
    return PublicSuffixList(only_icann=True)


def registrable_domain(host: str) -> str:
    """The registrable domain ("eTLD+1") of a host; an IP address or single label as it is."""
    name = normalise_domain(host)
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        return name
    return _psl().privatesuffix(name) or name


def load_registry(path: Path) -> HostRegistry:
    """Read and validate a registry file. Raises :class:`HostRegistryError` with the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HostRegistryError(f"cannot read the file: {exc}", str(path)) from exc
    return parse_registry(text, str(path))


def parse_registry(text: str, source: str = "<string>") -> HostRegistry:
    """Parse registry TOML text; every problem names ``source`` and its line."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = int(m.group(1)) if (m := re.search(r"line (\d+)", str(exc))) else 0
        raise HostRegistryError(f"not valid TOML: {exc}", source, line) from exc
    lines = _Lines(text, source)
    for key in table:
        if key not in ("version", "hosts"):
            raise lines.error(f"unknown top-level key {key!r}", lines.key_line(None, key))
    if table.get("version") != REGISTRY_VERSION:
        raise lines.error(
            f"'version = {REGISTRY_VERSION}' is required", lines.key_line(None, "version")
        )
    hosts = table.get("hosts", {})
    if not isinstance(hosts, dict):
        raise lines.error("'hosts' must be a table of domains", lines.key_line(None, "hosts"))
    entries: dict[str, HostEntry] = {}
    for raw_domain, raw in hosts.items():
        entry = _entry(raw_domain, raw, lines)
        if entry.domain in entries:
            raise lines.error(
                f"{raw_domain!r} is the same domain as an earlier entry", lines.header(raw_domain)
            )
        entries[entry.domain] = entry
    return HostRegistry(entries)


class _Lines:
    """Finds the line of a table header or key, for error messages."""

    def __init__(self, text: str, source: str) -> None:
        self.lines = text.splitlines()
        self.source = source

    def error(self, message: str, line: int) -> HostRegistryError:
        return HostRegistryError(message, self.source, line)

    def header(self, domain: str) -> int:
        wanted = re.compile(r'^\s*\[\s*hosts\s*\.\s*(["\']?)' + re.escape(domain) + r"\1\s*\]")
        for number, line in enumerate(self.lines, 1):
            if wanted.match(line):
                return number
        return 0

    def key_line(self, domain: str | None, key: str) -> int:
        """The line of ``key`` in the table of ``domain`` (top level for None), else its header."""
        start = self.header(domain) if domain is not None else 0
        if domain is not None and start == 0:
            return 0
        key_re = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
        for number in range(start + 1, len(self.lines) + 1):
            line = self.lines[number - 1]
            if line.lstrip().startswith("["):
                break
            if key_re.match(line):
                return number
        return start


def _entry(raw_domain: str, raw: Any, lines: _Lines) -> HostEntry:
    at = lines.header(raw_domain)
    if not isinstance(raw, dict):
        raise lines.error(f"{raw_domain!r} must be a table", at)
    domain = normalise_domain(raw_domain)
    if not domain or not all(_LABEL.match(label) for label in domain.split(".")):
        raise lines.error(f"{raw_domain!r} is not a domain name", at)
    for key in raw:
        if key not in _FIELDS:
            raise lines.error(
                f"unknown key {key!r} (known: {', '.join(sorted(_FIELDS))})",
                lines.key_line(raw_domain, key),
            )
    values: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(value, str):
            raise lines.error(f"{key} must be a string", lines.key_line(raw_domain, key))
        values[key] = value.strip()
    return _checked(raw_domain, domain, values, lines)


def _scheme(url: str) -> str | None:
    """The URL's scheme; ``None`` for text ``urlsplit`` refuses (an unclosed ``[``)."""
    try:
        return urlsplit(url).scheme
    except ValueError:
        return None


def _checked(raw_domain: str, domain: str, values: dict[str, str], lines: _Lines) -> HostEntry:
    def fail(key: str, message: str) -> HostRegistryError:
        return lines.error(f"{raw_domain}: {message}", lines.key_line(raw_domain, key))

    email = values.get("abuse_email") or None
    if email is not None and not _EMAIL.match(email):
        raise fail("abuse_email", f"abuse_email {email!r} is not an e-mail address")
    form = values.get("form_url") or None
    if form is not None and _scheme(form) not in ("https", "http"):
        raise fail("form_url", f"form_url {form!r} is not an http(s) URL")
    if email is None and form is None:
        raise lines.error(
            f"{raw_domain}: give abuse_email or form_url (or both)", lines.header(raw_domain)
        )
    try:
        language = Language(values.get("language", ""))
    except ValueError:
        known = ", ".join(lang.value for lang in Language)
        raise fail("language", f"language must be one of {known}") from None
    country = values.get("jurisdiction", "ZZ").upper()
    if not _COUNTRY.match(country):
        raise fail("jurisdiction", "jurisdiction must be an ISO 3166-1 alpha-2 code like KR")
    return HostEntry(
        domain=domain,
        language=language,
        jurisdiction=country,
        abuse_email=email,
        form_url=form,
        notes=values.get("notes", ""),
        source=lines.source,
    )
