"""The probing detector's edge hits shared by every process, in Redis/Valkey (``limits_url``).

With several worker processes or hosts, each sees only its share of a walk's requests. Each
process sends every new edge hit (services/probing.py) to one list per signal here, off the
request path, and counts the signal's shared list as one process would: a walk spread over
processes is counted whole. A query is kept masked (XOR a 256-bit mask derived from the
server key: distances between entries are kept, values are not readable without the key),
with the key's id; the list holds a signal's last ``WINDOW`` edge hits and expires after a
quiet ``EDGE_WINDOW_S``. If the server cannot be reached, counting stays per process.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from typing import Final

import redis

from stopspread.services.limits_shared import KEY_PREFIX
from stopspread.services.probing import EDGE_WINDOW_S, WINDOW

__all__ = ["EDGE_SCRIPT", "SharedEdgeLedger"]

# KEYS[1] the signal's list; ARGV entry, window, ttl ms. Returns the list, oldest first.
EDGE_SCRIPT: Final = """
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return redis.call('LRANGE', KEYS[1], 0, -1)
"""

_ENTRY: Final = struct.Struct(">I32s")  # client id, masked query


class SharedEdgeLedger:
    """An :class:`~stopspread.services.probing.EdgeLedger` in Redis/Valkey."""

    def __init__(self, client: redis.Redis, server_key: str) -> None:
        self._client = client
        self._script = client.register_script(EDGE_SCRIPT)
        digest = hmac.new(server_key.encode(), b"stopspread edge ledger mask", hashlib.sha256)
        self._mask = int.from_bytes(digest.digest(), "big")
        self._ttl_ms = int(EDGE_WINDOW_S * 1000)

    def share(self, signal_id: int, client_id: int, query: int) -> list[tuple[int, int]]:
        entry = _ENTRY.pack(client_id, (query ^ self._mask).to_bytes(32, "big"))
        try:
            rows = self._script(
                keys=[f"{KEY_PREFIX}edge:{signal_id}"], args=[entry, WINDOW, self._ttl_ms]
            )
        except redis.RedisError:
            return []
        entries = []
        for row in rows:
            key, masked = _ENTRY.unpack(row)
            entries.append((key, int.from_bytes(masked, "big") ^ self._mask))
        return entries

    def first_alarm(self, signal_id: int) -> bool:
        try:
            made = self._client.set(
                f"{KEY_PREFIX}edge-alarm:{signal_id}", b"1", nx=True, px=self._ttl_ms
            )
        except redis.RedisError:
            return True
        return bool(made)
