"""A check of the simulated home: every camera flagged with its reasons, nothing else flagged."""

from __future__ import annotations

import json

from stopspread.roomcheck import RoomCheck, Verdict
from tests.roomcheck.simnet import SimNetwork

CREDENTIAL_MARKERS = (
    b"authorization:",
    b"usernametoken",
    b"password",
    b"passwd",
    b"admin",
    b"wsse:",
    b"login=",
    b"user=",
)


def by_address(check: RoomCheck) -> dict[str, object]:
    return {d.address: d for d in check.devices}


def test_every_camera_is_likely_and_no_ordinary_device_is_flagged(
    home_net: SimNetwork, home_check: RoomCheck
) -> None:
    found = {d.address: d for d in home_check.devices}
    for device in home_net.devices:
        seen = found.get(home_net.address(device))
        assert seen is not None, f"{device.name} was not found"
        expected = Verdict.LIKELY if device.kind == "camera" else Verdict.UNLIKELY
        assert seen.verdict is expected, (device.name, seen.reasons)
    assert len(home_check.devices) == len(home_net.devices)


def test_reasons_say_why(home_net: SimNetwork, home_check: RoomCheck) -> None:
    codes = {d.address: {r.code for r in d.reasons} for d in home_check.devices}
    by_name = {d.name: codes[home_net.address(d)] for d in home_net.devices}
    assert {"rtsp", "rtsp-password", "mdns-camera"} <= by_name["rtsp camera"]
    assert {"wsd-camera", "onvif"} <= by_name["onvif camera"]
    assert {"p2p", "vendor-module"} <= by_name["p2p clock camera"]
    assert {"web-camera", "server-camera"} <= by_name["camera web ui"]
    assert by_name["camera known by its maker"] == {"vendor-camera"}
    assert "says-ordinary" in by_name["printer"] and "port-printer" in by_name["printer"]
    assert "says-ordinary" in by_name["tv"]
    assert "says-ordinary" in by_name["nas"]
    assert {"mac-random", "port-phone"} <= by_name["phone"]
    assert "says-ordinary" in by_name["router"]


def test_details_name_the_device(home_net: SimNetwork, home_check: RoomCheck) -> None:
    details = {
        d.name: [
            r.detail
            for r in next(x for x in home_check.devices if x.address == home_net.address(d)).reasons
        ]
        for d in home_net.devices
    }
    assert "Generic IPC-B2A5" in details["onvif camera"]
    assert "DGOA-123456-ABCDE" in details["p2p clock camera"]
    assert "_rtsp._tcp" in details["rtsp camera"]
    assert "Apple phone / tablet" in details["phone"]
    names = {d.address: d.names for d in home_check.devices}
    phone = next(d for d in home_net.devices if d.name == "phone")
    assert "민지의 iPhone" in names[home_net.address(phone)]
    assert any("Hikvision" in d for d in details["camera known by its maker"])


def test_no_credentials_are_ever_sent(home_net: SimNetwork, home_check: RoomCheck) -> None:
    assert home_net.received, "the devices received nothing"
    for address, port, data in home_net.received:
        lowered = data.lower()
        for marker in CREDENTIAL_MARKERS:
            assert marker not in lowered, (address, port, data[:200])
    for exchange in home_check.exchanges:
        assert b"authorization" not in exchange.sent.lower()


def test_no_stream_is_opened(home_net: SimNetwork) -> None:
    methods = {data.split(b" ", 1)[0] for _a, port, data in home_net.received if port == 554}
    assert methods == {b"OPTIONS", b"DESCRIBE"}  # never SETUP or PLAY


def test_an_outside_location_is_refused_not_fetched(home_check: RoomCheck) -> None:
    assert "192.168.0.1" in home_check.refused
    assert all(not e.address.startswith("192.") for e in home_check.exchanges)


def test_export_is_json_with_times_in_utc_and_kst(home_check: RoomCheck) -> None:
    data = json.loads(json.dumps(home_check.to_json()))
    assert data["started_at"].endswith("+00:00")
    assert data["started_at_kst"].endswith("+09:00")
    assert data["counts"] == {"likely": 5, "check": 0, "unlikely": 5}
    rtsp = next(d for d in data["devices"] if any(r["code"] == "rtsp" for r in d["reasons"]))
    assert any(r["answer"].startswith("RTSP/1.0 401") for r in rtsp["responses"])
    assert data["packets_sent"] > 254
