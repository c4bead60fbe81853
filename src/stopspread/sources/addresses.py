"""Which addresses scans may connect to, and resolving a host to all of its addresses.

Refused: every address that is not public — private ranges, loopback (unless allowed, for
tests), link-local (the cloud metadata address), multicast, reserved, unspecified, shared
(100.64/10) — and IPv6 addresses that embed an IPv4 one (IPv4-mapped, 6to4, Teredo), which
could smuggle a private IPv4 target past a check.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

from stopspread.errors import FetchError, FetchRefusedError

__all__ = ["Resolver", "check_address", "system_resolver"]

Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"cannot resolve host: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_address(text: str, allow_loopback: bool) -> str:
    """The address in canonical form, or :class:`FetchRefusedError` when it is not public."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError as exc:
        raise FetchRefusedError("not an IP address") from exc
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if embedded is not None:
            raise FetchRefusedError("an IPv6 address embedding an IPv4 one")
    if address.is_loopback and allow_loopback:
        return str(address)
    if address.is_loopback:
        raise FetchRefusedError(
            "a loopback address (allowed only for tests, with STOPSPREAD_FETCH_ALLOW_LOOPBACK=true)"
        )
    if not address.is_global or address.is_multicast or address.is_reserved:
        raise FetchRefusedError("a private, loopback, link-local or reserved address")
    return str(address)
