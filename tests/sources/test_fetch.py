"""Fetching: SSRF refusals before any connection, byte and time caps, redirects."""

from __future__ import annotations

import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import httpx
import pytest

from stopspread.errors import (
    FetchError,
    FetchRefusedError,
    FetchStatusError,
    FetchTimeoutError,
    FetchTooLargeError,
)
from stopspread.sources._net import GuardedBackend, GuardedTransport
from stopspread.sources.fetch import CHUNK_BYTES, Fetcher, FetchLimits, HostPacer, check_address
from tests.sources.site import LocalSite, Page, local_site

LOOPBACK_OK = FetchLimits(host_interval_s=0, allow_loopback=True, user_agent="StopSpread-test")
NO_LOOPBACK = FetchLimits(host_interval_s=0, allow_loopback=False)


def no_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"no DNS lookup expected for {host}")


def fake_dns(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    return lambda host, _port: table[host]


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with local_site() as s:
        yield s


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "192.168.1.20",
        "172.16.0.1",
        "169.254.169.254",
        "127.0.0.1",
        "0.0.0.0",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "::ffff:10.0.0.1",
        "::ffff:8.8.8.8",
        "2002:a00:1::",  # 6to4 around 10.0.0.1
        "100.64.0.1",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    with pytest.raises(FetchRefusedError):
        check_address(address, allow_loopback=False)


def test_public_addresses_pass_and_loopback_only_when_allowed() -> None:
    assert check_address("93.184.216.34", allow_loopback=False) == "93.184.216.34"
    assert check_address("2606:4700::1111", allow_loopback=False) == "2606:4700::1111"
    assert check_address("127.0.0.1", allow_loopback=True) == "127.0.0.1"
    assert check_address("::1", allow_loopback=True) == "::1"
    with pytest.raises(FetchRefusedError):
        check_address("10.0.0.1", allow_loopback=True)  # private ranges never


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/",
        "http://192.168.0.5:8080/x.jpg",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://0.0.0.0/",
        "http://127.0.0.1/",
        "https://127.0.0.1/",
        "http://[::ffff:127.0.0.1]/",
        "ftp://example.com/a.jpg",
        "file:///etc/passwd",
        "http://user:pw@example.com/",
        "http://user@example.com/",
        "gopher://example.com/",
        "http:///nohost",
    ],
)
def test_refused_before_connecting(url: str) -> None:
    with Fetcher(NO_LOOPBACK, resolver=no_dns) as fetcher:
        with pytest.raises(FetchRefusedError):
            fetcher.get(url)
        assert fetcher.connects == 0


def test_hostnames_resolving_to_private_or_loopback_are_refused() -> None:
    dns = fake_dns(
        {
            "sneaky.test": ["127.0.0.1"],
            "mixed.test": ["93.184.216.34", "10.0.0.1"],  # one bad address refuses the host
            "metadata.test": ["169.254.169.254"],
        }
    )
    with Fetcher(NO_LOOPBACK, resolver=dns) as fetcher:
        for host in ("sneaky.test", "mixed.test", "metadata.test"):
            with pytest.raises(FetchRefusedError):
                fetcher.get(f"http://{host}/a.jpg")
        assert fetcher.connects == 0


def test_loopback_allowed_fetches_and_pins_the_checked_address(site: LocalSite) -> None:
    site.file("/a.jpg", b"\xff\xd8\xff" + b"x" * 1000, "image/jpeg")
    port = site.base_url.rsplit(":", 1)[1]
    with Fetcher(LOOPBACK_OK, resolver=fake_dns({"site.test": ["127.0.0.1"]})) as fetcher:
        got = fetcher.get(f"http://site.test:{port}/a.jpg")
    assert got.status == 200
    assert got.body.startswith(b"\xff\xd8\xff")
    assert got.peer == "127.0.0.1"
    assert got.url == f"http://site.test:{port}/a.jpg"
    assert ("host", f"site.test:{port}") in got.request_headers
    assert site.user_agents == ["StopSpread-test"]


