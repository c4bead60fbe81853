"""One room check: discover, sweep, fingerprint, decide.

1. **Discovery** over UDP: an SSDP ``M-SEARCH``, a WS-Discovery ``Probe``, an mDNS/DNS-SD
   query and the CS2 PPPP LAN search, sent to the link-local groups and the subnet's broadcast
   address (or, where multicast cannot go — a simulated network on loopback — to each address
   of ``Plan.discovery``).
2. **Sweep**: a TCP connection attempt to ``Plan.sweep_ports`` on every address (this also fills
   the kernel's neighbour table), then the neighbour table is read; addresses that answered in
   any way get the rest of ``Plan.ports``.
3. **Fingerprint**, read-only: RTSP ``OPTIONS``/``DESCRIBE``, ONVIF ``GetDeviceInformation``,
   the web page's title and headers, UPnP device descriptions, the MAC address's maker.
4. **Decide** each device's verdict from its reasons (``_verdict.py``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from stopspread.roomcheck import _protocols as proto
from stopspread.roomcheck._mdns import MDNS_GROUP, MDNS_PORT, mdns_query, read_mdns
from stopspread.roomcheck._neighbours import PROC_ARP, Neighbour, read_neighbours
from stopspread.roomcheck._scope import Scope
from stopspread.roomcheck._vendors import IEEE_DATA, VendorRegistry, vendor_reasons
from stopspread.roomcheck._verdict import Reason, Verdict, Weight, decide
from stopspread.roomcheck._wire import Exchange, Wire

__all__ = ["KST", "Device", "Plan", "RoomCheck", "check_room", "run_room_check"]

KST: Final = ZoneInfo("Asia/Seoul")
RTSP_PORTS: Final = (554, 8554)
HTTP_PORTS: Final = (80, 81, 88, 5000, 8000, 8080, 8899)
ONVIF_PORTS: Final = (80, 8000, 8080, 8899)
# Ports that say something on their own (open is enough; nothing is sent on them).
PORT_REASONS: Final = {
    34567: Reason("port-dvr", Weight.HINT, "34567 XMeye/NETSurveillance"),
    37777: Reason("port-dvr", Weight.HINT, "37777 Dahua"),
    6668: Reason("port-p2p", Weight.HINT, "6668 Tuya"),
    9100: Reason("port-printer", Weight.ORDINARY, "9100"),
    631: Reason("port-printer", Weight.ORDINARY, "631 IPP"),
    62078: Reason("port-phone", Weight.ORDINARY, "62078"),
}
ALL_PORTS: Final = tuple(sorted({*RTSP_PORTS, *HTTP_PORTS, 443, 8443, *PORT_REASONS}))
SSDP_PORT: Final = 1900
WSD_PORT: Final = 3702
P2P_PORT: Final = 32108
MAX_LOCATIONS: Final = 32  # UPnP descriptions fetched per check


@dataclass(frozen=True, slots=True)
class Plan:
    """How a check runs. The defaults are for a real network; tests change the targets.

    ``discovery`` None: UDP discovery goes to the link-local groups and the subnet's broadcast
    address. A tuple: each of those addresses gets its own unicast probe instead (loopback
    carries no multicast; the simulated home network in the tests passes every address of its
    subnet). ``neighbour_table`` is ``/proc/net/arp`` or a file in its format.
    """

    ports: tuple[int, ...] = ALL_PORTS
    sweep_ports: tuple[int, ...] = (80, 554)
    discovery: tuple[str, ...] | None = None
    neighbour_table: Path = PROC_ARP
    ieee_data: Path = IEEE_DATA
    rate_per_s: float = 250.0
    max_open: int = 64
    connect_timeout_s: float = 0.6
    read_timeout_s: float = 1.5
    discovery_wait_s: float = 1.5


@dataclass(slots=True)
class Device:
    address: str
    mac: str = ""
    vendor: str = ""
    names: list[str] = field(default_factory=list)
    open_ports: list[int] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)

    @property
    def verdict(self) -> Verdict:
        return decide(self.reasons)

    def take(self, found: proto.Identity) -> None:
        for reason in found.reasons:
            if reason not in self.reasons:
                self.reasons.append(reason)
        self.names.extend(n for n in found.names if n not in self.names)


@dataclass(slots=True)
class RoomCheck:
    """A finished check: what was found, and exactly what was sent and answered."""

    check_id: str
    network: str
    started_at: datetime
    finished_at: datetime
    packets: int
    refused: list[str]
    devices: list[Device]
    exchanges: list[Exchange]

    def counts(self) -> dict[str, int]:
        return {v.value: sum(d.verdict is v for d in self.devices) for v in Verdict}

    def to_json(self) -> dict[str, Any]:
        """Everything, as plain JSON (the evidence record and the export)."""
        return {
            "format": "stopspread-room-check/1",
            "check_id": self.check_id,
            "network": self.network,
            "started_at": _iso(self.started_at),
            "started_at_kst": _iso(self.started_at.astimezone(KST)),
            "finished_at": _iso(self.finished_at),
            "finished_at_kst": _iso(self.finished_at.astimezone(KST)),
            "packets_sent": self.packets,
            "refused_addresses": sorted(set(self.refused)),
            "counts": self.counts(),
            "devices": [_device_json(d, self.exchanges) for d in self.devices],
            "probes_without_device": [
                _exchange_json(e) for e in self.exchanges if not _belongs(e, self.devices)
            ],
        }


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds")


def _belongs(exchange: Exchange, devices: list[Device]) -> bool:
    return any(exchange.address == d.address or exchange.answered_by == d.address for d in devices)


def _exchange_json(e: Exchange) -> dict[str, Any]:
    return {
        "at": e.at,
        "proto": e.proto,
        "to": f"{e.address}:{e.port}",
        "probe": e.probe,
        "sent": e.sent.decode("latin-1"),
        "answer": e.answer.decode("latin-1"),
    }


def _device_json(device: Device, exchanges: list[Exchange]) -> dict[str, Any]:
    return {
        "address": device.address,
        "mac": device.mac,
        "vendor": device.vendor,
        "names": device.names,
        "open_ports": sorted(device.open_ports),
        "verdict": device.verdict.value,
        "reasons": [
            {"code": r.code, "weight": r.weight.value, "detail": r.detail} for r in device.reasons
        ],
        "responses": [
            _exchange_json(e)
            for e in exchanges
            if e.answer and (e.address == device.address or e.answered_by == device.address)
        ],
    }


class _Run:
    def __init__(self, scope: Scope, plan: Plan) -> None:
        self.scope = scope
        self.plan = plan
        self.wire = Wire(
            scope,
            rate_per_s=plan.rate_per_s,
            max_open=plan.max_open,
            connect_timeout_s=plan.connect_timeout_s,
            read_timeout_s=plan.read_timeout_s,
        )
        self.devices: dict[str, Device] = {}
        self.locations: list[tuple[str, str]] = []
        self.onvif_urls: list[tuple[str, int, str]] = []

    def device(self, address: str) -> Device:
        if address not in self.devices:
            self.devices[address] = Device(address)
        return self.devices[address]

    def discovery_targets(self) -> list[str]:
        if self.plan.discovery is not None:
            return [a for a in self.plan.discovery if a != str(self.scope.own)]
        return [str(self.scope.network.broadcast_address)]

    def group_or(self, group: str) -> list[str]:
        """Where a multicast probe goes: the group, or the unicast discovery targets."""
        return [group] if self.plan.discovery is None else self.discovery_targets()

    async def discover(self) -> None:
        wait = self.plan.discovery_wait_s
        group = "239.255.255.250"
        ssdp, wsd, p2p, mdns = await asyncio.gather(
            self.wire.shout(
                self.group_or(group),
                SSDP_PORT,
                proto.ssdp_search(f"{group}:1900"),
                "ssdp-search",
                wait,
            ),
            self.wire.shout(self.group_or(group), WSD_PORT, proto.wsd_probe(), "wsd-probe", wait),
            self.wire.shout(
                self.discovery_targets(), P2P_PORT, proto.P2P_LAN_SEARCH, "p2p-lan-search", wait
            ),
            self.wire.shout(self.group_or(MDNS_GROUP), MDNS_PORT, mdns_query(), "mdns-query", wait),
        )
        for peer, data in mdns:
            self.device(peer).take(read_mdns(data))
        for peer, data in ssdp:
            found, location = proto.read_ssdp(data)
            self.device(peer).take(found)
            if location and (peer, location) not in self.locations:
                self.locations.append((peer, location))
        for peer, data in wsd:
            found, xaddrs = proto.read_wsd(data)
            self.device(peer).take(found)
            for xaddr in xaddrs:
                self._note_onvif(peer, xaddr)
        for peer, data in p2p:
            self.device(peer).take(proto.read_p2p(data))

    def _note_onvif(self, peer: str, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme == "http" and parts.hostname:
            entry = (parts.hostname, parts.port or 80, parts.path or "/onvif/device_service")
            if entry not in self.onvif_urls:
                self.onvif_urls.append(entry)

    async def sweep(self) -> None:
        hosts = self.scope.hosts()
        first = await self._knock_all(hosts, self.plan.sweep_ports)
        alive = {h for (h, _p), state in first.items() if state is not None}
        neighbours = read_neighbours(self.plan.neighbour_table)
        registry = VendorRegistry.load(self.plan.ieee_data)
        for entry in neighbours:
            if self.scope.allows(entry.address) and entry.address != str(self.scope.own):
                self._note_neighbour(entry, registry)
                alive.add(entry.address)
        alive |= set(self.devices)
        rest = tuple(p for p in self.plan.ports if p not in self.plan.sweep_ports)
        second = await self._knock_all(sorted(alive, key=ipaddress.IPv4Address), rest)
        for (host, port), state in {**first, **second}.items():
            if state:
                self.device(host).open_ports.append(port)

    def _note_neighbour(self, entry: Neighbour, registry: VendorRegistry) -> None:
        device = self.device(entry.address)
        device.mac = entry.mac
        device.vendor = registry.lookup(entry.mac)
        device.reasons.extend(vendor_reasons(entry.mac, device.vendor))

    async def _knock_all(
        self, hosts: list[str], ports: tuple[int, ...]
    ) -> dict[tuple[str, int], bool | None]:
        pairs = [(h, p) for h in hosts for p in ports]
        states = await asyncio.gather(*(self.wire.knock(h, p) for h, p in pairs))
        return dict(zip(pairs, states, strict=True))

    async def fingerprint(self) -> None:
        jobs = []
        for device in self.devices.values():
            for port in sorted(device.open_ports):
                if port in RTSP_PORTS:
                    jobs.append(self._rtsp(device, port))
                if port in HTTP_PORTS:
                    jobs.append(self._web(device, port))
                if port in ONVIF_PORTS and not any(
                    u[0] == device.address and u[1] == port for u in self.onvif_urls
                ):
                    self.onvif_urls.append((device.address, port, proto.ONVIF_PATH))
                if port in PORT_REASONS and PORT_REASONS[port] not in device.reasons:
                    device.reasons.append(PORT_REASONS[port])
        jobs.extend(self._onvif(host, port, path) for host, port, path in self.onvif_urls)
        jobs.extend(self._description(peer, url) for peer, url in self.locations[:MAX_LOCATIONS])
        await asyncio.gather(*jobs)

    async def _rtsp(self, device: Device, port: int) -> None:
        options = await self.wire.ask(
            device.address, port, proto.rtsp_options(device.address, port), "rtsp-options"
        )
        describe = b""
        if options.startswith(b"RTSP/1."):
            describe = await self.wire.ask(
                device.address, port, proto.rtsp_describe(device.address, port), "rtsp-describe"
            )
        device.take(proto.read_rtsp(options, describe, port))

    async def _web(self, device: Device, port: int) -> None:
        answer = await self.wire.ask(
            device.address, port, proto.http_get(device.address, port), "http-get"
        )
        device.take(proto.read_camera_page(answer, port))

    async def _onvif(self, host: str, port: int, path: str) -> None:
        if not self.scope.allows(host):
            self.wire.refused.append(host)  # an XAddr pointing elsewhere: not followed
            return
        answer = await self.wire.ask(
            host, port, proto.onvif_device_information(host, port, path), "onvif-device-info"
        )
        found = proto.read_onvif(answer, port)
        if found.reasons:
            self.device(host).take(found)

    async def _description(self, peer: str, url: str) -> None:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme != "http" or not self.scope.allows(host):
            self.wire.refused.append(host or url[:60])  # a LOCATION elsewhere: not fetched
            return
        port = parts.port or 80
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        answer = await self.wire.ask(host, port, proto.http_get(host, port, path), "upnp-desc")
        self.device(host).take(proto.read_ssdp_description(answer))


async def check_room(scope: Scope, plan: Plan | None = None) -> RoomCheck:
    """Run one check of ``scope``'s network (read-only; see the module docstring)."""
    plan = plan or Plan()
    for address in plan.discovery or ():
        scope.require(address)  # refuse a bad plan before anything is sent
    run = _Run(scope, plan)
    started = datetime.now(UTC)
    await run.discover()
    await run.sweep()
    await run.fingerprint()
    devices = sorted(run.devices.values(), key=lambda d: ipaddress.IPv4Address(d.address))
    for device in devices:
        if not device.reasons:
            device.reasons.append(Reason("no-answer", Weight.INFO))
    return RoomCheck(
        check_id=uuid.uuid4().hex,
        network=str(scope.network),
        started_at=started,
        finished_at=datetime.now(UTC),
        packets=run.wire.packets,
        refused=run.wire.refused,
        devices=devices,
        exchanges=run.wire.exchanges,
    )


def run_room_check(scope: Scope, plan: Plan | None = None) -> RoomCheck:
    """:func:`check_room` in its own event loop (for the CLI and the web app's threads); in a
    helper thread if this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(check_room(scope, plan))
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(check_room(scope, plan))).result()
