"""robots.txt parsing: any text gives rules, never an exception."""

from __future__ import annotations

import pytest

from stopspread.sources.robots import parse_robots

URL = "https://example.org:443/robots.txt"


def test_rules_apply() -> None:
    rules = parse_robots(["User-agent: *", "Disallow: /private", "Crawl-delay: 5"], URL)
    assert not rules.can_fetch("StopSpread", "https://example.org/private/x")
    assert rules.can_fetch("StopSpread", "https://example.org/public")
    assert rules.crawl_delay("StopSpread") == 5


@pytest.mark.parametrize(
    "line",
    ["Crawl-delay: ²", "Request-rate: ²/5", "Crawl-delay: %C2%B2", "request-rate: 1/³ # x"],
)
def test_a_non_ascii_digit_is_ignored(line: str) -> None:
    """Found by the fuzzer (tests/fuzz): urllib.robotparser called int('²') and raised."""
    rules = parse_robots(["User-agent: *", line, "Disallow: /x"], URL)
    assert rules.crawl_delay("StopSpread") is None
    assert rules.request_rate("StopSpread") is None
    assert not rules.can_fetch("StopSpread", "https://example.org/x")
