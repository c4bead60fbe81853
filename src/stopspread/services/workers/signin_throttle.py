"""Sign-in throttling that slows a guesser without locking the worker out (issue 18, finding 11).

Before, five wrong passwords from anyone locked the account for 15 minutes — anyone who knew
a worker's name could keep her out — and only existing names ever got the lock, so the
answers told which names exist. Now, in memory per process:

- **per name and address**: after ``free`` wrong passwords, each further one doubles a
  wait (5 s, 10 s, 20 s … up to ``max_wait_s``) before that address may try that name again;
- **per name, over all addresses** (a distributed guesser): the same after ``10 x free``
  wrong passwords — but an address where the worker signed in successfully before skips
  this wait, so the real worker at her desk is never kept out;
- names are counted whether an account exists or not: a real name and an unknown one get
  the same answers.

A right password (once allowed to try) resets the name's counts.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar

from stopspread.services.ratelimit import MAX_TRACKED_KEYS

__all__ = ["BASE_WAIT_S", "SignInThrottle"]

K = TypeVar("K")

BASE_WAIT_S: Final = 5.0
ACCOUNT_FACTOR: Final = 10  # wrong passwords from all addresses before the name-wide wait


@dataclass(slots=True)
class _State:
    failures: int = 0
    until: float = 0.0


class SignInThrottle:
    def __init__(
        self, free: int, max_wait_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.free, self.max_wait_s, self._clock = free, max_wait_s, clock
        self._lock = threading.Lock()
        self._pairs: OrderedDict[tuple[str, str], _State] = OrderedDict()
        self._names: OrderedDict[str, _State] = OrderedDict()
        self._known: OrderedDict[str, set[str]] = OrderedDict()  # addresses she signed in from

    def wait(self, name: str, address: str) -> float:
        """Seconds before ``address`` may try ``name`` again (0: now)."""
        now = self._clock()
        with self._lock:
            pair = self._pairs.get((name, address))
            waits = [pair.until - now if pair else 0.0]
            account = self._names.get(name)
            if account is not None and address not in self._known.get(name, set()):
                waits.append(account.until - now)
            return max(0.0, *waits)

    def failed(self, name: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            self._bump(self._pairs, (name, address), self.free, now)
            self._bump(self._names, name, ACCOUNT_FACTOR * self.free, now)

    def succeeded(self, name: str, address: str) -> None:
        with self._lock:
            self._pairs.pop((name, address), None)
            self._names.pop(name, None)
            self._known.setdefault(name, set()).add(address)
            self._known.move_to_end(name)
            while len(self._known) > MAX_TRACKED_KEYS:
                self._known.popitem(last=False)

    def _bump(self, table: OrderedDict[K, _State], key: K, free: int, now: float) -> None:
        state = table.pop(key, None) or _State()
        table[key] = state
        if len(table) > MAX_TRACKED_KEYS:
            table.popitem(last=False)
        state.failures += 1
        over = state.failures - free
        if over > 0:
            state.until = now + min(self.max_wait_s, BASE_WAIT_S * 2 ** min(over - 1, 30))
