"""Reading answers, and what the probes carry."""

from __future__ import annotations

import struct

from stopspread.roomcheck import Reason, Verdict, Weight, decide
from stopspread.roomcheck import _protocols as proto
from stopspread.roomcheck._vendors import VendorRegistry, vendor_reasons
from stopspread.roomcheck.words import REASON, reason_text


def test_every_probe_is_anonymous() -> None:
    probes = [
        proto.rtsp_options("10.0.0.5", 554),
        proto.rtsp_describe("10.0.0.5", 554),
        proto.http_get("10.0.0.5", 80),
        proto.onvif_device_information("10.0.0.5", 80),
        proto.ssdp_search("239.255.255.250:1900"),
        proto.wsd_probe(),
        proto.P2P_LAN_SEARCH,
    ]
    for probe in probes:
        lowered = probe.lower()
        assert b"authorization" not in lowered and b"password" not in lowered
        assert b"security" not in lowered and b"usernametoken" not in lowered


def test_p2p_answer_gives_the_device_id() -> None:
    answer = b"\xf1\x41\x00\x14" + struct.pack(">8sI8s", b"VSTC", 42, b"XYZAB")
    found = proto.read_p2p(answer)
    assert found.reasons == [Reason("p2p", Weight.CAMERA, "VSTC-000042-XYZAB")]
    assert proto.read_p2p(b"\xf1\x30\x00\x00").reasons == []  # another searcher's probe
    assert proto.read_p2p(b"garbage").reasons == []


def test_an_rtsp_stream_without_password_is_called_out() -> None:
    describe = b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: 10\r\n\r\nm=video 0 "
    found = proto.read_rtsp(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n", describe, 8554)
    assert {r.code for r in found.reasons} == {"rtsp", "rtsp-open-video"}


def test_a_plain_web_page_says_nothing() -> None:
    page = b"HTTP/1.1 200 OK\r\nServer: nginx\r\n\r\n<title>Welcome</title>"
    assert proto.read_camera_page(page, 80).reasons == []


def test_verdicts() -> None:
    camera, hint, ordinary = (Reason("x", w) for w in (Weight.CAMERA, Weight.HINT, Weight.ORDINARY))
    assert decide([ordinary, camera]) is Verdict.LIKELY
    assert decide([hint, ordinary]) is Verdict.CHECK
    assert decide([ordinary]) is Verdict.UNLIKELY
    assert decide([]) is Verdict.UNLIKELY


def test_vendors_from_the_ieee_registry() -> None:
    registry = VendorRegistry.load()
    assert "Hikvision" in registry.lookup("44:47:CC:00:00:01")
    assert (
        vendor_reasons("44:47:cc:00:00:01", registry.lookup("44:47:cc:00:00:01"))[0].weight
        is Weight.CAMERA
    )
    assert vendor_reasons("24:6f:28:00:00:01", "Espressif Inc.")[0].weight is Weight.HINT
    assert vendor_reasons("da:a1:19:00:00:01", "")[0].code == "mac-random"


def test_every_reason_has_korean_and_english_words() -> None:
    for code, words in REASON.items():
        assert set(words) == {"ko", "en"}, code
        assert reason_text(Reason(code, Weight.INFO, "d"), "ko")


def test_mdns_query_asks_for_unicast_answers_and_reads_services() -> None:
    from stopspread.roomcheck._mdns import mdns_query, read_mdns
    from tests.roomcheck.simnet import mdns

    query = mdns_query()
    assert query[:2] == b"\0\0" and b"\x00\x0c\x80\x01" in query  # PTR, class IN + QU bit
    answer = mdns("_rtsp._tcp", "Garage cam")(query)
    assert answer is not None
    found = read_mdns(answer)
    assert found.reasons == [Reason("mdns-camera", Weight.CAMERA, "_rtsp._tcp")]
    assert found.names == ["Garage cam"]


def test_mdns_parser_survives_hostile_answers() -> None:
    from stopspread.roomcheck._mdns import read_mdns

    header = b"\0\0\x84\0\0\0\0\x01\0\0\0\0"
    loop = header + b"\xc0\x0c"  # a name pointing at itself
    truncated = header + b"\x05abc"
    huge = b"\0\0\x84\0\0\0\xff\xff\0\0\0\0" + b"\0" * 20
    for data in (b"", b"\0" * 5, loop, truncated, huge):
        assert read_mdns(data).reasons == []