def test_internationalised_host_names_go_out_in_idna(site: LocalSite) -> None:
    site.file("/a.jpg", b"\xff\xd8\xff" + b"x" * 10, "image/jpeg")
    port = site.base_url.rsplit(":", 1)[1]
    asked: list[str] = []

    def dns(host: str, _port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    with Fetcher(LOOPBACK_OK, resolver=dns) as fetcher:
        got = fetcher.get(f"http://BÜCHER.test:{port}/a.jpg")
    assert asked == ["xn--bcher-kva.test"]
    assert ("host", f"xn--bcher-kva.test:{port}") in got.request_headers


def test_redirect_to_a_refused_address_is_refused(site: LocalSite) -> None:
    for name, target in [
        ("/to-private", "http://10.0.0.1/x"),
        ("/to-metadata", "http://169.254.169.254/latest/"),
        ("/to-v6-loopback", "http://[::1]:9/"),
        ("/to-file", "file:///etc/passwd"),
    ]:
        site.routes[name] = Page(b"", status=302, headers=(("Location", target),))
    limits = FetchLimits(host_interval_s=0, allow_loopback=True)
    with Fetcher(limits, resolver=no_dns) as fetcher:
        for name in ("/to-private", "/to-metadata", "/to-file"):
            with pytest.raises(FetchRefusedError):
                fetcher.get(site.url(name))
        assert fetcher.connects == 1  # only the allowed first hop (kept alive, reused)


def test_redirects_followed_and_loop_ends_at_the_limit(site: LocalSite) -> None:
    site.routes["/a"] = Page(b"", status=301, headers=(("Location", "/b"),))
    site.routes["/b"] = Page(b"ok", "text/plain")
    site.routes["/loop"] = Page(b"", status=302, headers=(("Location", "/loop"),))
    limits = FetchLimits(host_interval_s=0, allow_loopback=True, max_redirects=4)
    with Fetcher(limits) as fetcher:
        got = fetcher.get(site.url("/a"))
        assert (got.status, got.body, got.redirects) == (200, b"ok", (site.url("/a"),))
        before = len(site.hits)
        with pytest.raises(FetchStatusError):
            fetcher.get(site.url("/loop"))
    assert len(site.hits) - before == 5  # the first request and 4 redirects


def _endless(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "image/jpeg")
    handler.end_headers()
    chunk = b"\xff" * 65536
    while True:  # about 6 MB/s: endless, but a second of it fits in memory
        handler.wfile.write(chunk)
        time.sleep(0.01)


def _trickle(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", "1000000")
    handler.end_headers()
    for _ in range(1_000_000):
        handler.wfile.write(b"<")
        handler.wfile.flush()
        time.sleep(0.05)


def _slow_headers(handler: BaseHTTPRequestHandler) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100_000:
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        time.sleep(0.05)


def test_oversize_download_is_cut_off_at_the_cap(site: LocalSite) -> None:
    site.routes["/big"] = Page(b"\xff" * 3_000_000, "image/jpeg")
    site.routes["/endless"] = _endless
    limits = FetchLimits(host_interval_s=0, allow_loopback=True, max_bytes=1_000_000)
    for path in ("/big", "/endless"):
        with Fetcher(limits) as fetcher:
            with pytest.raises(FetchTooLargeError) as info:
                fetcher.get(site.url(path))
            assert "cut off" in str(info.value)
            # the cap, one chunk of the body, one network read of headers and slack at most
            assert fetcher.bytes_received <= 1_000_000 + 2 * CHUNK_BYTES


@pytest.mark.parametrize("route", [_trickle, _slow_headers, _endless])
def test_a_download_that_never_ends_stops_at_the_time_cap(site: LocalSite, route) -> None:  # type: ignore[no-untyped-def]
    site.routes["/slow"] = route
    limits = FetchLimits(
        host_interval_s=0, allow_loopback=True, total_s=1.0, read_s=5.0, max_bytes=10**12
    )
    with Fetcher(limits) as fetcher, pytest.raises(FetchTimeoutError):
        fetcher.get(site.url("/slow"))


def test_a_server_that_does_not_listen_is_a_fetch_error() -> None:
    with Fetcher(LOOPBACK_OK) as fetcher, pytest.raises(FetchError, match="ConnectError"):
        fetcher.get("http://127.0.0.1:9/")  # discard port: nothing listens in the sandbox


def test_the_transport_refuses_unchecked_addresses_on_its_own() -> None:
    """The second line: a client on the transport alone still never connects to 10.0.0.1."""
    backend = GuardedBackend(allow_loopback=False)
    client = httpx.Client(transport=GuardedTransport(backend))
    with client, backend.deadline.running(time.monotonic() + 5), pytest.raises(httpx.ConnectError):
        client.get("http://10.0.0.1/")
    assert backend.connects == 0


def test_host_pacer_spaces_requests_per_host() -> None:
    slept: list[float] = []
    pacer = HostPacer(2.0, sleep=slept.append)
    pacer.wait("a")
    pacer.wait("b")
    pacer.wait("a")
    pacer.set_delay("b", 5.0)
    pacer.wait("b")
    pacer.wait("b")
    assert len(slept) == 3
    assert 1.5 < slept[0] <= 2.0
    assert slept[2] > 4.0


def test_compressed_bodies_are_decoded_within_the_cap() -> None:
    import gzip
    from datetime import UTC, datetime

    from stopspread.sources.fetch import Fetched

    def response(body: bytes, coding: str) -> Fetched:
        headers = (("Content-Type", "text/html"), ("Content-Encoding", coding))
        return Fetched("http://a.test/", 200, headers, body, datetime.now(UTC), "93.184.216.34")

    page = b"<html>" + b"x" * 5000 + b"</html>"
    assert response(gzip.compress(page), "gzip").decoded_body(10_000) == page
    bomb = response(gzip.compress(b"\0" * 50_000_000), "gzip")  # ~50 kB on the wire
    with pytest.raises(FetchTooLargeError):
        bomb.decoded_body(1_000_000)
    with pytest.raises(FetchError):
        response(b"not gzip at all", "gzip").decoded_body(1000)
    with pytest.raises(FetchError):
        response(page, "br").decoded_body(10_000)
