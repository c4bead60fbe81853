"""Fetching one URL for a scan, safely: SSRF checks, a pinned address, byte and time caps.

Every hop (the first request and each redirect) goes through the same checks before a
single packet is sent:

1. :func:`~stopspread.sources.urls.check_url`: http(s) only, a host, no credentials;
2. the host is resolved once and **every** address it resolves to must be public
   (:func:`check_address`: Python's ``is_global`` plus explicit refusals; loopback only when
   ``fetch_allow_loopback`` is set, for tests) — one bad address refuses the host;
3. the connection goes to the address that was checked (the URL is rewritten to the IP, the
   ``Host`` header and TLS SNI/certificate name stay the host's), so DNS cannot answer
   differently between check and connect; the network backend refuses any other address;
4. the per-host pacer waits for the host's turn (``fetch_host_interval_s``, or a longer
   ``Crawl-delay``).

The body is streamed and cut off past ``fetch_max_bytes``. One deadline covers the whole
request — connecting, TLS, headers, body: each network read's timeout is clipped to what is
left of it, so a server that trickles bytes or never ends stops at ``fetch_timeout_s``.
"""

from __future__ import annotations

import ipaddress
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final
from urllib.parse import urljoin, urlunsplit

import httpx

from stopspread.config import Settings
from stopspread.errors import (
    FetchError,
    FetchRefusedError,
    FetchStatusError,
    FetchTimeoutError,
    FetchTooLargeError,
)
from stopspread.sources._net import GuardedBackend, GuardedTransport
from stopspread.sources.addresses import Resolver, check_address, system_resolver
from stopspread.sources.urls import DEFAULT_PORTS, check_url, host_key

__all__ = [
    "FetchLimits",
    "Fetched",
    "Fetcher",
    "HostPacer",
    "Resolver",
    "check_address",
    "system_resolver",
]

REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
CHUNK_BYTES: Final = 64 * 1024
MAX_CRAWL_DELAY_S: Final = 60.0


@dataclass(frozen=True, slots=True)
class FetchLimits:
    max_bytes: int = 50 * 1024 * 1024
    total_s: float = 60.0
    connect_s: float = 10.0
    read_s: float = 15.0
    max_redirects: int = 5
    host_interval_s: float = 1.0
    allow_loopback: bool = False
    user_agent: str = "StopSpread"

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchLimits:
        return cls(
            max_bytes=settings.fetch_max_bytes,
            total_s=settings.fetch_timeout_s,
            connect_s=settings.fetch_connect_timeout_s,
            read_s=settings.fetch_read_timeout_s,
            max_redirects=settings.fetch_max_redirects,
            host_interval_s=settings.fetch_host_interval_s,
            allow_loopback=settings.fetch_allow_loopback,
            user_agent=settings.fetch_user_agent,
        )


@dataclass(frozen=True, slots=True)
class Fetched:
    """One final response (after redirects): what the evidence store records."""

    url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    fetched_at: datetime
    peer: str
    request_headers: tuple[tuple[str, str], ...] = ()
    redirects: tuple[str, ...] = field(default=())

    @property
    def content_type(self) -> str:
        return self.header("content-type").split(";", 1)[0].strip().lower()

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def header(self, name: str) -> str:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), "")

    def decoded_body(self, max_bytes: int) -> bytes:
        """The body without gzip/deflate content coding, capped at ``max_bytes``."""
        coding = self.header("content-encoding").strip().lower()
        if coding in ("", "identity"):
            return self.body
        if coding not in ("gzip", "x-gzip", "deflate"):
            raise FetchError(f"unsupported content coding {coding[:20]!r}")
        wbits = 47 if coding != "deflate" else 15  # 47: gzip or zlib header, auto-detected
        try:
            out = zlib.decompressobj(wbits).decompress(self.body, max_bytes + 1)
        except zlib.error as exc:
            raise FetchError("damaged compressed body") from exc
        if len(out) > max_bytes:
            raise FetchTooLargeError("decompressed body over the byte cap")
        return out


class HostPacer:
    """At least ``interval`` seconds between the starts of two requests to one host."""

    def __init__(self, interval: float, sleep: Callable[[float], None] = time.sleep) -> None:
        self._interval = interval
        self._custom: dict[str, float] = {}
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()
        self._sleep = sleep

    def set_delay(self, host: str, seconds: float) -> None:
        """A longer interval for one host (robots.txt ``Crawl-delay``), capped at 60 s."""
        self._custom[host] = min(max(seconds, self._interval), MAX_CRAWL_DELAY_S)

    def wait(self, host: str) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next.get(host, 0.0))
            self._next[host] = start + self._custom.get(host, self._interval)
        if start > now:
            self._sleep(start - now)


