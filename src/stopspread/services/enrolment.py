"""Enrolment limits (issue 18, finding 9): per client address and overall, per process.

Enrolment is anonymous on purpose (a survivor needs no account), so without limits one
client added 105,000 hashes in 20 s and every platform's misses slowed down. Signals are
counted, not requests (one request may carry up to ``max_signals_per_request``):

- per address: ``enrol_signals_per_address_per_hour`` (token bucket, also the burst);
- overall: ``enrol_signals_per_hour`` across every address;
- an address whose signals in the last hour reach ``enrol_flag_signals`` has its
  enrolment flagged for review (an ``enrolment_flagged`` audit event with the case id and
  counts; never the address or a hash).

Over a limit: :class:`RateLimitedError` (``429`` with ``Retry-After``); nothing is stored.
Limits are per process, like the platform rate limits (docs/configuration.md).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from stopspread.config import Settings
from stopspread.errors import RateLimitedError
from stopspread.services.ratelimit import MAX_TRACKED_KEYS, refill

__all__ = ["EnrolmentLimits"]

HOUR = 3600.0


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class EnrolmentLimits:
    """Signals an address, and everyone together, may enrol; see the module docstring."""

    def __init__(
        self,
        per_address_per_hour: float,
        overall_per_hour: float,
        flag_signals: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_address, self.overall, self.flag_signals = (
            per_address_per_hour,
            overall_per_hour,
            flag_signals,
        )
        self._clock = clock
        self._lock = threading.Lock()
        self._addresses: OrderedDict[str, _Bucket] = OrderedDict()
        self._all = _Bucket(overall_per_hour, clock())

    @classmethod
    def from_settings(cls, settings: Settings) -> EnrolmentLimits:
        return cls(
            settings.enrol_signals_per_address_per_hour,
            settings.enrol_signals_per_hour,
            settings.enrol_flag_signals,
        )

    def take(self, address: str, signals: int) -> bool:
        """Count ``signals`` for ``address``; ``True`` when the address is now enrolling in
        bulk (flag it for review). Raises :class:`RateLimitedError` over a limit."""
        now = self._clock()
        with self._lock:
            mine = self._addresses.pop(address, None) or _Bucket(self.per_address, now)
            self._addresses[address] = mine
            if len(self._addresses) > MAX_TRACKED_KEYS:
                self._addresses.popitem(last=False)
            for bucket, limit in ((mine, self.per_address), (self._all, self.overall)):
                bucket.tokens = refill(bucket.tokens, now - bucket.at, limit / HOUR, limit)
                bucket.at = now
            if signals > mine.tokens:
                wait = (signals - mine.tokens) / (self.per_address / HOUR)
                raise RateLimitedError("too many hashes enrolled from this address", wait)
            if signals > self._all.tokens:
                wait = (signals - self._all.tokens) / (self.overall / HOUR)
                raise RateLimitedError("too many hashes enrolled right now; try later", wait)
            mine.tokens -= signals
            self._all.tokens -= signals
            return self.per_address - mine.tokens >= self.flag_signals
