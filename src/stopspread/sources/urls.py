"""URL rules for scans: which URLs may be fetched at all, what "the same site" means.

Checked before any DNS lookup or connection: the scheme must be http or https, the URL
must name a host, and it must not carry credentials (``user:password@``), which would
leak into logs and evidence and are a classic way to disguise the real host.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import SplitResult, urldefrag, urljoin, urlsplit, urlunsplit

from stopspread.errors import FetchRefusedError

__all__ = ["DEFAULT_PORTS", "absolute", "check_url", "host_key", "origin", "same_site"]

DEFAULT_PORTS: Final = {"http": 80, "https": 443}
MAX_URL_CHARS: Final = 4096


def check_url(url: str) -> SplitResult:
    """The parsed URL, or :class:`FetchRefusedError` when it may not be fetched."""
    if len(url) > MAX_URL_CHARS:
        raise FetchRefusedError("URL too long")
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # raises ValueError for a port out of range
    except ValueError as exc:
        raise FetchRefusedError("malformed URL") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise FetchRefusedError(f"scheme {scheme[:10]!r} is not http or https")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise FetchRefusedError("credentials in the URL")
    if not parts.hostname:
        raise FetchRefusedError("the URL names no host")
    if port == 0:
        raise FetchRefusedError("port 0")
    return parts


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) with the default port filled in; lower case."""
    parts = check_url(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    return scheme, host, parts.port or DEFAULT_PORTS[scheme]


def host_key(url: str) -> str:
    """``host:port``: the key of per-host pacing and robots.txt rules."""
    _scheme, host, port = origin(url)
    return f"{host}:{port}"


def same_site(url: str, start: str) -> bool:
    """True when ``url`` has the scheme, host and port of ``start`` (a crawl stays there)."""
    try:
        return origin(url) == origin(start)
    except FetchRefusedError:
        return False


def absolute(base: str, link: str) -> str | None:
    """``link`` resolved against ``base``, without its #fragment; ``None`` if not http(s)."""
    link = link.strip()
    if not link or link.startswith(("javascript:", "data:", "mailto:", "tel:", "blob:")):
        return None
    try:
        joined, _fragment = urldefrag(urljoin(base, link))
        parts = urlsplit(joined)
    except ValueError:
        return None
    if parts.scheme.lower() not in DEFAULT_PORTS:
        return None
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))
