"""mDNS / DNS-SD: which services devices announce, in one query, read with a small parser.

The query (one datagram to 224.0.0.251:5353, or to each address of a simulated network) asks
for the DNS-SD service list and for the instances of a few telling service types, with the
"unicast response" bit set and from an ephemeral port, so devices answer us directly (RFC 6762
§5.4, §6.7). The answer parser is strict: bounds-checked, at most 16 compression jumps per name,
at most 64 records; anything malformed ends the parse with what was read so far.
python-zeroconf was the first choice, but it listens on the multicast group itself (port 5353,
which an mDNS daemon may hold) and cannot be pointed at unicast loopback addresses for tests.
"""

from __future__ import annotations

import struct
from typing import Final

from stopspread.roomcheck._protocols import Identity
from stopspread.roomcheck._verdict import Reason, Weight

__all__ = ["MDNS_GROUP", "MDNS_PORT", "mdns_query", "read_mdns"]

MDNS_GROUP: Final = "224.0.0.251"
MDNS_PORT: Final = 5353
SERVICES: Final = "_services._dns-sd._udp.local"
PTR: Final = 12
QU_IN: Final = 0x8001  # class IN with the unicast-response bit
MAX_RECORDS: Final = 64
MAX_JUMPS: Final = 16

# Service types that say what a device is.
CAMERA_TYPES: Final = {"_rtsp._tcp", "_axis-video._tcp", "_onvif._tcp", "_nvr._tcp"}
HINT_TYPES: Final = {"_hap._tcp"}  # HomeKit: cameras, and plugs and bulbs
ORDINARY_TYPES: Final = {
    "_ipp._tcp": "printer",
    "_ipps._tcp": "printer",
    "_printer._tcp": "printer",
    "_pdl-datastream._tcp": "printer",
    "_googlecast._tcp": "Chromecast / TV",
    "_airplay._tcp": "AirPlay TV / speaker",
    "_raop._tcp": "AirPlay speaker",
    "_smb._tcp": "file server / NAS",
    "_afpovertcp._tcp": "file server / NAS",
    "_companion-link._tcp": "Apple phone / tablet",
    "_apple-mobdev2._tcp": "Apple phone / tablet",
}
ASKED: Final = (SERVICES, *(f"{t}.local" for t in (*CAMERA_TYPES, *HINT_TYPES, *ORDINARY_TYPES)))


def _name(labels: str) -> bytes:
    out = b""
    for label in labels.split("."):
        raw = label.encode()
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def mdns_query() -> bytes:
    """One query: the service list and the instances of the telling types (PTR, QU)."""
    header = struct.pack(">HHHHHH", 0, 0, len(ASKED), 0, 0, 0)
    return header + b"".join(_name(n) + struct.pack(">HH", PTR, QU_IN) for n in sorted(ASKED))


def _read_name(data: bytes, offset: int) -> tuple[str, int]:
    """A (possibly compressed) name at ``offset``, and the offset after it in place."""
    labels: list[str] = []
    end = -1
    for _jump in range(MAX_JUMPS):
        while True:
            if offset >= len(data):
                raise ValueError("name runs past the end")
            size = data[offset]
            if size & 0xC0 == 0xC0:
                if offset + 1 >= len(data):
                    raise ValueError("pointer runs past the end")
                if end < 0:
                    end = offset + 2
                offset = ((size & 0x3F) << 8) | data[offset + 1]
                break
            if size == 0:
                return ".".join(labels), end if end >= 0 else offset + 1
            if size > 63 or offset + 1 + size > len(data):
                raise ValueError("bad label")
            labels.append(data[offset + 1 : offset + 1 + size].decode("utf-8", "replace"))
            offset += 1 + size
    raise ValueError("too many compression jumps")


def _records(data: bytes) -> list[tuple[str, int, str]]:
    """(owner, type, PTR target or "") of each answer/additional record."""
    if len(data) < 12:
        return []
    _id, _flags, qd, an, ns, ar = struct.unpack(">HHHHHH", data[:12])
    offset, out = 12, []
    try:
        for _ in range(min(qd, MAX_RECORDS)):
            _q, offset = _read_name(data, offset)
            offset += 4
        for _ in range(min(an + ns + ar, MAX_RECORDS)):
            owner, offset = _read_name(data, offset)
            if offset + 10 > len(data):
                break
            rtype, _cls, _ttl, size = struct.unpack(">HHIH", data[offset : offset + 10])
            offset += 10
            if offset + size > len(data):
                break
            target = _read_name(data, offset)[0] if rtype == PTR else ""
            out.append((owner.lower() if rtype == PTR else owner, rtype, target))
            offset += size
    except ValueError:
        pass
    return out


def _service_type(name: str) -> str:
    """``Printer._ipp._tcp.local`` or ``_ipp._tcp.local`` → ``_ipp._tcp``."""
    parts = name.lower().removesuffix(".local").split(".")
    return ".".join(parts[-2:]) if len(parts) >= 2 else ""


def read_mdns(answer: bytes) -> Identity:
    found = Identity()
    types: set[str] = set()
    for owner, rtype, target in _records(answer):
        if rtype != PTR:
            continue
        if owner == SERVICES:
            types.add(_service_type(target))
        else:
            types.add(_service_type(owner))
            instance = target.split("._", 1)[0]
            if instance and instance not in found.names:
                found.names.append(instance[:80])
    for kind in sorted(types):
        if kind in CAMERA_TYPES:
            found.reasons.append(Reason("mdns-camera", Weight.CAMERA, kind))
        elif kind in HINT_TYPES:
            found.reasons.append(Reason("mdns-hint", Weight.HINT, kind))
        elif kind in ORDINARY_TYPES:
            found.reasons.append(Reason("says-ordinary", Weight.ORDINARY, ORDINARY_TYPES[kind]))
    return found
