"""Crawls and URL lists against a local site: same site, depth and page limits, robots.txt."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stopspread.errors import FetchStatusError, FetchTooLargeError
from stopspread.sources.crawl import (
    Event,
    ItemFailed,
    MediaFound,
    PageVisited,
    RobotsRefused,
    crawl,
    url_list,
)
from stopspread.sources.fetch import Fetcher, FetchLimits
from stopspread.sources.folder import folder_media
from tests.sources.site import LocalSite, Page, local_site

LIMITS = FetchLimits(host_interval_s=0, allow_loopback=True, user_agent="StopSpread/0.1 (+test)")
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with local_site() as s:
        # a chain of pages: / -> /p1 -> /p2 -> /p3, each with one image; and an off-site link
        for i in range(4):
            here = "/" if i == 0 else f"/p{i}"
            s.html(
                here,
                f'<img src="/img{i}.jpg"><a href="/p{i + 1}">next</a>'
                '<a href="http://10.0.0.1/private">off-site</a>',
            )
            s.file(f"/img{i}.jpg", JPEG, "image/jpeg")
        yield s


def pages(events: list[Event]) -> list[str]:
    return [
        e.page.url.rsplit(":", 1)[1].split("/", 1)[1] for e in events if isinstance(e, PageVisited)
    ]


def test_depth_limit(site: LocalSite) -> None:
    with Fetcher(LIMITS) as fetcher:
        events = list(crawl(fetcher, site.url("/"), max_depth=2, max_pages=100))
    assert pages(events) == ["", "p1", "p2"]
    media = [e.url for e in events if isinstance(e, MediaFound)]
    assert media == [site.url(f"/img{i}.jpg") for i in range(3)]
    assert all(
        isinstance(e, MediaFound) and e.page is not None
        for e in events
        if isinstance(e, MediaFound)
    )
    assert fetcher.connects >= 1
    assert not any("private" in h for h in site.hits)  # never left the site


def test_page_limit(site: LocalSite) -> None:
    with Fetcher(LIMITS) as fetcher:
        events = list(crawl(fetcher, site.url("/"), max_depth=10, max_pages=2))
    assert pages(events) == ["", "p1"]
    assert site.hits.count("/p2") == 0


def test_robots_disallow_is_obeyed(site: LocalSite) -> None:
    site.routes["/robots.txt"] = Page(
        b"User-agent: *\nDisallow: /p2\n\nUser-agent: StopSpread\nDisallow: /p1\n",
        "text/plain",
    )
    with Fetcher(LIMITS) as fetcher:
        events = list(crawl(fetcher, site.url("/"), max_depth=5, max_pages=100))
    assert pages(events) == [""]  # our own group: /p1 is refused, so /p2.. are never reached
    assert [e.url for e in events if isinstance(e, RobotsRefused)] == [site.url("/p1")]
    assert "/p1" not in site.hits
    assert site.hits.count("/robots.txt") == 1


def test_robots_crawl_delay_slows_the_host(site: LocalSite) -> None:
    site.routes["/robots.txt"] = Page(b"User-agent: *\nCrawl-delay: 7\n", "text/plain")
    slept: list[float] = []
    with Fetcher(LIMITS) as fetcher:
        fetcher.pacer._sleep = slept.append  # record instead of sleeping
        list(crawl(fetcher, site.url("/"), max_depth=1, max_pages=2))
    assert slept and max(slept) > 6.0


def test_robots_server_error_disallows_everything(site: LocalSite) -> None:
    site.routes["/robots.txt"] = Page(b"oops", "text/plain", status=503)
    with Fetcher(LIMITS) as fetcher:
        events = list(crawl(fetcher, site.url("/"), max_depth=3, max_pages=10))
    assert events == [RobotsRefused(site.url("/"))]


def test_url_list_pages_direct_media_and_errors(site: LocalSite) -> None:
    site.routes["/video"] = Page(b"\x1a\x45\xdf\xa3" + b"\x00" * 64, "application/octet-stream")
    urls = [site.url("/p1"), site.url("/img3.jpg"), site.url("/gone.jpg"), site.url("/video")]
    with Fetcher(LIMITS) as fetcher:
        events = list(url_list(fetcher, urls))
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["PageVisited", "MediaFound", "MediaFound", "ItemFailed", "MediaFound"]
    direct = [e for e in events if isinstance(e, MediaFound) and e.response is not None]
    assert [e.url for e in direct] == [site.url("/img3.jpg"), site.url("/video")]
    failed = next(e for e in events if isinstance(e, ItemFailed))
    assert isinstance(failed.error, FetchStatusError) and failed.error.status == 404


def test_folder_finds_images_and_videos_recursively(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one.jpg").write_bytes(JPEG)
    (tmp_path / "a" / "b" / "clip.bin").write_bytes(b"\x1a\x45\xdf\xa3" + b"\x00" * 64)
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "big.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 5000)
    events = list(folder_media(tmp_path, max_bytes=1000))
    found = [e.url.rsplit("/", 1)[1] for e in events if isinstance(e, MediaFound)]
    assert found == ["one.jpg", "clip.bin"]  # a folder's files before its subfolders
    assert all(
        e.response is not None and e.response.url.startswith("file://")
        for e in events
        if isinstance(e, MediaFound)
    )
    failed = [e for e in events if isinstance(e, ItemFailed)]
    assert len(failed) == 1 and isinstance(failed[0].error, FetchTooLargeError)
