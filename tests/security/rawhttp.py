"""Raw HTTP/1.1 over a loopback socket: the requests an attacker sends that clients won't.

A declared length with no body behind it, a chunked body that never ends, a body cut off
mid-way: each helper sends what it is told and reads the server's answer (or notes that
the server closed the connection first).
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["RawAnswer", "raw_request"]


@dataclass(frozen=True, slots=True)
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes
    sent: int  # body bytes the server took before it answered or closed

    def json(self) -> dict[str, object]:
        value: dict[str, object] = json.loads(self.body)
        return value


def raw_request(
    base_url: str,
    method: str,
    path: str,
    headers: dict[str, str],
    pieces: list[bytes] | None = None,
    *,
    chunked: bool = False,
    timeout: float = 20.0,
) -> RawAnswer:
    """Send the head, then ``pieces`` (as chunks when ``chunked``) without ending the body.

    Sending stops at the first error (the server answered and closed). Then the answer is
    read; a server still waiting for the rest of the body times out (``socket.timeout``).
    """
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80)) as sock:
        sock.settimeout(timeout)
        head = [f"{method} {path} HTTP/1.1", f"Host: {parts.netloc}"]
        if chunked:
            head.append("Transfer-Encoding: chunked")
        head += [f"{k}: {v}" for k, v in headers.items()]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        sent = 0
        for piece in pieces or []:
            data = f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece
            try:
                sock.sendall(data)
            except OSError:
                break
            sent += len(piece)
        return _read_answer(sock, sent)


def _read_answer(sock: socket.socket, sent: int) -> RawAnswer:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            raise ConnectionError("the server closed the connection without an answer")
        data += piece
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        piece = sock.recv(65536)
        if not piece:
            break
        rest += piece
    return RawAnswer(status, headers, rest[:length], sent)
