"""``stopspread room-check`` on the simulated home network (loopback only)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from stopspread.cli import cli
from stopspread.config import Settings
from stopspread.services import roomcheck as service
from stopspread.services.cases import create_case
from stopspread.services.custody import EvidenceStore
from stopspread.services.signal_input import parse_signal
from tests.conftest import make_services
from tests.roomcheck.simnet import SimNetwork, home, running


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimNetwork]:
    with running(home, tmp_path_factory.mktemp("clinet")) as simulated:
        yield simulated


def _args(net: SimNetwork) -> list[str]:
    return [
        "room-check",
        "--network",
        net.cidr,
        "--unicast-discovery",
        "--neighbour-table",
        str(net.arp),
        "--rate",
        "5000",
    ]


def test_without_consent_nothing_is_sent(net: SimNetwork) -> None:
    before = len(net.received)
    result = CliRunner().invoke(cli, _args(net))
    assert result.exit_code == 2
    assert "--i-am-authorised" in result.output and "권한" in result.output
    assert len(net.received) == before


@pytest.mark.parametrize("network", ["8.8.8.0/24", "192.0.2.0/24", "10.99.0.0/24"])
def test_a_network_that_is_not_ours_is_refused(network: str) -> None:
    result = CliRunner().invoke(cli, ["room-check", "--i-am-authorised", "--network", network])
    assert result.exit_code == 2
    assert "not" in result.output


def test_check_prints_verdicts_writes_json_and_keeps_evidence(
    net: SimNetwork, tmp_path: Path
) -> None:
    svc = make_services(Settings(data_dir=tmp_path).url, tmp_path)
    code = create_case(svc, [parse_signal("md5", "1" * 32)]).code
    env = {"STOPSPREAD_DATA_DIR": str(tmp_path), "STOPSPREAD_ARGON2_MEMORY_KIB": "1024"}
    out = tmp_path / "check.json"
    args = [*_args(net), "--i-am-authorised", "--lang", "en", "--json", str(out), "--case", code]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("  Likely a camera") == 5
    assert result.stdout.count("  Probably not a camera") == 5
    assert "Do not unplug or touch the device" in result.stdout
    assert "SIM card" in result.stdout
    assert "kept as evidence" in result.stdout
    data = json.loads(out.read_text())
    assert data["counts"] == {"likely": 5, "check": 0, "unlikely": 5}
    store = EvidenceStore.from_settings(svc.settings, svc.db)
    case_id = service.case_id_for_code(svc.db, code)
    (record,) = service.list_checks(svc.db, store, case_id)
    assert record.check_id == data["check_id"] and record.counts == data["counts"]
    verify = CliRunner().invoke(cli, ["evidence", "verify"], env=env)
    assert verify.exit_code == 0, verify.output
    svc.db.dispose()
