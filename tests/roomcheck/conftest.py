from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stopspread.roomcheck import RoomCheck, Scope, run_room_check
from tests.roomcheck.simnet import SimNetwork, home, running, sim_plan


@pytest.fixture(scope="session")
def home_net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimNetwork]:
    folder: Path = tmp_path_factory.mktemp("simnet")
    with running(home, folder) as net:
        yield net


@pytest.fixture(scope="session")
def home_check(home_net: SimNetwork) -> RoomCheck:
    """One check of the simulated home, shared by the tests that only read its result."""
    return run_room_check(Scope.of(home_net.cidr), sim_plan(home_net))
