"""``stopspread room-check``: find cameras streaming from this room over its own network.

Read-only and only on this computer's own private network; the person running it must say
they are authorised (``--i-am-authorised``). ``--case CODE`` keeps the results under a case as
evidence; ``--json FILE`` writes them to a file; ``--serve`` opens the page on this computer.

Exit codes: 0 the check ran (whatever it found), 1 it could not be kept under the case,
2 usage error (no consent, no private network, a network that is not this computer's).
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from stopspread.cli._settings import config_option
from stopspread.errors import RoomCheckError, StopSpreadError

if TYPE_CHECKING:
    from stopspread.roomcheck import Plan, RoomCheck, Scope

__all__ = ["room_check_command"]

CONSENT = (
    "이 방(네트워크)을 점검할 권한이 있나요? 본인의 방이거나 허락을 받은 경우에만 점검하세요.\n"
    "Are you authorised to check this room's network? Only check your own room, or with"
    " permission. Add --i-am-authorised to go ahead."
)


def _scope(network: str | None, interface: str | None) -> Scope:
    """The interface's own subnet; ``--network`` only narrows it (or names a loopback
    simulation, for tests and benchmarks)."""
    from stopspread.roomcheck import Scope, interface_scopes, scope_from_interfaces

    if network is None:
        return scope_from_interfaces(interface)
    wanted = Scope.of(network)
    if wanted.network.subnet_of(ipaddress.IPv4Network("127.0.0.0/8")):
        return wanted  # a simulated network on this computer's loopback
    for scope in interface_scopes().values():
        if wanted.network.subnet_of(scope.network):
            return Scope(wanted.network, scope.own, scope.groups)
    raise RoomCheckError(f"{network} is not part of a network this computer is on")


def _print(check: RoomCheck, lang: str) -> None:
    from stopspread.roomcheck import Verdict
    from stopspread.roomcheck.words import CANNOT_FIND, NEXT_STEPS, PHYSICAL_CHECKS, VERDICT
    from stopspread.roomcheck.words import reason_text as text

    for device in check.devices:
        label = f"{device.address}  {VERDICT[device.verdict][lang]}"
        extra = ", ".join(x for x in (device.vendor, *device.names[:2]) if x)
        click.echo(label + (f"  ({extra})" if extra else ""))
        for reason in device.reasons:
            click.echo(f"    - {text(reason, lang)}")
    counts = check.counts()
    click.echo(
        f"\n{check.network}: {len(check.devices)} devices, "
        + ", ".join(f"{VERDICT[v][lang]} {counts[v.value]}" for v in Verdict)
        + f"; {check.packets} packets sent"
    )
    if counts[Verdict.LIKELY.value] or counts[Verdict.CHECK.value]:
        click.echo("\n" + ("다음에 할 일:" if lang == "ko" else "What to do next:"))
        for line in NEXT_STEPS[lang]:
            click.echo(f"  * {line}")
    click.echo("\n" + ("직접 확인하세요:" if lang == "ko" else "Check by hand too:"))
    for line in PHYSICAL_CHECKS[lang]:
        click.echo(f"  * {line}")
    click.echo(
        "\n" + ("이 점검으로 찾을 수 없는 것:" if lang == "ko" else "What this cannot find:")
    )
    for line in CANNOT_FIND[lang]:
        click.echo(f"  * {line}")


def _plan(unicast: bool, neighbours: Path | None, rate: float, scope: Scope) -> Plan:
    from stopspread.roomcheck import Plan

    discovery = tuple(scope.hosts()) if unicast else None
    if neighbours is None:
        return Plan(rate_per_s=rate, discovery=discovery)
    return Plan(rate_per_s=rate, discovery=discovery, neighbour_table=neighbours)


def _keep(config_file: Path | None, case_code: str, check: RoomCheck) -> None:
    from stopspread.cli._context import open_app
    from stopspread.services import roomcheck as service

    with open_app(config_file) as app:
        store = app.evidence_store(create_key=True)
        case_id = service.case_id_for_code(app.db, case_code)
        record = service.record_check(app.db, store, case_id, check, by="cli")
    click.echo(
        f"kept as evidence {record.evidence_id} (log entry {record.log_seq},"
        f" SHA-256 {record.sha256}) at {record.captured_at} / {record.captured_at_kst}"
    )


@click.command("room-check")
@config_option
@click.option(
    "--i-am-authorised",
    "authorised",
    is_flag=True,
    help="This is my room, or I am authorised to check its network.",
)
@click.option("--interface", default=None, help="The network interface (when on several).")
@click.option("--case", "case_code", default=None, help="Keep the results under this case.")
@click.option(
    "--json",
    "json_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the results (JSON) to this file.",
)
@click.option("--lang", type=click.Choice(["ko", "en"]), default="ko", show_default=True)
@click.option("--serve", is_flag=True, help="Open the room-check page on this computer instead.")
@click.option(
    "--port", type=int, default=8765, show_default=True, help="The page's port (--serve)."
)
@click.option("--network", default=None, help="Check only this part of the network (CIDR).")
@click.option(
    "--unicast-discovery",
    is_flag=True,
    help="Send discovery probes to each address, not to multicast groups (for networks"
    " without multicast, and simulations).",
)
@click.option(
    "--neighbour-table",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Read MAC addresses from this file (/proc/net/arp format).",
)
@click.option(
    "--rate",
    type=click.FloatRange(1.0, 5000.0),
    default=250.0,
    show_default=True,
    help="Packets a second at most.",
)
def room_check_command(
    config_file: Path | None,
    authorised: bool,
    interface: str | None,
    case_code: str | None,
    json_file: Path | None,
    lang: str,
    serve: bool,
    port: int,
    network: str | None,
    unicast_discovery: bool,
    neighbour_table: Path | None,
    rate: float,
) -> None:
    """Find cameras streaming from this room over its own network (read-only)."""
    if serve:
        from stopspread.web.room_check_app import serve_room_check

        serve_room_check(port)
        return
    if not authorised:
        raise click.UsageError(CONSENT)
    from stopspread.roomcheck import run_room_check

    try:
        scope = _scope(network, interface)
        check = run_room_check(scope, _plan(unicast_discovery, neighbour_table, rate, scope))
    except RoomCheckError as exc:
        raise click.UsageError(str(exc)) from exc
    _print(check, lang)
    if json_file is not None:
        json_file.write_text(
            json.dumps(check.to_json(), ensure_ascii=False, indent=1), encoding="utf-8"
        )
    if case_code:
        try:
            _keep(config_file, case_code, check)
        except StopSpreadError as exc:
            raise click.ClickException(str(exc)) from exc
