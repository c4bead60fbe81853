"""The host registry: file format, line-precise errors, merging, lookup by URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from stopspread.errors import ConfigError, HostRegistryError
from stopspread.languages import Language
from stopspread.takedown.hosts import (
    HostEntry,
    HostRegistry,
    KnownHost,
    UnknownHost,
    host_of,
    load_registry,
    parse_registry,
    registrable_domain,
    shipped_registry_path,
)

GOOD = """\
version = 1

[hosts."example.com"]
abuse_email = "abuse@example.com"
language = "en"
jurisdiction = "us"

[hosts."img.example.com"]
form_url = "https://example.com/form"
language = "ko"
jurisdiction = "KR"
notes = "the image CDN has its own form"
"""


def test_shipped_registry_loads_and_uses_example_domains_only() -> None:
    registry = load_registry(shipped_registry_path())
    assert len(registry) >= 5
    languages = {entry.language for entry in registry.entries.values()}
    assert languages == set(Language)
    for entry in registry.entries.values():
        # placeholders only: RFC 2606 names, never a real host's contact
        assert entry.domain.endswith((".example", "example.com", "example.net"))


def test_parse_normalises_and_keeps_fields() -> None:
    registry = parse_registry(GOOD, "hosts.toml")
    entry = registry.entries["example.com"]
    assert entry == HostEntry(
        domain="example.com",
        language=Language.EN,
        jurisdiction="US",
        abuse_email="abuse@example.com",
        source="hosts.toml",
    )
    assert registry.entries["img.example.com"].form_url == "https://example.com/form"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('version = 1\n[hosts."a.example"\nlanguage = "en"\n', 2, "not valid TOML"),
        ('[hosts."a.example"]\nabuse_email = "a@a.example"\nlanguage = "en"\n', 0, "version"),
        ("version = 2\n", 1, "version"),
        ('version = 1\ncolour = "red"\n', 2, "unknown top-level key"),
        (
            'version = 1\n\n[hosts."a.example"]\nabuse_email = "nobody"\nlanguage = "en"\n',
            4,
            "not an e-mail address",
        ),
        (
            'version = 1\n[hosts."a.example"]\nabuse_email = "a@a.example"\nlanguage = "fr"\n',
            4,
            "language must be one of ko, en, ja, zh",
        ),
        (
            'version = 1\n[hosts."a.example"]\nabuse_email = "a@a.example"\n'
            'language = "en"\njurisdiction = "Korea"\n',
            5,
            "ISO 3166-1",
        ),
        ('version = 1\n[hosts."a.example"]\nlanguage = "en"\n', 2, "abuse_email or form_url"),
        (
            'version = 1\n[hosts."a.example"]\nform_url = "ftp://a.example/x"\nlanguage = "en"\n',
            3,
            "not an http(s) URL",
        ),
        (
            'version = 1\n[hosts."a.example"]\nabuse_email = "a@a.example"\n'
            'language = "en"\nphone = "112"\n',
            5,
            "unknown key 'phone'",
        ),
        (
            'version = 1\n[hosts."a.example"]\nabuse_email = "a@a.example"\nlanguage = 3\n',
            4,
            "language must be a string",
        ),
        ('version = 1\n[hosts."bad domain!"]\nabuse_email = "a@a.example"\n', 2, "not a domain"),
        (
            'version = 1\n[hosts."A.example"]\nabuse_email = "a@a.example"\nlanguage = "en"\n'
            '[hosts."a.example"]\nabuse_email = "a@a.example"\nlanguage = "en"\n',
            5,
            "same domain",
        ),
    ],
)
def test_errors_name_the_file_and_line(text: str, line: int, words: str) -> None:
    with pytest.raises(HostRegistryError) as caught:
        parse_registry(text, "center.toml")
    assert caught.value.line == line
    assert caught.value.source == "center.toml"
    assert words in str(caught.value)
    assert str(caught.value).startswith(f"center.toml:{line}: " if line else "center.toml: ")
    assert isinstance(caught.value, ConfigError)


def test_load_registry_reports_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(HostRegistryError, match="cannot read"):
        load_registry(tmp_path / "missing.toml")
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b"notes = '\xe9'\n")
    with pytest.raises(HostRegistryError, match="cannot read"):
        load_registry(bad)


def test_lookup_exact_parent_and_unknown() -> None:
    registry = parse_registry(GOOD)
    exact = registry.lookup("https://img.example.com/a.jpg")
    assert isinstance(exact, KnownHost)
    assert exact.entry.domain == "img.example.com"
    assert exact.registrable == "example.com"
    parent = registry.lookup("https://CDN.Static.Example.com./v.mp4?x=1")
    assert isinstance(parent, KnownHost)
    assert parent.entry.domain == "example.com"
    assert parent.host == "cdn.static.example.com"
    unknown = registry.lookup("https://www.other-site.co.kr/post/1")
    assert unknown == UnknownHost(
        url="https://www.other-site.co.kr/post/1",
        host="www.other-site.co.kr",
        registrable="other-site.co.kr",
    )


def test_lookup_does_not_climb_past_the_registrable_domain() -> None:
    # an entry for a public suffix must never catch every site under it
    registry = parse_registry(
        'version = 1\n[hosts."co.kr"]\nabuse_email = "a@b.example"\nlanguage = "ko"\n'
    )
    assert isinstance(registry.lookup("https://www.site.co.kr/"), UnknownHost)


def test_merge_later_layers_replace_whole_entries() -> None:
    shipped = parse_registry(GOOD, "shipped")
    center = parse_registry(
        'version = 1\n[hosts."example.com"]\nform_url = "https://example.com/f"\nlanguage = "ja"\n',
        "center",
    )
    edit = HostEntry(
        domain="new.example",
        language=Language.ZH,
        jurisdiction="CN",
        abuse_email="a@new.example",
        source="database",
    )
    merged = HostRegistry.merged(shipped, center, [edit])
    assert merged.entries["example.com"].abuse_email is None
    assert merged.entries["example.com"].language is Language.JA
    assert merged.entries["example.com"].source == "center"
    assert merged.entries["img.example.com"].source == "shipped"
    assert merged.get("NEW.example") == edit
    assert shipped.entries["example.com"].abuse_email == "abuse@example.com"


@pytest.mark.parametrize(
    ("host", "registrable"),
    [
        ("www.example.co.kr", "example.co.kr"),
        ("a.b.example.com", "example.com"),
        ("user.github.io", "github.io"),  # the ICANN section: the company is who answers
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "::1"),
        ("localhost", "localhost"),
        ("kr-host.example", "kr-host.example"),
        ("사이트.한국", "xn--vf4b27jhrk.xn--3e0b707e"),
    ],
)
def test_registrable_domain_offline(host: str, registrable: str) -> None:
    assert registrable_domain(host) == registrable


def test_host_of_needs_a_host() -> None:
    assert host_of("http://[::1]:8080/x") == "::1"
    with pytest.raises(ValueError, match="no host"):
        host_of("/relative/path")


@pytest.mark.parametrize("form_url", ["https://exa[mple.net/abuse", "http://[::1/report"])
def test_a_form_url_that_does_not_parse_is_a_registry_error(form_url: str) -> None:
    """Found by the fuzzer (tests/fuzz): urlsplit raised ValueError out of parse_registry."""
    text = f'version = 1\n[hosts."example.net"]\nform_url = "{form_url}"\nlanguage = "en"\n'
    with pytest.raises(HostRegistryError, match="form_url"):
        parse_registry(text)
