"""robots.txt, per host, with the standard library's ``urllib.robotparser``.

Fetched once per host and scan through the same safe fetcher (so the same address
checks apply). As RFC 9309 says: a 4xx answer (no robots.txt) allows everything; a 5xx
answer or a host that cannot be reached disallows everything for this scan. A
``Crawl-delay`` for our user agent slows the per-host pacer down (up to 60 s).
"""

from __future__ import annotations

import urllib.parse
import urllib.robotparser
from collections.abc import Sequence
from typing import Final

from stopspread.errors import FetchError, FetchTooLargeError
from stopspread.sources.fetch import Fetcher
from stopspread.sources.urls import host_key, origin

__all__ = ["ROBOTS_MAX_BYTES", "RobotsCache", "parse_robots"]

ROBOTS_MAX_BYTES: Final = 512 * 1024  # Google reads the first 500 KiB
_DISALLOW_ALL: Final = ("User-agent: *", "Disallow: /")


class RobotsCache:
    """``allowed(url)`` by the robots.txt of the URL's host (fetched on first use)."""

    def __init__(self, fetcher: Fetcher) -> None:
        self._fetcher = fetcher
        self._rules: dict[str, urllib.robotparser.RobotFileParser] = {}
        self._why: dict[str, str] = {}  # per host: why everything is disallowed, if it is

    def refusal(self, url: str) -> str:
        """Why ``url`` is not allowed: robots.txt could not be read, or it disallows it."""
        try:
            key = host_key(url)
        except FetchError as exc:
            return f"not a URL we fetch: {exc}"
        return self._why.get(key) or "robots.txt disallows it"

    def allowed(self, url: str) -> bool:
        try:
            key = host_key(url)
        except FetchError:
            return False
        rules = self._rules.get(key)
        if rules is None:
            rules, why = self._load(url)
            self._rules[key] = rules
            if why:
                self._why[key] = why
            delay = rules.crawl_delay(self._fetcher.limits.user_agent)
            if delay is not None:
                self._fetcher.pacer.set_delay(key, float(delay))
        return rules.can_fetch(self._fetcher.limits.user_agent, url)

    def _load(self, url: str) -> tuple[urllib.robotparser.RobotFileParser, str]:
        """The rules, and why everything is disallowed when robots.txt could not be read."""
        scheme, host, port = origin(url)
        shown = f"[{host}]" if ":" in host else host
        robots_url = f"{scheme}://{shown}:{port}/robots.txt"
        try:
            got = self._fetcher.get(robots_url)
            text = got.decoded_body(ROBOTS_MAX_BYTES).decode("utf-8", errors="replace")
        except FetchTooLargeError:
            text, status = "", 200  # too big to be a robots file we read: treat as empty
        except FetchError as exc:
            return parse_robots(
                _DISALLOW_ALL, robots_url
            ), f"{robots_url} could not be read ({type(exc).__name__}: {exc})"
        else:
            status = got.status
        if 400 <= status < 500:
            return parse_robots([], robots_url), ""  # parse() also marks the rules as loaded
        if status >= 300:
            rules = parse_robots(_DISALLOW_ALL, robots_url)
            return rules, f"{robots_url} answered HTTP {status}: nothing may be fetched"
        return parse_robots(text.splitlines(), robots_url), ""


def parse_robots(lines: Sequence[str], robots_url: str) -> urllib.robotparser.RobotFileParser:
    """The rules of a robots.txt file's lines (any text: it never raises)."""
    rules = urllib.robotparser.RobotFileParser(robots_url)
    rules.parse([line for line in lines if _numbers_readable(line)])
    return rules


def _numbers_readable(line: str) -> bool:
    """False for a Crawl-delay or Request-rate line whose value is not ASCII.

    ``urllib.robotparser`` tests ``str.isdigit()`` and then calls ``int()``: "²" passes the
    first and fails the second (ValueError); found by tests/fuzz. Such a line is dropped,
    as an unreadable value is (the parser also percent-decodes, so we do too).
    """
    field, colon, value = line.partition("#")[0].partition(":")
    if not colon or field.strip().lower() not in ("crawl-delay", "request-rate"):
        return True
    return urllib.parse.unquote(value.strip()).isascii()
