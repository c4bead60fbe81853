"""Which addresses a room check may talk to: the room's own private subnet, nothing else.

A :class:`Scope` is built once, before anything is sent: from the computer's own interface
(:func:`scope_from_interfaces`), or given explicitly (tests use a loopback subnet). Every packet
a check sends goes through :meth:`Scope.require` first; an address outside the subnet raises
:class:`~stopspread.errors.OutOfScopeError` and nothing is sent.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Final

from stopspread.errors import OutOfScopeError, RoomCheckError

__all__ = [
    "ALLOWED_RANGES",
    "LINK_LOCAL_GROUPS",
    "MAX_PREFIX_HOSTS",
    "Scope",
]

# The largest subnet a check sweeps: a /22 (1,022 hosts). Home and motel networks are /24.
MAX_PREFIX_HOSTS: Final = 1024
# A room's network uses RFC 1918 addresses. 127.0.0.0/8 (this computer's own loopback) is
# allowed so tests and benchmarks can simulate a home network without leaving the machine.
ALLOWED_RANGES: Final = tuple(
    ipaddress.IPv4Network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8")
)
# Multicast groups whose traffic never leaves the local link (sent with TTL 1): SSDP and
# WS-Discovery (239.255.255.250) and mDNS (224.0.0.251).
LINK_LOCAL_GROUPS: Final = frozenset(
    {ipaddress.IPv4Address("239.255.255.250"), ipaddress.IPv4Address("224.0.0.251")}
)


@dataclass(frozen=True, slots=True)
class Scope:
    """A private IPv4 subnet, and the link-local multicast groups a check may also use.

    ``own`` is the checking computer's address in the subnet (never probed). ``groups`` is
    empty for a simulated network on loopback, where discovery goes to unicast addresses.
    """

    network: ipaddress.IPv4Network
    own: ipaddress.IPv4Address | None = None
    groups: frozenset[ipaddress.IPv4Address] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not any(self.network.subnet_of(r) for r in ALLOWED_RANGES):
            raise RoomCheckError(f"{self.network} is not a private network")
        if self.network.num_addresses > MAX_PREFIX_HOSTS:
            raise RoomCheckError(
                f"{self.network} is larger than a /22; a room's network is smaller"
            )
        unknown = self.groups - LINK_LOCAL_GROUPS
        if unknown:
            raise RoomCheckError(f"not a link-local discovery group: {sorted(map(str, unknown))}")

    @classmethod
    def of(cls, cidr: str, own: str | None = None, *, multicast: bool = False) -> Scope:
        try:
            network = ipaddress.IPv4Network(cidr, strict=False)
            own_addr = ipaddress.IPv4Address(own) if own else None
        except ValueError as exc:
            raise RoomCheckError(f"not an IPv4 network: {cidr}") from exc
        groups = LINK_LOCAL_GROUPS if multicast else frozenset()
        return cls(network, own_addr, frozenset(groups))

    def allows(self, address: str) -> bool:
        try:
            addr = ipaddress.IPv4Address(address)
        except ValueError:
            return False
        return addr in self.network or addr in self.groups

    def require(self, address: str) -> str:
        """``address`` if it is in scope; else :class:`OutOfScopeError` (nothing is sent)."""
        if not self.allows(address):
            raise OutOfScopeError(f"{address} is outside the room's network {self.network}")
        return address

    def hosts(self) -> list[str]:
        """Every host address of the subnet except our own, in order."""
        return [str(a) for a in self.network.hosts() if a != self.own]
