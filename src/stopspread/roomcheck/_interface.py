"""The production scope: the private IPv4 subnet of this computer's own network interface."""

from __future__ import annotations

import ipaddress

import ifaddr

from stopspread.errors import RoomCheckError
from stopspread.roomcheck._scope import ALLOWED_RANGES, LINK_LOCAL_GROUPS, MAX_PREFIX_HOSTS, Scope

__all__ = ["interface_scopes", "scope_from_interfaces"]


def interface_scopes() -> dict[str, Scope]:
    """Each interface with an RFC 1918 IPv4 address → its subnet's scope.

    A subnet larger than a /22 is narrowed to the /22 around our address (a room's devices are
    near us; a /16 office network is not a room)."""
    found: dict[str, Scope] = {}
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if not isinstance(ip.ip, str):
                continue  # IPv6
            own = ipaddress.IPv4Address(ip.ip)
            if own.is_loopback or not any(own in r for r in ALLOWED_RANGES):
                continue
            prefix = max(ip.network_prefix, 32 - (MAX_PREFIX_HOSTS.bit_length() - 1))
            network = ipaddress.IPv4Network(f"{own}/{prefix}", strict=False)
            found[str(adapter.nice_name)] = Scope(network, own, LINK_LOCAL_GROUPS)
    return found


def scope_from_interfaces(name: str | None = None) -> Scope:
    """The scope of interface ``name``, or of the only private one; else RoomCheckError."""
    scopes = interface_scopes()
    if name is not None:
        if name not in scopes:
            raise RoomCheckError(f"no private IPv4 network on interface {name!r}")
        return scopes[name]
    if not scopes:
        raise RoomCheckError("this computer is not on a private (home, office, motel) network")
    if len(scopes) > 1:
        raise RoomCheckError(
            "this computer is on several networks; choose one with --interface: "
            + ", ".join(sorted(scopes))
        )
    return next(iter(scopes.values()))
