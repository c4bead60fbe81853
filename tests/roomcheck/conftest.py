from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stopspread.roomcheck import Plan, RoomCheck, Scope, run_room_check
from tests.roomcheck.simnet import SimNetwork, home, running


def sim_plan(net: SimNetwork) -> Plan:
    """The check's plan for a simulated network: unicast discovery, its neighbour table,
    a high rate (loopback answers at once) and short waits."""
    return Plan(
        discovery=net.every_address(),
        neighbour_table=net.arp,
        rate_per_s=5000.0,
        max_open=128,
        connect_timeout_s=0.5,
        read_timeout_s=1.0,
        discovery_wait_s=0.5,
    )


@pytest.fixture(scope="session")
def home_net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimNetwork]:
    folder: Path = tmp_path_factory.mktemp("simnet")
    with running(home, folder) as net:
        yield net


@pytest.fixture(scope="session")
def home_check(home_net: SimNetwork) -> RoomCheck:
    """One check of the simulated home, shared by the tests that only read its result."""
    return run_room_check(Scope.of(home_net.cidr), sim_plan(home_net))
