"""A memory budget shared by every decode in a process (issue 18, finding 8).

The pixel cap bounds one image; it does not bound four decoded at once. A
:class:`DecodeBudget` is held around each decode for an estimate of what the decode
costs (``pixels x BYTES_PER_PIXEL``: the file's pixels as RGB plus the float planes of
the PDQ pipeline — 89.5 MP measured at 1,172 MiB, about 13.7 bytes a pixel). A decode
that would not fit the whole budget is refused (:class:`MediaTooLargeError`); one that
does not fit *now* waits for others to finish, up to ``wait_s``, then is refused with
:class:`RateLimitedError` (``429``, try again).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Final

from stopspread.errors import MediaTooLargeError, RateLimitedError

__all__ = ["BYTES_PER_PIXEL", "DecodeBudget"]

BYTES_PER_PIXEL: Final = 14


class DecodeBudget:
    """At most ``max_bytes`` of estimated decode memory in use at once, across threads."""

    def __init__(self, max_bytes: int, wait_s: float = 10.0) -> None:
        if max_bytes <= 0:
            raise ValueError("the decode budget must be positive")
        self.max_bytes, self.wait_s = max_bytes, wait_s
        self._used = 0
        self._cond = threading.Condition()

    @property
    def in_use(self) -> int:
        with self._cond:
            return self._used

    @contextlib.contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        """Hold the estimate for ``pixels`` while the block runs (the decode and hash)."""
        cost = max(pixels, 1) * BYTES_PER_PIXEL
        if cost > self.max_bytes:
            raise MediaTooLargeError(
                f"decoding this image needs about {cost // 2**20:,} MiB, over the "
                f"{self.max_bytes // 2**20:,} MiB decode budget"
            )
        deadline = time.monotonic() + self.wait_s
        with self._cond:
            while self._used + cost > self.max_bytes:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RateLimitedError("the server is decoding other images; try again", 1.0)
                self._cond.wait(left)
            self._used += cost
        try:
            yield
        finally:
            with self._cond:
                self._used -= cost
                self._cond.notify_all()
