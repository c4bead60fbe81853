"""Helpers for the survivor page tests: a recorder of every request and the no-upload proof.

The proof, for every request the browser made (from the page or its workers):

- it went to the test server's origin (any other origin is aborted and fails the test);
- no 64-byte window of any chosen file, at any offset, occurs anywhere in the request as
  sent (method, URL, headers and body): every window of the request is put in a set, then
  every window of every file is looked up in it, so a copy of any 64 consecutive bytes of a
  file, wherever it starts in either, is found;
- the bodies are JSON of the survivor API's shape with hashes only: ``{"signals": [...]}``
  of ``{"type": "pdq", "value": 64 hex, "quality"}`` / ``{"type": "md5", "value": 32 hex}``,
  and nothing else; the raw bytes of each hash value occur in no file;
- the MD5 values sent are exactly the MD5 digests of the files that were hashed (the page
  computed them itself, on the device).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from stopspread.hashing.keypoints import KeypointSet

__all__ = ["WINDOW", "RequestLog", "SentRequest", "assert_no_file_bytes_left", "md5s"]

WINDOW = 64  # bytes: no run of this many consecutive file bytes may appear in a request
HEX = re.compile(r"[0-9a-f]+")
HEX_LENGTH = {"pdq": 64, "md5": 32}


@dataclass(frozen=True)
class SentRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes

    def raw(self) -> bytes:
        """The request as it went out: method, URL, headers and body, as bytes."""
        head = "\n".join(f"{k}: {v}" for k, v in sorted(self.headers.items()))
        return f"{self.method} {self.url}\n{head}\n\n".encode() + self.body


@dataclass
class RequestLog:
    """Every request of one browser context; anything not for ``origin`` is aborted."""

    origin: str
    sent: list[SentRequest] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def attach(self, context: Any) -> None:
        context.route("**/*", self._route)
        context.on("request", self._record)

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url == self.origin or url.startswith(self.origin + "/"):
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()

    def _record(self, request: Any) -> None:
        body = request.post_data_buffer or b""
        headers = dict(request.headers)
        self.sent.append(SentRequest(request.method, request.url, headers, body))

    def api_bodies(self) -> list[tuple[str, dict[str, Any]]]:
        return [
            (r.url, json.loads(r.body))
            for r in self.sent
            if r.body and r.url.startswith(self.origin + "/v1/")
        ]


def _windows(data: bytes) -> set[bytes]:
    return {data[i : i + WINDOW] for i in range(len(data) - WINDOW + 1)}


def _check_shape(url: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    if re.search(r"/v1/cases/[A-Z0-9-]+/withdraw$", url):  # her choice, nothing else
        assert body in ({"center_evidence": "delete"}, {"center_evidence": "keep"}), body
        return []
    assert re.search(r"/v1/cases(/[A-Z0-9-]+/signals)?$", url), url
    assert set(body) <= {"signals", "keypoints"} and "signals" in body, body.keys()
    for record in body.get("keypoints", []):  # shape points: positions and descriptors only
        assert set(record) == {"data", "pdq"}, record.keys()
        assert len(record["pdq"]) == HEX_LENGTH["pdq"] and HEX.fullmatch(record["pdq"])
        data = base64.b64decode(record["data"], validate=True)
        assert len(data) <= 16 * 1024
        KeypointSet.from_bytes(data)  # a well-formed record, nothing else
    for signal in body["signals"]:
        assert set(signal) <= {"type", "value", "quality", "media"}, signal.keys()
        assert signal.get("media") in (None, "video")  # a video's MD5, said as such
        assert signal["type"] in HEX_LENGTH
        value = signal["value"]
        assert len(value) == HEX_LENGTH[signal["type"]] and HEX.fullmatch(value)
        if "quality" in signal:
            assert isinstance(signal["quality"], int) and 0 <= signal["quality"] <= 100
    signals: list[dict[str, Any]] = body["signals"]
    return signals


def assert_no_file_bytes_left(log: RequestLog, files: list[bytes]) -> list[dict[str, Any]]:
    """The whole proof (see the module docstring); returns the signals that were sent."""
    assert log.foreign == [], f"requests to other origins: {log.foreign}"
    others = [r.url for r in log.sent if not r.url.startswith((log.origin + "/", "blob:"))]
    assert others == [], others
    for request in log.sent:
        assert not request.body or request.url.startswith(log.origin + "/v1/cases"), request.url
    seen: set[bytes] = set()
    for request in log.sent:
        seen |= _windows(request.raw())
    for data in files:
        assert len(data) >= WINDOW
        leaked = next(
            (i for i in range(len(data) - WINDOW + 1) if data[i : i + WINDOW] in seen), None
        )
        assert leaked is None, f"64 bytes of a file at offset {leaked} left the browser"
    signals = [s for url, body in log.api_bodies() for s in _check_shape(url, body)]
    for signal in signals:
        raw = bytes.fromhex(signal["value"])
        assert not any(raw in data for data in files)
    return signals


def md5s(files: list[bytes]) -> set[str]:
    return {hashlib.md5(data).hexdigest() for data in files}
