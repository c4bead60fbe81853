"""Website crawls and URL lists: pages visited, media found, failures — as a stream of events.

A crawl starts at one URL and stays on its site (same scheme, host and port), breadth
first, within a depth and a page limit, obeying robots.txt (for every host it fetches
from, media hosts included). A URL list is a crawl of depth 0 from each URL: a page
yields the media in it, a direct media URL yields itself. Media may live on other hosts
(CDNs); the fetcher checks every address the same way.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final

from stopspread.errors import FetchError, FetchStatusError, StopSpreadError
from stopspread.sources.fetch import Fetched, Fetcher
from stopspread.sources.html import parse_page
from stopspread.sources.media import BodyKind, classify
from stopspread.sources.robots import RobotsCache
from stopspread.sources.urls import same_site

__all__ = [
    "HTML_MAX_BYTES",
    "Event",
    "ItemFailed",
    "MediaFound",
    "PageVisited",
    "RobotsRefused",
    "crawl",
    "url_list",
]

HTML_MAX_BYTES: Final = 10 * 1024 * 1024  # decoded page text we parse


@dataclass(frozen=True, slots=True)
class PageVisited:
    page: Fetched
    media: int  # media URLs found in it


@dataclass(frozen=True, slots=True)
class MediaFound:
    """A media URL; ``response`` is set when it was fetched already (direct media, files)."""

    url: str
    page: Fetched | None
    response: Fetched | None = None


@dataclass(frozen=True, slots=True)
class ItemFailed:
    url: str
    error: StopSpreadError


@dataclass(frozen=True, slots=True)
class RobotsRefused:
    url: str
    reason: str = field(default="", compare=False)  # robots.txt unreadable, or it disallows


Event = PageVisited | MediaFound | ItemFailed | RobotsRefused


class _Walker:
    def __init__(self, fetcher: Fetcher, robots: RobotsCache) -> None:
        self.fetcher = fetcher
        self.robots = robots

    def visit(self, url: str) -> tuple[list[Event], list[str]]:
        """Fetch one URL; the events it gives and the page links found in it."""
        if not self.robots.allowed(url):
            return [RobotsRefused(url, self.robots.refusal(url))], []
        try:
            got = self.fetcher.get(url)
        except FetchError as exc:
            return [ItemFailed(url, exc)], []
        if not got.ok:
            return [ItemFailed(url, FetchStatusError(f"HTTP {got.status}", got.status))], []
        kind = classify(got.body, got.content_type, got.url)
        if kind in (BodyKind.IMAGE, BodyKind.VIDEO):
            return [MediaFound(got.url, None, got)], []
        if kind is not BodyKind.HTML:
            return [PageVisited(got, 0)], []
        try:
            text = got.decoded_body(HTML_MAX_BYTES).decode(_charset(got), errors="replace")
        except FetchError as exc:
            return [ItemFailed(url, exc)], []
        links = parse_page(text, got.url)
        events: list[Event] = [PageVisited(got, len(links.media))]
        events += [MediaFound(m, got) for m in links.media]
        return events, links.pages


def _charset(page: Fetched) -> str:
    for param in page.header("content-type").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            cleaned = value.strip().strip("\"'").lower()
            try:
                "".encode(cleaned)
            except LookupError:
                break
            return cleaned
    return "utf-8"


def crawl(fetcher: Fetcher, start: str, *, max_depth: int, max_pages: int) -> Iterator[Event]:
    """Breadth first from ``start``, same site only, at most ``max_pages`` fetches."""
    walker = _Walker(fetcher, RobotsCache(fetcher))
    queue: deque[tuple[str, int]] = deque([(start, 0)])
    queued = {start}
    fetched = 0
    limit = 2 * max_pages + 10  # room for pages that robots.txt refuses
    while queue and fetched < max_pages:
        url, depth = queue.popleft()
        events, links = walker.visit(url)
        fetched += not isinstance(events[0], RobotsRefused)
        yield from events
        if depth >= max_depth:
            continue
        for link in links:
            if len(queued) >= limit:
                break  # never fetched anyway: a page limit also bounds the memory a crawl holds
            if link not in queued and same_site(link, start):
                queued.add(link)
                queue.append((link, depth + 1))


def url_list(fetcher: Fetcher, urls: Iterable[str]) -> Iterator[Event]:
    """Each URL once: a page gives the media in it, a media URL gives itself."""
    walker = _Walker(fetcher, RobotsCache(fetcher))
    for url in dict.fromkeys(urls):
        events, _links = walker.visit(url)
        yield from events
