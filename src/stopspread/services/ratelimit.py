"""Token buckets, in memory, per process.

With several worker processes each holds its own buckets, so a client can reach
``workers x rate``; deployments size the per-process rate accordingly
(docs/configuration.md). The case-secret limits are per process too: they only slow
guessing of a 140-bit secret, and never refuse the right one (services/cases.py).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

__all__ = ["MAX_TRACKED_KEYS", "DailyQuota", "KeyedLimiter", "refill"]

MAX_TRACKED_KEYS: Final = 100_000  # oldest buckets are dropped past this (memory bound)


def refill(tokens: float, elapsed_s: float, rate_per_s: float, burst: float) -> float:
    return min(burst, tokens + max(elapsed_s, 0.0) * rate_per_s)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class KeyedLimiter:
    """One token bucket per key: ``rate_per_s`` tokens a second, at most ``burst`` saved."""

    def __init__(
        self, rate_per_s: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate_per_s, self.burst, self._clock = rate_per_s, burst, clock
        self._buckets: OrderedDict[object, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: object) -> float:
        """Take one token; returns 0.0 when allowed, else the seconds until one is available."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.pop(key, None) or _Bucket(self.burst, now)
            bucket.tokens = refill(bucket.tokens, now - bucket.at, self.rate_per_s, self.burst)
            bucket.at = now
            self._buckets[key] = bucket
            if len(self._buckets) > MAX_TRACKED_KEYS:
                self._buckets.popitem(last=False)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate_per_s


class DailyQuota:
    """At most ``limit`` calls per key per UTC day (``day`` is injectable for tests)."""

    def __init__(self, limit: int, day: Callable[[], int] = lambda: int(time.time() // 86_400)):
        self.limit, self._day = limit, day
        self._counts: dict[object, int] = {}
        self._current = day()
        self._lock = threading.Lock()

    def take(self, key: object) -> bool:
        """Count one call; ``False`` when the key has used up today's quota."""
        today = self._day()
        with self._lock:
            if today != self._current:
                self._counts.clear()
                self._current = today
            used = self._counts.get(key, 0)
            if used >= self.limit:
                return False
            self._counts[key] = used + 1
            return True
