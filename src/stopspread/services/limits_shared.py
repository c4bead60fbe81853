"""Limits shared by every API process and host: token buckets and daily quotas in Redis/Valkey.

The same interfaces as :mod:`stopspread.services.ratelimit` (``take(key)``), so callers do
not change; :func:`build_limiters` picks these when ``limits_url`` is set
(``redis://host:6379/0``; Valkey speaks the same protocol). Each ``take`` is one round trip
running one Lua script, atomic on the server, with the server's clock — so N processes
together let a key through exactly as one process would, and clocks of the API hosts do
not matter.

If the limiter cannot be reached, ``take`` falls back to the process's own in-memory limiter
(per-process limits, as without ``limits_url``) and logs it once a minute: matching goes on.
"""

from __future__ import annotations

import logging
import time
from typing import Final

import redis

from stopspread.services.ratelimit import DailyQuota, KeyedLimiter

__all__ = [
    "BUCKET_SCRIPT",
    "KEY_PREFIX",
    "QUOTA_SCRIPT",
    "SharedDailyQuota",
    "SharedKeyedLimiter",
    "connect",
]

log = logging.getLogger("stopspread.limits")

KEY_PREFIX: Final = "stopspread:"
WARN_EVERY_S: Final = 60.0
SOCKET_TIMEOUT_S: Final = 0.5  # a limiter slower than this is treated as away

# KEYS[1] bucket; ARGV rate/s, burst. Returns the wait in microseconds (0: allowed).
BUCKET_SCRIPT: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(b[1]), tonumber(b[2])
if tokens == nil then tokens, at = burst, now end
tokens = math.min(burst, tokens + math.max(now - at, 0) * rate / 1000000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / rate * 1000000) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return wait
"""

# KEYS[1] counter prefix; ARGV limit. Returns 1 when counted, 0 when the quota is used up.
QUOTA_SCRIPT: Final = """
local t = redis.call('TIME')
local day = math.floor(tonumber(t[1]) / 86400)
local key = KEYS[1] .. ':' .. day
local used = tonumber(redis.call('GET', key) or '0')
if used >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', key)
redis.call('EXPIRE', key, 2 * 86400)
return 1
"""


def connect(url: str) -> redis.Redis:
    """A client of the limiter at ``url`` (connections are pooled and thread-safe)."""
    return redis.Redis.from_url(
        url, socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=SOCKET_TIMEOUT_S
    )


def _key(name: str, key: object) -> str:
    parts = key if isinstance(key, tuple) else (key,)
    return KEY_PREFIX + name + ":" + ":".join(str(p) for p in parts)


class _Fallback:
    def __init__(self) -> None:
        self._warned = 0.0

    def warn(self, what: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned >= WARN_EVERY_S:
            self._warned = now
            log.warning("shared limiter unreachable (%s): %s limits are per process", exc, what)


class SharedKeyedLimiter(KeyedLimiter):
    """A :class:`KeyedLimiter` whose buckets live in Redis/Valkey, shared by all processes."""

    def __init__(self, client: redis.Redis, name: str, rate_per_s: float, burst: float) -> None:
        super().__init__(rate_per_s, burst)
        self._name = name
        self._script = client.register_script(BUCKET_SCRIPT)
        self._fallback = _Fallback()

    def take(self, key: object) -> float:
        try:
            wait_us = self._script(keys=[_key(self._name, key)], args=[self.rate_per_s, self.burst])
        except redis.RedisError as exc:
            self._fallback.warn(self._name, exc)
            return super().take(key)
        return int(wait_us) / 1_000_000


class SharedDailyQuota(DailyQuota):
    """A :class:`DailyQuota` counted in Redis/Valkey per UTC day, shared by all processes."""

    def __init__(self, client: redis.Redis, name: str, limit: int) -> None:
        super().__init__(limit)
        self._name = name
        self._script = client.register_script(QUOTA_SCRIPT)
        self._fallback = _Fallback()

    def take(self, key: object) -> bool:
        try:
            counted = self._script(keys=[_key(self._name, key)], args=[self.limit])
        except redis.RedisError as exc:
            self._fallback.warn(self._name, exc)
            return super().take(key)
        return bool(counted)
