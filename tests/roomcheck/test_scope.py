"""A check talks to its own private subnet and nothing else: refusals happen before sending."""

from __future__ import annotations

import asyncio

import pytest

from stopspread.errors import OutOfScopeError, RoomCheckError
from stopspread.roomcheck import Plan, Scope, Wire, check_room, interface_scopes
from stopspread.roomcheck._scope import ALLOWED_RANGES
from tests.roomcheck.simnet import SimNetwork

# Never contacted: every test below is refused before a socket is opened.
OUTSIDE = ["8.8.8.8", "203.0.113.7", "192.0.2.1", "10.1.2.3", "127.0.0.1", "224.0.0.1"]


@pytest.mark.parametrize(
    "cidr", ["8.8.8.0/24", "192.0.2.0/24", "100.64.0.0/24", "169.254.1.0/24", "10.0.0.0/16"]
)
def test_a_public_shared_link_local_or_large_network_is_refused(cidr: str) -> None:
    with pytest.raises(RoomCheckError):
        Scope.of(cidr)


def test_private_networks_are_accepted() -> None:
    for cidr in ("192.168.0.0/24", "10.20.30.0/24", "172.16.4.0/22", "127.77.0.0/24"):
        assert Scope.of(cidr).network.prefixlen >= 22


@pytest.mark.parametrize("address", OUTSIDE)
def test_the_wire_refuses_any_address_outside_the_subnet(address: str) -> None:
    wire = Wire(Scope.of("127.77.0.0/24"))
    with pytest.raises(OutOfScopeError):
        asyncio.run(wire.knock(address, 80))
    with pytest.raises(OutOfScopeError):
        asyncio.run(wire.ask(address, 554, b"OPTIONS * RTSP/1.0\r\n\r\n", "rtsp-options"))
    with pytest.raises(OutOfScopeError):
        asyncio.run(wire.shout(["127.77.0.5", address], 1900, b"M-SEARCH", "ssdp", 0.1))
    assert wire.packets == 0  # not even the in-scope first target of the shout was sent
    assert wire.exchanges == []
    assert address in wire.refused


def test_multicast_groups_only_when_the_scope_allows_them() -> None:
    assert not Scope.of("192.168.0.0/24").allows("239.255.255.250")
    assert Scope.of("192.168.0.0/24", multicast=True).allows("239.255.255.250")
    assert not Scope.of("192.168.0.0/24", multicast=True).allows("224.0.0.1")


def test_a_plan_pointing_outside_is_refused_before_anything_is_sent(
    home_net: SimNetwork,
) -> None:
    before = len(home_net.received)
    plan = Plan(discovery=(*home_net.every_address()[:3], "8.8.8.8"), neighbour_table=home_net.arp)
    with pytest.raises(OutOfScopeError):
        asyncio.run(check_room(Scope.of(home_net.cidr), plan))
    assert len(home_net.received) == before


def test_interface_scopes_are_only_ever_private() -> None:
    for scope in interface_scopes().values():
        assert any(scope.network.subnet_of(r) for r in ALLOWED_RANGES)
        assert not scope.network.subnet_of(ALLOWED_RANGES[-1])  # never loopback
