"""Links and media in an HTML page, with the standard library's ``html.parser``.

No new dependency: the parser is forgiving, never fetches anything, and we only need
attributes of a few tags. Found: ``<img src|srcset|data-src>``, ``<picture><source
srcset>``, ``<video src|poster>``, ``<video><source src>``, ``<a href>`` (a page, or media
by its suffix), ``<iframe src>``, ``og:image``/``og:video``/``twitter:image`` meta tags,
and ``<base href>`` for resolving them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Final

from stopspread.sources.media import looks_like_media_url
from stopspread.sources.urls import absolute

__all__ = ["MAX_LINKS_PER_PAGE", "PageLinks", "parse_page", "parse_srcset"]

MAX_LINKS_PER_PAGE: Final = 5000  # a hostile page cannot make a crawl hold millions of URLs
_META_MEDIA: Final = frozenset(
    {"og:image", "og:image:url", "og:image:secure_url", "og:video", "og:video:url"}
    | {"og:video:secure_url", "twitter:image", "twitter:image:src"}
)


@dataclass(slots=True)
class PageLinks:
    """Absolute URLs found in one page, in document order, each once."""

    media: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)


def parse_srcset(value: str) -> list[str]:
    """The URLs of a ``srcset`` attribute (``a.jpg 1x, b.jpg 2x``; descriptors dropped)."""
    urls: list[str] = []
    pos, n = 0, len(value)
    while pos < n:
        while pos < n and (value[pos].isspace() or value[pos] == ","):
            pos += 1
        start = pos
        while pos < n and not value[pos].isspace():
            pos += 1
        url = value[start:pos]
        if url.endswith(","):
            url = url.rstrip(",")  # no descriptor: the comma ends the candidate
        else:
            while pos < n and value[pos] != ",":  # skip the descriptor
                pos += 1
        if url:
            urls.append(url)
    return urls


class _Parser(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.links = PageLinks()
        self._seen: set[tuple[str, bool]] = set()
        self._in_media = 0  # inside <video>/<audio>/<picture>: <source> is media

    def _add(self, raw: str | None, media: bool) -> None:
        if not raw or len(self._seen) >= MAX_LINKS_PER_PAGE:
            return
        url = absolute(self.base, raw)
        if url is None or (url, media) in self._seen:
            return
        self._seen.add((url, media))
        (self.links.media if media else self.links.pages).append(url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): v or "" for k, v in attrs}
        if tag == "base" and a.get("href"):
            self.base = absolute(self.base, a["href"]) or self.base
        elif tag == "img":
            for name in ("src", "data-src"):
                self._add(a.get(name), media=True)
            for name in ("srcset", "data-srcset"):
                for url in parse_srcset(a.get(name, "")):
                    self._add(url, media=True)
        elif tag in ("video", "picture", "audio"):
            self._in_media += 1
            if tag == "video":
                self._add(a.get("src"), media=True)
                self._add(a.get("poster"), media=True)
        elif tag == "source" and self._in_media:
            self._add(a.get("src"), media=True)
            for url in parse_srcset(a.get("srcset", "")):
                self._add(url, media=True)
        elif tag == "meta":
            key = (a.get("property") or a.get("name") or "").lower()
            if key in _META_MEDIA:
                self._add(a.get("content"), media=True)
        elif tag in ("a", "area", "iframe", "frame"):
            href = a.get("src") if tag in ("iframe", "frame") else a.get("href")
            if href:
                self._add(href, media=looks_like_media_url(absolute(self.base, href) or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("video", "picture", "audio") and self._in_media:
            self._in_media -= 1


def parse_page(html: str, base_url: str) -> PageLinks:
    """Every media URL and page link in ``html``, resolved against ``base_url``."""
    parser = _Parser(base_url)
    parser.feed(html)
    parser.close()
    return parser.links
