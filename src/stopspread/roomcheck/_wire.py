"""The one way a room check sends anything: scope-checked, paced, counted and written down.

Every TCP connection and every UDP datagram goes through :class:`Wire`. Before a socket is
opened the destination is checked against the :class:`~stopspread.roomcheck.Scope` (outside:
:class:`~stopspread.errors.OutOfScopeError`, nothing sent); then the send waits for its turn
under a fixed rate (``rate_per_s``) and a cap on open connections. Each probe's payload and the
answer's first bytes are kept (:class:`Exchange`), so the evidence says exactly what was sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from stopspread.errors import OutOfScopeError
from stopspread.roomcheck._scope import Scope

__all__ = ["ANSWER_KEEP_BYTES", "Exchange", "Wire"]

ANSWER_KEEP_BYTES: Final = 4096  # of each answer, kept as evidence (enough for headers + XML)
READ_CAP_BYTES: Final = 65536  # read at most this much of any answer


@dataclass(frozen=True, slots=True)
class Exchange:
    """One probe with a payload and what came back (``answer`` empty: nothing came back)."""

    at: str  # UTC, ISO 8601
    proto: str  # "tcp" or "udp"
    address: str
    port: int
    probe: str  # what kind of probe: "rtsp-options", "ssdp-search", ...
    sent: bytes
    answer: bytes
    answered_by: str = ""  # for UDP: the address that answered


@dataclass(slots=True)
class Wire:
    """Paced, scope-checked sockets for one check. Use from one asyncio event loop."""

    scope: Scope
    rate_per_s: float = 250.0
    max_open: int = 64
    connect_timeout_s: float = 0.6
    read_timeout_s: float = 1.5
    packets: int = 0  # connections opened + datagrams sent
    exchanges: list[Exchange] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    _next_slot: float = 0.0
    _open: asyncio.Semaphore | None = None

    def _gate(self) -> asyncio.Semaphore:
        if self._open is None:
            self._open = asyncio.Semaphore(self.max_open)
        return self._open

    async def _pace(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = max(now, self._next_slot)
        self._next_slot = slot + 1.0 / self.rate_per_s
        if slot > now:
            await asyncio.sleep(slot - now)
        self.packets += 1

    def check(self, address: str) -> str:
        """The address if in scope; refusals are remembered, then raised."""
        try:
            return self.scope.require(address)
        except OutOfScopeError:
            self.refused.append(address)
            raise

    async def knock(self, address: str, port: int) -> bool | None:
        """Connect and close at once: True open, False refused (a host is there), None silent."""
        self.check(address)
        async with self._gate():
            await self._pace()
            try:
                _reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(address, port), self.connect_timeout_s
                )
            except ConnectionRefusedError:
                return False
            except (TimeoutError, OSError):
                return None
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return True

    async def ask(self, address: str, port: int, payload: bytes, probe: str) -> bytes:
        """Send ``payload`` over TCP, read the answer until it ends, stalls or reaches the cap."""
        self.check(address)
        at = datetime.now(UTC).isoformat(timespec="milliseconds")
        answer = b""
        async with self._gate():
            await self._pace()
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(address, port), self.connect_timeout_s
                )
            except (TimeoutError, OSError):
                self.exchanges.append(Exchange(at, "tcp", address, port, probe, payload, b""))
                return b""
            try:
                writer.write(payload)
                await writer.drain()
                answer = await self._read(reader)
            except OSError:
                pass
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
        self.exchanges.append(
            Exchange(at, "tcp", address, port, probe, payload, answer[:ANSWER_KEEP_BYTES])
        )
        return answer

    async def _read(self, reader: asyncio.StreamReader) -> bytes:
        chunks: list[bytes] = []
        size = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.read_timeout_s
        while size < READ_CAP_BYTES:
            left = deadline - loop.time()
            if left <= 0:
                break
            try:
                chunk = await asyncio.wait_for(reader.read(READ_CAP_BYTES - size), left)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if _complete(b"".join(chunks)):
                break
        return b"".join(chunks)

    async def shout(
        self, targets: list[str], port: int, payload: bytes, probe: str, wait_s: float
    ) -> list[tuple[str, bytes]]:
        """Send one UDP datagram to each target (hosts, the subnet's broadcast address or a
        link-local group) from one socket; collect answers from addresses in scope until
        ``wait_s`` after the last send. Every target is checked before the first is sent."""
        for target in targets:
            self.check(target)
        loop = asyncio.get_running_loop()
        at = datetime.now(UTC).isoformat(timespec="milliseconds")
        answers: list[tuple[str, bytes]] = []
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)  # never routed
            own = str(self.scope.own) if self.scope.own else "0.0.0.0"  # noqa: S104
            if self.scope.own:  # multicast leaves by the checked network's interface
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(own))
            sock.bind((own, 0))  # the reply port of our own probes
            listening = asyncio.ensure_future(self._listen(sock, answers))
            try:
                for target in targets:
                    await self._pace()
                    with contextlib.suppress(OSError):
                        await loop.sock_sendto(sock, payload, (target, port))
                await asyncio.sleep(wait_s)
            finally:
                listening.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listening
        target_text = targets[0] if len(targets) == 1 else f"{len(targets)} addresses"
        for peer, data in answers:
            self.exchanges.append(
                Exchange(at, "udp", peer, port, probe, payload, data[:ANSWER_KEEP_BYTES], peer)
            )
        if not answers:
            self.exchanges.append(Exchange(at, "udp", target_text, port, probe, payload, b""))
        return answers

    async def _listen(self, sock: socket.socket, answers: list[tuple[str, bytes]]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                data, (peer, _port) = await loop.sock_recvfrom(sock, READ_CAP_BYTES)
            except OSError:
                await asyncio.sleep(0.01)
                continue
            if self.scope.allows(peer):
                answers.append((peer, data))


def _complete(data: bytes) -> bool:
    """An RTSP/HTTP answer whose headers and declared body have all arrived."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                return len(body) >= int(value.strip())
            except ValueError:
                return True
    return head.startswith(b"RTSP/")  # RTSP without a body ends at the blank line
