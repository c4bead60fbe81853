"""A simulated home network on loopback addresses, with real sockets (no mocks).

Each device gets its own address in a /24 of 127.0.0.0/8 (chosen at random per network, so two
test runs on one machine do not collide) and real servers bound there: RTSP, ONVIF over HTTP,
camera and router web pages, UPnP descriptions over HTTP, and UDP responders for SSDP,
WS-Discovery and the CS2 PPPP LAN search. Loopback carries no multicast, so a check of this
network sends its discovery probes to each address by unicast (``Plan.discovery``). A neighbour
table file in ``/proc/net/arp`` format gives the MAC addresses. Every byte any device receives
is kept in ``received`` so tests can show that no credentials were ever sent.

Nothing here sends to, or accepts from, an address outside 127.0.0.0/8.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from stopspread.roomcheck import Plan, Scope

Reply = Callable[[bytes], bytes | None]

ARP_HEADER = "IP address       HW type     Flags       HW address            Mask     Device\n"


def http_answer(status: int, body: str = "", headers: dict[str, str] | None = None) -> bytes:
    data = body.encode()
    lines = [f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}"]
    for name, value in {"Content-Length": str(len(data)), **(headers or {})}.items():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def route(table: dict[tuple[str, str], bytes], default: bytes | None = None) -> Reply:
    """An HTTP server answering (method, path) from ``table``, else ``default`` (404)."""

    def reply(request: bytes) -> bytes:
        method, _, rest = request.decode("latin-1").partition(" ")
        path = rest.split(" ", 1)[0]
        return table.get((method, path), default or http_answer(404, "not found"))

    return reply


@dataclass
class SimDevice:
    name: str
    host: int  # last octet
    kind: str  # "camera" or "ordinary" — what the test expects
    tcp: dict[int, Reply] = field(default_factory=dict)
    udp: dict[int, Reply] = field(default_factory=dict)
    mac: str = ""


@dataclass
class SimNetwork:
    base: str  # "127.a.b"
    devices: list[SimDevice]
    arp: Path
    received: list[tuple[str, int, bytes]] = field(default_factory=list)

    @property
    def cidr(self) -> str:
        return f"{self.base}.0/24"

    def address(self, device: SimDevice) -> str:
        return f"{self.base}.{device.host}"

    def every_address(self) -> tuple[str, ...]:
        return tuple(f"{self.base}.{h}" for h in range(1, 255))


class _Tcp(asyncio.Protocol):
    def __init__(self, net: SimNetwork, where: tuple[str, int], reply: Reply) -> None:
        self.net, self.where, self.reply = net, where, reply
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head, sep, body = self.buffer.partition(b"\r\n\r\n")
        if not sep:
            return
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if len(body) < length:
            return
        self.net.received.append((*self.where, self.buffer))
        answer = self.reply(self.buffer)
        self.buffer = b""
        if answer:
            self.transport.write(answer)  # type: ignore[attr-defined]
        if not head.startswith((b"OPTIONS", b"DESCRIBE")):
            self.transport.close()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, net: SimNetwork, where: tuple[str, int], reply: Reply) -> None:
        self.net, self.where, self.reply = net, where, reply

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.net.received.append((*self.where, data))
        if not addr[0].startswith("127."):
            return  # never answer anything outside loopback
        answer = self.reply(data)
        if answer:
            self.transport.sendto(answer, addr)  # type: ignore[attr-defined]


@contextlib.contextmanager
def running(build: Callable[[str], list[SimDevice]], folder: Path) -> Iterator[SimNetwork]:
    """Build the devices for a free 127.a.b.0/24, start their servers in a thread of their
    own, and stop them afterwards."""
    rng = random.Random()
    for _attempt in range(20):
        base = f"127.{rng.randrange(100, 200)}.{rng.randrange(0, 256)}"
        net = SimNetwork(base, build(base), folder / "arp")
        net.arp.write_text(
            ARP_HEADER
            + "".join(
                f"{net.address(d):<17}0x1         0x2         {d.mac:<22}*        eth0\n"
                for d in net.devices
                if d.mac
            )
        )
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()  # the servers live on this loop, in this thread (the caller may have one)
        try:
            servers = asyncio.run_coroutine_threadsafe(_start(net, loop), loop).result(30)
        except OSError:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()
            continue
        try:
            yield net
        finally:
            asyncio.run_coroutine_threadsafe(_stop(servers), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()
        return
    raise RuntimeError("no free loopback /24 for the simulated network")


async def _stop(servers: list[object]) -> None:
    for server in servers:
        server.close()  # type: ignore[attr-defined]
        if isinstance(server, asyncio.AbstractServer):
            await server.wait_closed()
    await asyncio.sleep(0.05)  # let the transports finish closing


async def _start(net: SimNetwork, loop: asyncio.AbstractEventLoop) -> list[object]:
    started: list[object] = []
    try:
        for device in net.devices:
            address = net.address(device)
            for port, reply in device.tcp.items():
                started.append(
                    await loop.create_server(
                        lambda a=address, p=port, r=reply: _Tcp(net, (a, p), r), address, port
                    )
                )
            for port, reply in device.udp.items():
                transport, _ = await loop.create_datagram_endpoint(
                    lambda a=address, p=port, r=reply: _Udp(net, (a, p), r),
                    local_addr=(address, port),
                )
                started.append(transport)
    except OSError:
        await _stop(started)
        raise
    return started


# ---- the devices ------------------------------------------------------------------------


def _dns_name(name: str) -> bytes:
    return b"".join(bytes([len(x.encode())]) + x.encode() for x in name.split(".")) + b"\0"


def mdns(service: str, instance: str) -> Reply:
    """An mDNS responder announcing one service (answers any query, by unicast)."""

    def reply(data: bytes) -> bytes | None:
        if len(data) < 12:
            return None
        records = [
            ("_services._dns-sd._udp.local", f"{service}.local"),
            (f"{service}.local", f"{instance}.{service}.local"),
        ]
        body = b"".join(
            _dns_name(owner)
            + struct.pack(">HHIH", 12, 1, 120, len(_dns_name(target)))
            + _dns_name(target)
            for owner, target in records
        )
        return struct.pack(">HHHHHH", 0, 0x8400, 0, len(records), 0, 0) + body

    return reply


def rtsp_camera(host: int) -> SimDevice:
    def reply(request: bytes) -> bytes:
        cseq = next(
            (line.split(b":")[1].strip() for line in request.split(b"\r\n") if b"CSeq" in line),
            b"1",
        )
        if request.startswith(b"OPTIONS"):
            return (
                b"RTSP/1.0 200 OK\r\nCSeq: " + cseq + b"\r\nServer: Rtsp Server/3.0\r\n"
                b"Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n"
            )
        return (
            b"RTSP/1.0 401 Unauthorized\r\nCSeq: " + cseq + b"\r\n"
            b'WWW-Authenticate: Digest realm="IP Camera(C5852)", nonce="abc"\r\n\r\n'
        )

    return SimDevice(
        "rtsp camera",
        host,
        "camera",
        tcp={554: reply},
        udp={5353: mdns("_rtsp._tcp", "IPCAM-C5852")},
    )


def onvif_camera(host: int, base: str) -> SimDevice:
    info = (
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
        ' xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><s:Body>'
        "<tds:GetDeviceInformationResponse><tds:Manufacturer>Generic</tds:Manufacturer>"
        "<tds:Model>IPC-B2A5</tds:Model><tds:FirmwareVersion>V5.5</tds:FirmwareVersion>"
        "</tds:GetDeviceInformationResponse></s:Body></s:Envelope>"
    )

    def probe_match(_data: bytes) -> bytes:
        return (
            '<?xml version="1.0"?><e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"'
            ' xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"'
            ' xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><e:Body><d:ProbeMatches>'
            "<d:ProbeMatch><d:Types>dn:NetworkVideoTransmitter</d:Types>"
            "<d:Scopes>onvif://www.onvif.org/type/video_encoder"
            " onvif://www.onvif.org/name/IPC-B2A5</d:Scopes>"
            f"<d:XAddrs>http://{base}.{host}:8899/onvif/device_service</d:XAddrs>"
            "</d:ProbeMatch></d:ProbeMatches></e:Body></e:Envelope>"
        ).encode()

    web = route({("POST", "/onvif/device_service"): http_answer(200, info)})
    return SimDevice("onvif camera", host, "camera", tcp={8899: web}, udp={3702: probe_match})


def p2p_clock(host: int) -> SimDevice:
    def punch(data: bytes) -> bytes | None:
        if data[:2] != b"\xf1\x30":
            return None
        return b"\xf1\x41\x00\x14" + struct.pack(">8sI8s", b"DGOA", 123456, b"ABCDE")

    return SimDevice(
        "p2p clock camera", host, "camera", udp={32108: punch}, mac="24:6f:28:12:34:56"
    )  # Espressif: the Wi-Fi module


def web_camera(host: int) -> SimDevice:
    page = http_answer(
        200,
        "<html><head><title>NETSurveillance WEB</title></head><body>login</body></html>",
        {"Server": "uc-httpd 1.0.0", "Content-Type": "text/html"},
    )
    return SimDevice("camera web ui", host, "camera", tcp={8080: route({("GET", "/"): page})})


def oui_camera(host: int) -> SimDevice:
    return SimDevice("camera known by its maker", host, "camera", mac="44:47:cc:0a:0b:0c")


def _ssdp(location: str, server: str, st: str) -> Reply:
    def reply(data: bytes) -> bytes | None:
        if not data.startswith(b"M-SEARCH"):
            return None
        return (
            f"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nLOCATION: {location}\r\n"
            f"SERVER: {server}\r\nST: {st}\r\nUSN: uuid:1234::{st}\r\n\r\n"
        ).encode()

    return reply


def _description(kind: str, maker: str, model: str, friendly: str) -> bytes:
    return http_answer(
        200,
        '<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device>'
        f"<deviceType>urn:schemas-upnp-org:device:{kind}:1</deviceType>"
        f"<friendlyName>{friendly}</friendlyName><manufacturer>{maker}</manufacturer>"
        f"<modelName>{model}</modelName></device></root>",
        {"Content-Type": "text/xml"},
    )


def printer(host: int, base: str) -> SimDevice:
    web = route({("GET", "/desc.xml"): _description("Printer", "EPSON", "L3150", "EPSON L3150")})
    return SimDevice(
        "printer",
        host,
        "ordinary",
        tcp={80: web, 9100: route({})},
        udp={
            1900: _ssdp(
                f"http://{base}.{host}:80/desc.xml",
                "Linux UPnP/1.0 EPSON",
                "urn:schemas-upnp-org:device:Printer:1",
            )
        },
        mac="50:57:9c:11:22:33",
    )


def television(host: int, base: str) -> SimDevice:
    desc = _description("MediaRenderer", "LG Electronics", "webOS TV UJ6300", "[LG] webOS TV")
    return SimDevice(
        "tv",
        host,
        "ordinary",
        tcp={8080: route({("GET", "/dmr.xml"): desc})},
        udp={
            1900: _ssdp(
                f"http://{base}.{host}:8080/dmr.xml",
                "WebOS/4.1.0 UPnP/1.0",
                "urn:schemas-upnp-org:device:MediaRenderer:1",
            )
        },
        mac="d8:4f:b8:44:55:66",
    )


def nas(host: int) -> SimDevice:
    page = http_answer(200, "<html><title>Synology DiskStation</title></html>")
    return SimDevice(
        "nas", host, "ordinary", tcp={5000: route({("GET", "/"): page})}, mac="00:11:32:77:88:99"
    )


def phone(host: int) -> SimDevice:
    # a randomised (locally administered) Wi-Fi address, and the iPhone sync port
    return SimDevice(
        "phone",
        host,
        "ordinary",
        tcp={62078: route({})},
        mac="da:a1:19:00:00:01",
        udp={5353: mdns("_companion-link._tcp", "민지의 iPhone")},
    )


def router(host: int) -> SimDevice:
    page = http_answer(200, "<html><head><title>ipTIME N604S</title></head></html>")
    # Its SSDP answer points to an address outside the room's network: never fetched.
    return SimDevice(
        "router",
        host,
        "ordinary",
        tcp={80: route({("GET", "/"): page})},
        udp={
            1900: _ssdp(
                "http://192.168.0.1:1900/igd.xml",
                "ipTIME UPnP/1.0",
                "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
            )
        },
        mac="64:e5:99:01:02:03",
    )


def home(base: str) -> list[SimDevice]:
    """The test home: five kinds of camera among five ordinary devices."""
    return [
        router(1),
        rtsp_camera(10),
        onvif_camera(11, base),
        p2p_clock(12),
        web_camera(13),
        oui_camera(14),
        printer(20, base),
        television(21, base),
        nas(30),
        phone(40),
    ]


def crowd(base: str, count: int) -> list[SimDevice]:
    """``count`` devices: the home's kinds repeated over the /24 (for the benchmark)."""
    makers: list[Callable[[int], SimDevice]] = [
        rtsp_camera,
        lambda h: onvif_camera(h, base),
        p2p_clock,
        web_camera,
        oui_camera,
        lambda h: printer(h, base),
        lambda h: television(h, base),
        nas,
        phone,
        router,
    ]
    devices = []
    for i in range(count):
        device = makers[i % len(makers)](2 + i * 8)
        if device.mac:
            device.mac = device.mac[:-2] + f"{i:02x}"
        devices.append(device)
    return devices


def sim_plan(net: SimNetwork) -> Plan:
    """The check's plan for a simulated network: unicast discovery, its neighbour table and a
    high rate. Loopback answers at once (open or refused), so the generous timeouts cost
    nothing; they only keep a busy, shared test machine from turning a slow answer into none."""
    return Plan(
        discovery=net.every_address(),
        neighbour_table=net.arp,
        rate_per_s=5000.0,
        max_open=128,
        connect_timeout_s=3.0,
        read_timeout_s=3.0,
        discovery_wait_s=1.0,
    )


def sim_target(net: SimNetwork) -> Callable[[], tuple[Scope, Plan]]:
    """What the web app's ``room_check_target`` is set to: this network, explicitly."""
    return lambda: (Scope.of(net.cidr), sim_plan(net))
