"""Walks that read an enrolled PDQ hash back through yes/no answers (issue 18, finding 2),
run against the real :class:`~stopspread.services.probing.ProbeDetector` driven exactly as the
match route drives it (``observe_upload`` before the lookup, ``hides`` for a hit's answer,
``edge_hits`` after a hit, ``near_misses`` while a signal is alarmed), with a simulated clock
and the answer computed by distance. ``tests/security/test_probing.py`` and
``bench/probing.py`` use them; the HTTP tests there run the same walks against a real server.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from stopspread.config import Settings
from stopspread.services.probing import (
    THROTTLE_S,
    WINDOW,
    EdgeAlarm,
    EdgeMark,
    ProbeDetector,
    Verdict,
    blurred,
)

RADIUS = 29  # the platform policy radius (services/match_policy.py)
SIGNAL = 1  # the enrolled signal's id
SECRET = "walks server key"  # keys the blurred edge's draws
WALL_START = 1_800_000_000.0  # the simulated wall clock at time 0


def flip(value: int, *bits: int) -> int:
    for bit in bits:
        value ^= 1 << bit
    return value


def hex64(value: int) -> str:
    return f"{value:064x}"


class Ledger:
    """The shared edge ledger as Redis keeps it (services/probing_shared.py), in memory."""

    def __init__(self) -> None:
        self.lists: dict[int, list[tuple[int, int]]] = {}
        self.alarmed: set[int] = set()

    def share(self, signal_id: int, client_id: int, query: int) -> list[tuple[int, int]]:
        held = self.lists.setdefault(signal_id, [])
        held.append((client_id, query))
        del held[:-WINDOW]
        return list(held)

    def first_alarm(self, signal_id: int) -> bool:
        first = signal_id not in self.alarmed
        self.alarmed.add(signal_id)
        return first


class Store:
    """The ``edge_watch`` table as services/probing_state.py keeps it, in memory."""

    def __init__(self) -> None:
        self.marks: dict[int, EdgeMark] = {}
        self.hashes: dict[int, str] = {}  # signal id -> value (no cloak here)

    def save(self, marks: Sequence[EdgeMark]) -> None:
        for mark in marks:
            held = self.marks.get(mark.signal_id)
            if held is not None:
                mark = EdgeMark(
                    mark.signal_id, max(mark.until, held.until), mark.alarmed or held.alarmed
                )
            self.marks[mark.signal_id] = mark

    def load(self) -> list[EdgeMark]:
        return list(self.marks.values())

    def values(self, signal_ids: Sequence[int]) -> dict[int, str]:
        return {s: self.hashes[s] for s in signal_ids if s in self.hashes}

    def query_value(self, value_hex: str) -> str:
        return value_hex


@dataclass
class Server:
    """``processes`` serving processes (requests go round-robin), one enrolled hash; keys
    suspended in one are refused by all (the database's ``active`` flag), signals under
    attack are read by all (the ``edge_watch`` table, polled here before every request)."""

    target: int
    processes: int = 1
    shared: bool = False  # the processes share their edge hits (``limits_url``)
    blur: int = 0  # match_edge_blur_bits: a blurred edge for every signal, per key
    adaptive: bool = True  # a signal under attack gets a blurred edge (False: as before)
    near: bool = True  # after an alarm, near misses suspend keys (False: a negative control)
    now: float = 0.0
    served: int = 0
    suspended: set[int] = field(default_factory=set)
    alarms: int = 0  # probing review items opened
    detectors: list[ProbeDetector] = field(default_factory=list)
    store: Store = field(default_factory=Store)
    ledger: Ledger = field(default_factory=Ledger)

    def __post_init__(self) -> None:
        self.store.hashes[SIGNAL] = hex64(self.target)
        self.restart()

    def restart(self) -> None:
        """Every process starts afresh: its counts are gone, the store and ledger stay."""
        self.detectors = [self._started() for _ in range(self.processes)]

    def _started(self) -> ProbeDetector:
        detector = ProbeDetector(clock=lambda: self.now, wall=lambda: WALL_START + self.now)
        detector.keep_state(self.store)
        if self.shared:
            detector.share_edges(self.ledger, self._alarmed, background=False)
        return detector

    def _alarmed(self, alarm: EdgeAlarm) -> None:
        self.suspended.update(alarm.client_ids)
        self.alarms += alarm.open_review

    def ask(self, key: int, value: int) -> int | bool:
        """The answer (True/False) or a refusal status (429, 403)."""
        if key in self.suspended:
            return 403
        detector = self.detectors[self.served % self.processes]
        self.served += 1
        verdict = detector.observe(key, hex64(value))
        if verdict is Verdict.SUSPEND:
            self.suspended.add(key)
            return 403
        if verdict is Verdict.THROTTLE:
            return 429
        for each in self.detectors:  # the poll
            each.reload()
        if self.adaptive and self.near:
            missed = detector.near_misses(key, [hex64(value)], RADIUS)
            if missed is not None:
                self._alarmed(missed)
        distance = (value ^ self.target).bit_count()
        if distance > RADIUS:
            return False
        if self.adaptive:  # as the match route decides
            hit = (SIGNAL, distance)
            answer = not detector.hides(SECRET, key, hex64(value), hit, RADIUS, self.blur)
        else:
            answer = not blurred(SECRET, key, hex64(value), distance, RADIUS, self.blur)
        alarm = detector.edge_hits(key, [(hex64(value), SIGNAL, distance)], RADIUS)
        if alarm is not None:
            self._alarmed(alarm)
        detector.flush_shares()
        detector.save_marks()
        return answer


class Asked(Protocol):
    """Whom a walk asks: :class:`Server`, or real servers over HTTP (test_probing.py)."""

    now: float

    def ask(self, key: int, value: int) -> int | bool: ...


@dataclass
class Outcome:
    answered: int = 0  # queries answered (the walk's own, not fillers)
    fillers: int = 0
    throttled: int = 0  # 429s
    waited_s: float = 0.0
    keys_used: int = 0
    recovered: bool = False


class Attacker:
    """Asks through a pool of keys: waits out a 429, moves to the next key after a 403."""

    def __init__(
        self, server: Asked, keys: Sequence[int], filler: int, seed: int, patient: bool = True
    ) -> None:
        self.server, self.keys, self.filler = server, list(keys), filler
        self.patient = patient  # waits out a 429; else gives the key up (a real-time test)
        self.rng = np.random.default_rng(seed)
        self.turn = itertools.count()
        self.lost: set[int] = set()
        self.out = Outcome()
        self.used: set[int] = set()
        self.last_key = -1  # the key that got the last answer

    def suspended_since(self) -> bool:
        """Whether the key of the last answer is suspended now: one unrelated query through
        it (a walker reading its own suspension, docs/security.md "What is left")."""
        key = self.last_key
        if key in self.lost:
            return True
        if self.server.ask(key, int.from_bytes(self.rng.bytes(32), "big")) == 403:
            self.lost.add(key)
            return True
        return False

    def ask(self, value: int) -> bool | None:
        """The answer, or None once every key is suspended."""
        while True:
            live = [k for k in self.keys if k not in self.lost]
            if not live:
                return None
            key = live[next(self.turn) % len(live)]
            self.used.add(key)
            self.out.keys_used = len(self.used)
            for _ in range(self.filler):  # unrelated queries between the walk's own
                self.server.ask(key, int.from_bytes(self.rng.bytes(32), "big"))
                self.out.fillers += 1
            answer = self.server.ask(key, value)
            if answer == 403:
                self.lost.add(key)
            elif answer == 429 and not self.patient:
                self.out.throttled += 1
                self.lost.add(key)
            elif answer == 429:
                self.out.throttled += 1
                self.out.waited_s += THROTTLE_S
                self.server.now += THROTTLE_S
            else:
                self.out.answered += 1
                self.last_key = key
                return bool(answer)


def _to_edge(
    attacker: Attacker, target: int, rng: np.random.Generator, start: int = 12
) -> tuple[int, set[int]]:
    """From an edited copy ``start`` bits off, flip bits away from her hash until the answer
    turns: the edge point and the bits flipped (each one in which it now differs from hers)."""
    edge = target
    for bit in rng.choice(256, start, replace=False):
        edge = flip(edge, int(bit))
    flipped: set[int] = set()
    for bit in (int(b) for b in rng.permutation(256)):
        if (edge ^ target) >> bit & 1:
            continue
        answer = attacker.ask(flip(edge, bit))
        if answer is None:
            raise _StoppedError
        if not answer:
            break
        edge, flipped = flip(edge, bit), flipped | {bit}
    return edge, flipped


class _StoppedError(Exception):
    pass


def review_walk(attacker: Attacker, target: int, seed: int, start: int = 12) -> Outcome:
    """The review's walk: to the edge, then each of the 256 single-bit flips of the edge."""
    rng = np.random.default_rng(seed)
    try:
        edge, _ = _to_edge(attacker, target, rng, start)
        differs = 0
        for bit in range(256):
            answer = attacker.ask(flip(edge, bit))
            if answer is None:
                raise _StoppedError
            differs |= int(answer) << bit
    except _StoppedError:
        return attacker.out
    attacker.out.recovered = edge ^ differs == target
    return attacker.out


def padded_walk(
    attacker: Attacker,
    target: int,
    seed: int,
    pairs: int = 2,
    repeats: int = 0,
    start: int = 12,
    oracle: bool = False,
) -> Outcome:
    """A smarter walk: each bit is tested from the edge with ``pairs`` known pairs flipped
    too (a bit it knows the edge shares with her hash and one it knows differs: the distance
    moves by 0), chosen so that every query is at least ``NEAR_BITS + 1`` bits from all
    earlier ones: no query is a step for the per-key detector, no hit an edge step.
    ``repeats``: a "no" asked again that many times with fresh pads (against a blurred
    edge, where a test at radius + 1 never matches and one "match" proves a bit).
    ``oracle``: after each "no", the walker checks whether that query's key was suspended
    since (a key's first edge hit after an alarm suspends it): then the test was in the
    band, and the bit is one in which the edge differs from her hash."""
    rng = np.random.default_rng(seed)
    try:
        edge, differs = _to_edge(attacker, target, rng, start)
        same: set[int] = set()
        asked: list[int] = []
        for bit in (int(b) for b in rng.permutation(256)):
            if bit in differs or bit in same:
                continue
            for _ in range(1 + repeats):  # against a blurred edge: a "no" asked again
                query = _padded(edge, bit, differs, same, asked, pairs, rng)
                answer = attacker.ask(query)
                if answer is None:
                    raise _StoppedError
                asked.append(query)
                if not answer and oracle and attacker.suspended_since():
                    answer = True  # refused after it: the query was an edge hit
                if answer:
                    break
            (differs if answer else same).add(bit)
    except _StoppedError:
        return attacker.out
    attacker.out.recovered = flip(edge, *differs) == target
    return attacker.out


def _padded(
    edge: int,
    bit: int,
    differs: set[int],
    same: set[int],
    asked: list[int],
    pairs: int,
    rng: np.random.Generator,
) -> int:
    far: Callable[[int], bool] = lambda q: all((q ^ a).bit_count() > 3 for a in asked)  # noqa: E731
    plain = flip(edge, bit)
    if len(same) < pairs or len(differs) < pairs:
        return plain
    for _ in range(50):
        toward = rng.choice(sorted(differs), pairs, replace=False)
        away = rng.choice(sorted(same), pairs, replace=False)
        query = flip(plain, *(int(b) for b in (*toward, *away)))
        if far(query):
            return query
    return query


def walk_settings(url: str, tmp_path: Path, **changes: object) -> Settings:
    """A live server for walks: no rate limit or quarantine in the walk's way, and a fixed
    server key, so the blurred edge's draws (an HMAC of each query under that key) are the
    same every run and each run is the same walk."""
    from tests.conftest import fast_settings

    base = {
        "client_burst": 100_000,
        "quarantine_min_matches": 100_000,
        "secret_key": "probing-tests",
    }
    return fast_settings(url, tmp_path, **{**base, **changes})
