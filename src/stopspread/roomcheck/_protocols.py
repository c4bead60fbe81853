"""The probes a check sends, byte for byte, and how their answers are read.

Every probe is an ordinary, anonymous request a device answers to anyone on its network: RTSP
``OPTIONS`` and ``DESCRIBE`` (no ``Authorization``), ONVIF ``GetDeviceInformation`` (no
WS-Security header), an HTTP ``GET /``, an SSDP ``M-SEARCH``, a WS-Discovery ``Probe`` and the
CS2 "PPPP" LAN search. None carries a user name, a password or a token; none asks for a stream.
Answers are read with small regular expressions (no XML parser is pointed at a device's bytes).
"""

from __future__ import annotations

import re
import struct
import uuid
from dataclasses import dataclass, field
from typing import Final

from stopspread.roomcheck._verdict import Reason, Weight

__all__ = [
    "P2P_LAN_SEARCH",
    "USER_AGENT",
    "HttpAnswer",
    "Identity",
    "http_get",
    "onvif_device_information",
    "parse_http",
    "read_camera_page",
    "read_onvif",
    "read_p2p",
    "read_rtsp",
    "read_ssdp",
    "read_ssdp_description",
    "read_wsd",
    "rtsp_describe",
    "rtsp_options",
    "ssdp_search",
    "wsd_probe",
]

USER_AGENT: Final = "StopSpread-RoomCheck/1 (read-only; no login)"

# CS2 Network's "PPPP" P2P platform (clock, charger, bulb and baby cameras sold under many
# names): a client looks for devices on its LAN by sending MSG_LAN_SEARCH (0xF1 0x30, length 0)
# to UDP port 32108; each device answers MSG_PUNCH_PKT (0xF1 0x41, length 20) carrying its
# device id: an 8-byte prefix, a 32-bit serial number and an 8-byte check code.
P2P_LAN_SEARCH: Final = b"\xf1\x30\x00\x00"
P2P_ANSWER_TYPES: Final = {0x41: "punch", 0x42: "p2p-ready"}

CAMERA_WORDS: Final = re.compile(
    r"\b(ip ?cam(era)?|network camera|web ?cam(era)?|netsurveillance|nvr|dvr|cctv|"
    r"hikvision|dahua|ezviz|surveillance|camera|video ?server|ipc|onvif)\b",
    re.IGNORECASE,
)
CAMERA_SERVERS: Final = re.compile(r"(hikvision-webs|dnvrs-webs|app-webs|uc-httpd)", re.I)
HINT_SERVERS: Final = re.compile(r"(goahead-webs|thttpd|mini_httpd)", re.IGNORECASE)
ORDINARY_WORDS: Final = re.compile(
    r"\b(printer|laserjet|officejet|epson|brother|mediarenderer|internetgatewaydevice|"
    r"mediaserver|media server|diskstation|synology|qnap|nas|router|iptime|wi-?fi router|"
    r"smart ?tv|webos|tizen|tv|chromecast)\b",
    re.IGNORECASE,
)


@dataclass(slots=True)
class Identity:
    """What a device says about itself: reasons and the names it gives."""

    reasons: list[Reason] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    def add(self, other: Identity) -> None:
        self.reasons.extend(other.reasons)
        self.names.extend(n for n in other.names if n not in self.names)


def _words(text: str, code: str) -> list[Reason]:
    """A camera reason for camera words in ``text``, else an ordinary one for ordinary words."""
    text = " ".join(text.split())[:200]
    if not text:
        return []
    if CAMERA_WORDS.search(text):
        return [Reason(code, Weight.CAMERA, text)]
    if ORDINARY_WORDS.search(text):
        return [Reason("says-ordinary", Weight.ORDINARY, text)]
    return []


# ---- RTSP -------------------------------------------------------------------------------


def rtsp_options(address: str, port: int) -> bytes:
    return (
        f"OPTIONS rtsp://{address}:{port}/ RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: {USER_AGENT}\r\n\r\n"
    ).encode()