class Fetcher:
    """GET with every check; one per scan (it holds the connection pool and the pacer)."""

    def __init__(
        self,
        limits: FetchLimits,
        *,
        resolver: Resolver = system_resolver,
        pacer: HostPacer | None = None,
    ) -> None:
        self.limits = limits
        self.pacer = pacer or HostPacer(limits.host_interval_s)
        self._resolve = resolver
        self._backend = GuardedBackend(limits.allow_loopback)
        transport = GuardedTransport(self._backend)
        timeout = httpx.Timeout(limits.read_s, connect=limits.connect_s)
        self._client = httpx.Client(transport=transport, timeout=timeout, trust_env=False)

    @property
    def connects(self) -> int:
        """Connections opened so far (tests check refusals happen before any)."""
        return self._backend.connects

    @property
    def bytes_received(self) -> int:
        """Bytes read from the network so far, headers included."""
        return self._backend.received

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def get(self, url: str) -> Fetched:
        """The final response after at most ``max_redirects`` redirects, each hop checked."""
        hops: list[str] = []
        for _ in range(self.limits.max_redirects + 1):
            response = self._once(url)
            location = response.header("location")
            if response.status not in REDIRECTS or not location:
                return _with_redirects(response, hops)
            hops.append(url)
            url = urljoin(url, location.strip())
        raise FetchStatusError(f"more than {self.limits.max_redirects} redirects", status=None)

    def _target(self, url: str) -> tuple[str, str, str, str]:
        """(URL with the checked IP, Host header, TLS name, IP) for one hop."""
        parts = check_url(url)
        scheme, host = parts.scheme.lower(), _ascii_host(parts.hostname or "")
        port = parts.port or DEFAULT_PORTS[scheme]
        try:
            literal: str | None = str(ipaddress.ip_address(host))
        except ValueError:
            literal = None
        addresses = [literal] if literal else self._resolve(host, port)
        if not addresses:
            raise FetchError("the host has no address")
        checked = [check_address(a, self.limits.allow_loopback) for a in addresses]
        ip = checked[0]
        shown = f"[{ip}]" if ":" in ip else ip
        pinned = urlunsplit((scheme, f"{shown}:{port}", parts.path or "/", parts.query, ""))
        name = f"[{host}]" if ":" in host else host
        host_header = name if parts.port in (None, DEFAULT_PORTS[scheme]) else f"{name}:{port}"
        return pinned, host_header, host, ip

    def _once(self, url: str) -> Fetched:
        pinned, host_header, sni, ip = self._target(url)
        self.pacer.wait(host_key(url))
        headers = {
            "Host": host_header,
            "User-Agent": self.limits.user_agent,
            "Accept": "*/*",
            "Accept-Encoding": "identity",
        }
        request = self._client.build_request(
            "GET", pinned, headers=headers, extensions={"sni_hostname": sni}
        )
        with self._backend.deadline.running(time.monotonic() + self.limits.total_s):
            try:
                return self._send(request, url, ip)
            except httpx.TimeoutException as exc:
                raise FetchTimeoutError(f"timed out: {exc}") from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"{type(exc).__name__}: {exc}") from exc

    def _send(self, request: httpx.Request, url: str, ip: str) -> Fetched:
        fetched_at = datetime.now(UTC)
        response = self._client.send(request, stream=True)
        try:
            body = bytearray()
            for chunk in response.iter_raw(CHUNK_BYTES):
                body += chunk
                if len(body) > self.limits.max_bytes:
                    raise FetchTooLargeError(
                        f"body over the {self.limits.max_bytes:,}-byte cap; cut off"
                    )
        finally:
            response.close()
        sent = tuple((k, v) for k, v in request.headers.items() if k.lower() != "host")
        return Fetched(
            url=url,
            status=response.status_code,
            headers=tuple(response.headers.multi_items()),
            body=bytes(body),
            fetched_at=fetched_at,
            peer=ip,
            request_headers=(("host", request.headers["host"]), *sent),
        )


def _ascii_host(host: str) -> str:
    """The host as it goes on the wire: lower case, internationalised names in IDNA."""
    try:
        return host.lower().encode("idna").decode("ascii") if not host.isascii() else host.lower()
    except UnicodeError as exc:
        raise FetchRefusedError("a host name that cannot be encoded") from exc


def _with_redirects(response: Fetched, hops: list[str]) -> Fetched:
    if not hops:
        return response
    return Fetched(
        url=response.url,
        status=response.status,
        headers=response.headers,
        body=response.body,
        fetched_at=response.fetched_at,
        peer=response.peer,
        request_headers=response.request_headers,
        redirects=tuple(hops),
    )
