"""The probing detector's bookkeeping (services/probing.py): the chunk tables and running
counts give exactly the verdicts of the plain scan over the window they replace (issue 17).

tests/security/test_probing.py runs the attacks against a real server; here the detector is
compared, query by query, with a reference that recomputes everything from the window."""

from __future__ import annotations

from collections import deque
from functools import partial
from operator import getitem

import numpy as np

from stopspread.services import probing
from stopspread.services.probing import NEAR_BITS, WINDOW, ProbeDetector, Verdict


class Reference:
    """The detector as first written: a scan of the whole window per query."""

    def __init__(self) -> None:
        self.recent: deque[tuple[int, int]] = deque(maxlen=WINDOW)
        self.throttled_until = 0.0
        self.suspended = False

    def observe(self, values: list[int], now: float) -> Verdict:
        if self.suspended:
            return Verdict.SUSPEND
        earlier = [v for v, _ in self.recent]
        stepped = False
        for query in dict.fromkeys(values):
            step, repeat = probing._step(query, earlier)
            if not repeat:
                self.recent.append((query, step))
            stepped = stepped or bool(step)
        if stepped:
            mask, steps = 0, 0
            for _value, bits in self.recent:
                if bits:
                    mask |= bits
                    steps += 1
            bits = mask.bit_count()
            if bits >= probing.SUSPEND_BITS and steps >= probing.SUSPEND_BITS // NEAR_BITS:
                self.suspended = True
                return Verdict.SUSPEND
            if bits >= probing.THROTTLE_BITS and steps >= probing.THROTTLE_BITS // NEAR_BITS:
                self.throttled_until = max(self.throttled_until, now + probing.THROTTLE_S)
        return Verdict.THROTTLE if self.throttled_until > now else Verdict.ALLOW


def _near(rng: np.random.Generator, value: int, most: int, pool: int = 256) -> int:
    """``value`` with up to ``most`` of its first ``pool`` bits flipped."""
    for bit in rng.choice(pool, int(rng.integers(0, most + 1)), replace=False):
        value ^= 1 << int(bit)
    return value


def _traffic(rng: np.random.Generator, n: int, wide: float) -> list[list[int]]:
    """Uploads mixing fresh hashes, exact repeats, near steps (1-3 bits, mostly in a few
    unstable positions as real near-duplicates, at ``wide`` anywhere as a walk), farther ones (4-6 bits) and small signal
    sets, so that the window fills and wraps, and a key is throttled, then suspended."""
    sent: list[int] = []
    uploads: list[list[int]] = []
    for _ in range(n):
        kind, recent = rng.random(), int(rng.integers(1, min(len(sent), 40) + 1)) if sent else 0
        if not sent or kind < 0.3:
            values = [int.from_bytes(rng.bytes(32), "big")]
        elif kind < 0.4:
            values = [sent[-recent]]
        elif kind < 0.75:
            pool = 256 if rng.random() < wide else 24
            values = [_near(rng, sent[-recent], NEAR_BITS, pool)]
        elif kind < 0.9:
            values = [_near(rng, sent[-1], 6)]
        else:
            values = [_near(rng, sent[-1], 4, 24) for _ in range(int(rng.integers(2, 6)))]
        sent.extend(values)
        uploads.append(values)
    return uploads


def test_the_detector_gives_the_reference_verdicts() -> None:
    seen: set[Verdict] = set()
    for seed in range(6):
        rng = np.random.default_rng(seed)
        now = [0.0]
        detector = ProbeDetector(clock=partial(getitem, now, 0))
        reference = Reference()
        for n, values in enumerate(_traffic(rng, 900, wide=0.08 * seed)):
            now[0] = n * 0.5  # throttles expire along the way
            expected = reference.observe(values, now[0])
            got = detector.observe_upload(7, [f"{v:064x}" for v in values])
            assert got is expected, (seed, n)
            seen.add(got)
    assert seen == set(Verdict)  # every verdict was reached and agreed on


def test_near_queries_are_found_through_a_shared_chunk() -> None:
    rng = np.random.default_rng(1)
    base = int.from_bytes(rng.bytes(32), "big")
    detector = ProbeDetector()
    detector.observe(3, f"{base:064x}")
    state = detector._keys[3]
    for distance in range(NEAR_BITS + 1):
        query = _near(rng, base, 0)
        for bit in rng.choice(256, distance, replace=False):
            query ^= 1 << int(bit)
        step, repeat = state.nearest(query)
        assert repeat is (distance == 0)
        assert step.bit_count() == (distance if distance else 0)


def test_the_window_forgets_its_oldest_query() -> None:
    detector = ProbeDetector()
    rng = np.random.default_rng(2)
    values = [int.from_bytes(rng.bytes(32), "big") for _ in range(WINDOW + 10)]
    for value in values:
        detector.observe(5, f"{value:064x}")
    state = detector._keys[5]
    assert len(state.recent) == WINDOW
    remembered = set().union(*state.by_chunk.values())
    assert remembered == set(values[10:])
    assert state.touched() == (0, 0)