def rtsp_describe(address: str, port: int) -> bytes:
    return (
        f"DESCRIBE rtsp://{address}:{port}/ RTSP/1.0\r\nCSeq: 2\r\n"
        f"Accept: application/sdp\r\nUser-Agent: {USER_AGENT}\r\n\r\n"
    ).encode()


def read_rtsp(options: bytes, describe: bytes, port: int) -> Identity:
    found = Identity()
    answers = [a for a in (options, describe) if a.startswith(b"RTSP/1.")]
    if not answers:
        return found
    found.reasons.append(Reason("rtsp", Weight.CAMERA, str(port)))
    head = parse_http(describe) if describe.startswith(b"RTSP/1.") else None
    if head is not None and head.status == 200 and b"m=video" in head.body:
        found.reasons.append(Reason("rtsp-open-video", Weight.CAMERA, str(port)))
    elif head is not None and head.status == 401:
        realm = _realm(head.header("www-authenticate"))
        found.reasons.append(Reason("rtsp-password", Weight.CAMERA, realm))
    for answer in answers:
        server = parse_http(answer).header("server")
        if server and server not in found.names:
            found.names.append(server[:80])
    return found


# ---- HTTP -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return ""


def parse_http(data: bytes) -> HttpAnswer:
    """An HTTP or RTSP answer's status, headers and body (status 0: not such an answer)."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.append((name.strip(), value.strip()))
    return HttpAnswer(status, headers, body)


def http_get(address: str, port: int, path: str = "/") -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: {address}:{port}\r\nUser-Agent: {USER_AGENT}\r\n"
        "Accept: text/html,application/xml\r\nConnection: close\r\n\r\n"
    ).encode()


def _realm(challenge: str) -> str:
    match = re.search(r'realm="([^"]{0,100})"', challenge)
    return match.group(1) if match else ""


def _tag(body: str, name: str) -> str:
    """The text of the first element called ``name`` (any namespace prefix)."""
    match = re.search(rf"<(?:[\w-]+:)?{name}\b[^>]*>([^<]{{0,300}})<", body, re.IGNORECASE)
    return " ".join(match.group(1).split()) if match else ""


def read_camera_page(answer: bytes, port: int) -> Identity:
    """A web page's title, ``Server`` header and login realm."""
    found = Identity()
    if not answer.startswith(b"HTTP/1."):
        return found
    page = parse_http(answer)
    text = page.body.decode("utf-8", "replace")
    title = _tag(text, "title")
    realm = _realm(page.header("www-authenticate"))
    server = page.header("server")
    for value in (title, realm):
        found.reasons.extend(_words(value, "web-camera"))
    if CAMERA_SERVERS.search(server):
        found.reasons.append(Reason("server-camera", Weight.CAMERA, server[:80]))
    elif HINT_SERVERS.search(server):
        found.reasons.append(Reason("server-hint", Weight.HINT, server[:80]))
    found.names.extend(v[:80] for v in (title, realm) if v)
    return found


# ---- ONVIF ------------------------------------------------------------------------------

ONVIF_PATH: Final = "/onvif/device_service"
ONVIF_BODY: Final = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
    '<s:Body xmlns:tds="http://www.onvif.org/ver10/device/wsdl">'
    "<tds:GetDeviceInformation/></s:Body></s:Envelope>"
)


def onvif_device_information(address: str, port: int, path: str = ONVIF_PATH) -> bytes:
    body = ONVIF_BODY.encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: {address}:{port}\r\nUser-Agent: {USER_AGENT}\r\n"
        "Content-Type: application/soap+xml; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


def read_onvif(answer: bytes, port: int) -> Identity:
    found = Identity()
    page = parse_http(answer)
    text = page.body.decode("utf-8", "replace")
    if "GetDeviceInformationResponse" in text:
        name = " ".join(v for v in (_tag(text, "Manufacturer"), _tag(text, "Model")) if v)
        found.reasons.append(Reason("onvif", Weight.CAMERA, name or str(port)))
        if name:
            found.names.append(name[:80])
    elif "onvif.org" in text or ("Envelope" in text and "NotAuthorized" in text):
        found.reasons.append(Reason("onvif-password", Weight.CAMERA, str(port)))
    return found


# ---- discovery over UDP -----------------------------------------------------------------


def ssdp_search(host_header: str) -> bytes:
    return (
        f'M-SEARCH * HTTP/1.1\r\nHOST: {host_header}\r\nMAN: "ssdp:discover"\r\nMX: 1\r\n'
        f"ST: ssdp:all\r\nUSER-AGENT: {USER_AGENT}\r\n\r\n"
    ).encode()


def read_ssdp(answer: bytes) -> tuple[Identity, str]:
    """An M-SEARCH answer's words (``SERVER``, ``ST``) and its ``LOCATION`` URL."""
    found = Identity()
    page = parse_http(answer)
    for name in ("server", "st"):
        found.reasons.extend(_words(page.header(name), "ssdp-camera"))
    return found, page.header("location")


def read_ssdp_description(answer: bytes) -> Identity:
    """A UPnP device description: its type, maker, model and friendly name."""
    found = Identity()
    text = parse_http(answer).body.decode("utf-8", "replace")
    kind = _tag(text, "deviceType")
    maker, model, friendly = (_tag(text, t) for t in ("manufacturer", "modelName", "friendlyName"))
    words = " ".join(v for v in (kind.rsplit(":", 2)[-2] if ":" in kind else kind, model, friendly))
    found.reasons.extend(_words(words, "upnp-camera"))
    name = " ".join(v for v in (maker, model) if v) or friendly
    if name:
        found.names.append(name[:80])
    return found


def wsd_probe() -> bytes:
    message_id = f"uuid:{uuid.uuid4()}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"'
        ' xmlns:w="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
        ' xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery">'
        f"<e:Header><w:MessageID>{message_id}</w:MessageID>"
        "<w:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</w:To>"
        "<w:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</w:Action>"
        "</e:Header><e:Body><d:Probe/></e:Body></e:Envelope>"
    ).encode()


def read_wsd(answer: bytes) -> tuple[Identity, list[str]]:
    """A WS-Discovery ProbeMatch: camera if it is an ONVIF NetworkVideoTransmitter; XAddrs."""
    found = Identity()
    text = answer.decode("utf-8", "replace")
    if "ProbeMatch" not in text:
        return found, []
    types = _tag(text, "Types")
    scopes = _tag(text, "Scopes")
    if "NetworkVideoTransmitter" in types or "onvif://www.onvif.org" in scopes:
        found.reasons.append(Reason("wsd-camera", Weight.CAMERA, types[:120]))
        name = re.search(r"onvif://www\.onvif\.org/name/(\S+)", scopes)
        if name:
            found.names.append(name.group(1)[:80])
    else:
        found.reasons.extend(_words(types, "wsd-camera"))
    return found, _tag(text, "XAddrs").split()


def read_p2p(answer: bytes) -> Identity:
    """A CS2 PPPP answer to the LAN search: camera, with its P2P device id."""
    found = Identity()
    if len(answer) < 4 or answer[0] != 0xF1 or answer[1] not in P2P_ANSWER_TYPES:
        return found
    device_id = ""
    if answer[1] == 0x41 and len(answer) >= 24:
        prefix, serial, check = struct.unpack(">8sI8s", answer[4:24])
        parts = (prefix.rstrip(b"\0").decode("ascii", "replace"), f"{serial:06d}")
        device_id = "-".join((*parts, check.rstrip(b"\0").decode("ascii", "replace")))
    found.reasons.append(Reason("p2p", Weight.CAMERA, device_id or "CS2 PPPP"))
    if device_id:
        found.names.append(device_id)
    return found
