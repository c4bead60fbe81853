"""A per-key probing detector for ``/v1/match`` (issue 18, finding 2).

The attack: start from an edited copy of her image, flip bits towards the edge of the match
radius, then test each of the 256 single-bit flips of the edge hash: the yes/no answers give
her enrolled hash back exactly (279 queries in the review). Such a walk has a signature that
real traffic does not: many *different* queries, each a few bits from one the same key sent
just before, and the bits that differ cover a large part of the 256 positions.

Real near-duplicate bursts — a viral meme re-encoded a thousand times, the transforms of one
upload — either repeat a hash exactly (distance 0, not counted) or differ in the few bits
that sit near PDQ's median threshold for that picture (the unstable bits: a few dozen at
most), so the positions they touch stay few.

Per key, in memory per process, over its last ``WINDOW`` PDQ queries:

- a query whose nearest earlier query is 1 to ``NEAR_BITS`` bits away is a *step*; the bits
  in which it differs are *touched*;
- ``THROTTLE_BITS`` touched positions (with at least as many steps): the key gets ``429``
  for PDQ queries for ``THROTTLE_S`` seconds (a walk slows to a crawl);
- ``SUSPEND_BITS`` touched positions: the key is suspended (revoked, audited as
  ``client_suspended``) and a ``probing`` review item is opened for every case the key's
  queries matched in the window, so the bank's owners learn of it.

A request carrying one upload's signal set (``/v1/match`` with ``signal_set``, or ``/v1/hash``)
is observed at once (:meth:`ProbeDetector.observe_upload`): each of its PDQ hashes is compared
with the key's earlier requests only, since an upload's variants may sit a few bits apart.

MD5 queries are exact and cannot be walked; they are not observed.

**At the edge of one enrolled hash, across keys** (:meth:`ProbeDetector.edge_hits`). A walk,
however diluted with unrelated queries or spread over keys, must collect many answers at the
edge of the hash it reads: hits at distance ``radius - EDGE_BAND`` < d <= ``radius``, one for
each bit in which its edge point differs from her hash (as many as the radius). Real hits sit
mostly well inside the radius; the few at the edge are distinct edits, far apart, or
re-encodes of one edit that differ only in its few unstable bits. So per enrolled signal,
over its last ``WINDOW`` distinct edge hits from every key, two counts: the *edge clusters*
(an edge hit farther than ``CLUSTER_BITS`` from every earlier one starts a cluster, a closer
one joins the nearest one's) and, per cluster, the positions in which each member differs
from its nearest earlier one: a walk around one edge point touches the bits it reads (and
the bits it pads its tests with), re-encodes of one edit only that edit's unstable bits. A
walk that pads its tests so much that its hits stay apart makes a cluster of each.
``EDGE_THROTTLE`` clusters or ``EDGE_STEP_THROTTLE`` positions in one cluster slow every key
that made one of the signal's edge hits (``429``);
``EDGE_SUSPEND`` or ``EDGE_STEP_SUSPEND`` suspend them all, open one ``probing`` review item
for the case, and from then on suspend any key at its first new edge hit on that signal
(until a week passes with no edge hit on it, ``EDGE_WINDOW_S``). Answers stay what they are
for every other key: the hash is not muted or quarantined. Queries are kept in memory
only, never written.

**A signal under attack gets a blurred edge** (:meth:`ProbeDetector.edge_blur`). From the
moment its edge evidence reaches the throttle level until a quiet ``EDGE_WINDOW_S``, its hits
in the ``EDGE_BLUR_BITS`` band just inside the radius answer "match" only with a probability
falling towards the radius (:func:`blurred`), drawn per query for every key alike: a walk's
answers stop telling it the bit it tests, and each new draw is a new edge hit. Once its
alarm goes off the band is closed (:meth:`ProbeDetector.edge_closed`): hits there answer
"no match" for every key until the quiet week is over, so a walker's keys that survive the
alarm read nothing more at the edge; and a query just outside its radius (up to
``EDGE_BAND`` bits beyond) suspends its key as an edge hit does (:meth:`near_misses`), so a
walker that reads its keys' suspensions learns nothing either. Signals not under attack
lose nothing. That state (and the alarm) is what outlives the process: the detector hands
each change to an :class:`EdgeStore` (services/probing_state.py: the database, which every
process reloads at start-up and on each poll) as an :class:`EdgeMark` — a signal id, a
moment and a flag, never a query.

Each query costs the same small work however full the window is (issue 17): the earlier
queries within ``NEAR_BITS`` are found through exact-match tables of 64-bit chunks, and the
touched positions are counted as queries enter and leave the window (``_KeyState``).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import logging
import queue
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from stopspread.services import audit
from stopspread.services.context import Services
from stopspread.storage.db import Database
from stopspread.storage.models import (
    Bank,
    PlatformClient,
    ReviewItem,
    ReviewKind,
    ReviewStatus,
    Signal,
)

__all__ = [
    "EDGE_BAND",
    "EDGE_BLUR_BITS",
    "EDGE_STEP_SUSPEND",
    "EDGE_STEP_THROTTLE",
    "EDGE_SUSPEND",
    "EDGE_THROTTLE",
    "NEAR_BITS",
    "SUSPEND_BITS",
    "THROTTLE_BITS",
    "WINDOW",
    "EdgeAlarm",
    "EdgeLedger",
    "EdgeMark",
    "EdgeStore",
    "ProbeDetector",
    "Verdict",
    "blurred",
    "share_edges",
    "suspend_for_probing",
]

WINDOW: Final = 256  # a key's last PDQ queries the detector remembers
NEAR_BITS: Final = 3  # a query this close (but not equal) to an earlier one is a step
THROTTLE_BITS: Final = 64  # touched positions before the key is slowed
SUSPEND_BITS: Final = 96  # touched positions before the key is suspended
THROTTLE_S: Final = 60.0
MAX_KEYS: Final = 10_000
EDGE_BAND: Final = 4  # a hit farther than radius - EDGE_BAND from her hash is an edge hit
EDGE_THROTTLE: Final = 8  # edge clusters of one hash: the keys of its edge hits slowed
EDGE_SUSPEND: Final = 12  # ... and suspended
EDGE_STEP_THROTTLE: Final = 14  # positions one edge cluster's members differ in: slowed
EDGE_STEP_SUSPEND: Final = 18  # ... and suspended
EDGE_KEY_HITS: Final = 2  # edge hits on an alarmed signal that suspend a key
CLUSTER_BITS: Final = 8  # an edge hit this close to an earlier one is in its cluster
EDGE_WINDOW_S: Final = 7 * 86_400.0  # a signal's edge evidence is forgotten after a quiet week
# the blurred edge of a signal under attack: no wider than EDGE_BAND, so that every answer
# the blur decides is an edge hit (a wider blur would answer unwatched queries at random)
EDGE_BLUR_BITS: Final = EDGE_BAND
MARK_STEP_S: Final = 3_600.0  # a signal under attack: its stored end moves on at most hourly
MAX_SIGNALS: Final = 10_000


class Verdict(enum.Enum):
    ALLOW = "allow"
    THROTTLE = "throttle"
    SUSPEND = "suspend"


@dataclass(slots=True)
class _KeyState:
    """A key's last ``WINDOW`` queries, kept so that each new query costs O(1).

    Near earlier queries are found through ``CHUNKS`` exact-match tables (a query within
    ``NEAR_BITS`` < ``CHUNKS`` bits of another equals it on at least one 64-bit chunk), and
    the touched positions are counted as queries come and go, not recounted per query."""

    recent: deque[tuple[int, int]] = field(default_factory=deque)
    # per remembered query: (hash, the bits it touched as a step; 0 if it was not a step)
    throttled_until: float = 0.0
    matched_signals: set[int] = field(default_factory=set)
    suspended: bool = False
    by_chunk: dict[int, set[int]] = field(default_factory=dict)  # chunk key -> hashes
    bit_steps: list[int] = field(default_factory=lambda: [0] * 256)  # steps per position
    positions: int = 0  # positions some remembered step touched
    steps: int = 0  # remembered steps

    def nearest(self, query: int) -> tuple[int, bool]:
        """As :func:`_step` over the remembered queries, looking only at those that share a
        chunk with ``query`` (every one within ``NEAR_BITS`` does)."""
        candidates: set[int] = set()
        for key in _chunk_keys(query):
            candidates.update(self.by_chunk.get(key, ()))
        return _step(query, list(candidates))

    def remember(self, query: int, bits: int) -> None:
        if len(self.recent) >= WINDOW:
            self._forget(*self.recent.popleft())
        self.recent.append((query, bits))
        for key in _chunk_keys(query):
            self.by_chunk.setdefault(key, set()).add(query)
        if bits:
            self.steps += 1
            for position in _positions(bits):
                self.bit_steps[position] += 1
                self.positions += self.bit_steps[position] == 1

    def _forget(self, query: int, bits: int) -> None:
        for key in _chunk_keys(query):
            held = self.by_chunk[key]
            held.discard(query)
            if not held:
                del self.by_chunk[key]
        if bits:
            self.steps -= 1
            for position in _positions(bits):
                self.bit_steps[position] -= 1
                self.positions -= self.bit_steps[position] == 0

    def touched(self) -> tuple[int, int]:
        return self.positions, self.steps


CHUNKS: Final = 4  # > NEAR_BITS: a near query shares a whole chunk
_CHUNK_BITS: Final = 256 // CHUNKS
_CHUNK_MASK: Final = (1 << _CHUNK_BITS) - 1


def _chunk_keys(query: int) -> list[int]:
    return [
        (n << _CHUNK_BITS) | ((query >> (n * _CHUNK_BITS)) & _CHUNK_MASK) for n in range(CHUNKS)
    ]


def _positions(bits: int) -> Iterator[int]:
    while bits:
        low = bits & -bits
        yield low.bit_length() - 1
        bits ^= low


@dataclass(slots=True)
class _SignalEdge:
    """One enrolled signal's recent distinct edge hits (from every key) and who made them.

    Each edge hit belongs to a cluster: the cluster of the nearest earlier edge hit when that
    one is within ``CLUSTER_BITS``, else a new one; a cluster's positions are the bits in
    which its members differ from their nearest earlier member. Edge hits are rare, and a
    signal keeps at most ``WINDOW``: each is compared with them all."""

    recent: deque[tuple[int, int]] = field(default_factory=deque)  # (edge hit, its cluster)
    touched: dict[int, int] = field(default_factory=dict)  # cluster -> positions (a mask)
    members: dict[int, int] = field(default_factory=dict)  # cluster -> remembered edge hits
    keys: OrderedDict[int, int] = field(default_factory=OrderedDict)  # client id -> edge hits
    alarmed: bool = False  # its review item is opened (once)
    last: float = 0.0  # when its last edge hit came

    def add(self, client_id: int, query: int) -> tuple[int, int] | None:
        """Remember an edge hit; (its cluster's positions, clusters), None for a repeat."""
        distance, nearest, cluster = 257, 0, query
        for value, its_cluster in self.recent:
            apart = (value ^ query).bit_count()
            if apart < distance:
                distance, nearest, cluster = apart, value, its_cluster
        if distance == 0:
            return None
        if distance > CLUSTER_BITS:
            cluster, step = query, 0
        else:
            step = query ^ nearest
        self.touched[cluster] = self.touched.get(cluster, 0) | step
        self.members[cluster] = self.members.get(cluster, 0) + 1
        self.recent.append((query, cluster))
        if len(self.recent) > WINDOW:
            _, old = self.recent.popleft()
            self.members[old] -= 1
            if not self.members[old]:
                del self.members[old], self.touched[old]
        self.keys[client_id] = self.keys.pop(client_id, 0) + 1
        if len(self.keys) > WINDOW:
            self.keys.popitem(last=False)
        return self.touched.get(cluster, 0).bit_count(), len(self.members)

    def walkers(self, client_id: int) -> tuple[int, ...]:
        """The keys an alarm suspends: this hit's, and every key with 2 or more edge hits on
        the signal (a platform that once reported one copy at the edge is not one of them,
        until it makes another while the alarm lasts)."""
        return tuple(k for k, n in self.keys.items() if n >= EDGE_KEY_HITS or k == client_id)


@dataclass(frozen=True, slots=True)
class EdgeMark:
    """A signal under attack, as stored: its edge blurred until ``until`` (wall clock, UTC),
    and whether its alarm went off (every key's next new edge hit on it is suspended)."""

    signal_id: int
    until: datetime
    alarmed: bool


class EdgeStore(Protocol):
    """Where signals under attack outlive the process (services/probing_state.py)."""

    def save(self, marks: Sequence[EdgeMark]) -> None: ...

    def load(self) -> list[EdgeMark]:
        """The signals under attack now."""
        ...

    def values(self, signal_ids: Sequence[int]) -> dict[int, str]:
        """These PDQ signals' values as the index holds them (cloaked with a hash key)."""
        ...

    def query_value(self, value_hex: str) -> str:
        """A PDQ query as the index compares it (cloaked alike: distances are kept)."""
        ...


@dataclass(frozen=True, slots=True)
class EdgeAlarm:
    """Keys that walked the edge of one signal: to suspend, with a review item for it."""

    signal_id: int
    client_ids: tuple[int, ...]
    open_review: bool  # the first alarm for this signal: tell the bank's owners


class EdgeLedger(Protocol):
    """Where every process's edge hits of one signal meet (services/probing_shared.py)."""

    def share(self, signal_id: int, client_id: int, query: int) -> list[tuple[int, int]]:
        """Add one edge hit; the signal's shared (client id, query) edge hits, oldest first
        (empty: the ledger is away)."""
        ...

    def first_alarm(self, signal_id: int) -> bool:
        """Whether this is the first alarm for the signal in any process."""
        ...


log = logging.getLogger("stopspread.probing")


class ProbeDetector:
    """Observe each PDQ query of a key before it is matched; see the module docstring."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time
    ) -> None:
        self._clock, self._wall = clock, wall
        self._lock = threading.Lock()
        self._keys: OrderedDict[int, _KeyState] = OrderedDict()
        self._edges: OrderedDict[int, _SignalEdge] = OrderedDict()
        self._ledger: EdgeLedger | None = None
        self._on_alarm: Callable[[EdgeAlarm], None] = lambda alarm: None
        self._shared: queue.SimpleQueue[tuple[int, int, int] | None] = queue.SimpleQueue()
        self._sharer: threading.Thread | None = None
        self._pending_shares: list[tuple[int, int, int]] = []
        self.blurring: dict[int, float] = {}  # signal under attack -> until (clock): read lock-free
        self.closed: set[int] = set()  # signals under attack whose alarm went off
        # the closed signals' values (cloaked, as the index holds them): near misses watched;
        # replaced whole on change, so the match route reads it without the lock
        self.closed_values: dict[int, int] = {}
        self._store: EdgeStore | None = None
        self._marks: dict[int, EdgeMark] = {}  # not yet saved
        self._saved: dict[int, EdgeMark] = {}  # as last saved or loaded

    def share_edges(
        self, ledger: EdgeLedger, on_alarm: Callable[[EdgeAlarm], None], background: bool = True
    ) -> None:
        """Count edge hits with every other process too (several worker processes or hosts):
        each new edge hit goes to ``ledger`` off the request path, the signal's shared edge
        hits are counted as one process would, and an alarm goes to ``on_alarm`` (which
        suspends the keys in the database, so every process refuses them)."""
        self._ledger, self._on_alarm = ledger, on_alarm
        if background:
            self._sharer = threading.Thread(
                target=self._share_loop, name="stopspread-edge-ledger", daemon=True
            )
            self._sharer.start()

    def stop(self) -> None:
        if self._sharer is not None:
            self._shared.put(None)
            self._sharer.join(timeout=5)

    def _share_loop(self) -> None:
        while (item := self._shared.get()) is not None:
            try:
                self.share_one(*item)
                self.save_marks()
            except Exception as exc:  # the ledger or the database is away: counted locally
                log.warning("edge ledger: %s", type(exc).__name__)

    def share_one(self, signal_id: int, client_id: int, query: int) -> None:
        """One edge hit through the ledger: the signal's shared edge hits recounted."""
        if self._ledger is None:
            return
        edge, alarmed, attacked = _SignalEdge(), False, False
        for key, value in self._ledger.share(signal_id, client_id, query):
            if alarmed:  # the edge hits after the alarm: each suspends its key
                edge.keys.pop(key, None)
            evidence = edge.add(key, value)
            if evidence is not None:
                positions, clusters = evidence
                alarmed = alarmed or positions >= EDGE_STEP_SUSPEND or clusters >= EDGE_SUSPEND
                attacked = attacked or positions >= EDGE_STEP_THROTTLE or clusters >= EDGE_THROTTLE
        if attacked and not alarmed:
            with self._lock:
                self._under_attack(signal_id, self._clock(), alarmed=False)
        if not alarmed:
            return
        walkers = edge.walkers(client_id)
        with self._lock:
            for key in walkers:
                self._key(key).suspended = True
            local = self._edges.get(signal_id)
            if local is not None:
                local.alarmed = True
            self._under_attack(signal_id, self._clock(), alarmed=True)
        first = self._ledger.first_alarm(signal_id)
        self._on_alarm(EdgeAlarm(signal_id, walkers, first))

    def observe(self, client_id: int, value_hex: str) -> Verdict:
        return self.observe_upload(client_id, [value_hex])

    def observe_upload(self, client_id: int, values_hex: Sequence[str]) -> Verdict:
        """One request's PDQ queries (a plain hash, or one upload's signal-set hashes): each
        is compared with the key's earlier requests, not with the others of the same upload
        (its variants, whole and smoothed say, may sit a few bits apart)."""
        queries = [int(v, 16) for v in dict.fromkeys(values_hex)]
        now = self._clock()
        with self._lock:
            state = self._keys.pop(client_id, None) or _KeyState()
            self._keys[client_id] = state
            if len(self._keys) > MAX_KEYS:
                self._keys.popitem(last=False)
            if state.suspended:
                return Verdict.SUSPEND
            stepped = False
            new: list[tuple[int, int]] = []  # compared with earlier requests only
            for query in queries:
                step, repeat = state.nearest(query)
                if not repeat:  # an exact repeat adds nothing
                    new.append((query, step))
                stepped = stepped or bool(step)
            for query, step in new:
                state.remember(query, step)
            if stepped:
                bits, steps = state.touched()
                if bits >= SUSPEND_BITS and steps >= SUSPEND_BITS // NEAR_BITS:
                    state.suspended = True
                    return Verdict.SUSPEND
                if bits >= THROTTLE_BITS and steps >= THROTTLE_BITS // NEAR_BITS:
                    state.throttled_until = max(state.throttled_until, now + THROTTLE_S)
            if state.throttled_until > now:
                return Verdict.THROTTLE
            return Verdict.ALLOW

    def edge_hits(
        self, client_id: int, hits: Sequence[tuple[str, int, int]], radius: int
    ) -> EdgeAlarm | None:
        """One request's PDQ hits as (query, nearest signal id, distance): those at the edge
        of the radius are counted per signal, whatever key made them; an alarm names the
        keys to suspend (already marked here, so their next request is refused)."""
        alarm = None
        with self._lock:
            for value_hex, signal_id, distance in hits:
                if distance <= radius - EDGE_BAND:
                    continue
                alarm = self._edge_hit(client_id, int(value_hex, 16), signal_id) or alarm
        return alarm

    def flush_shares(self) -> None:
        """Share the edge hits queued without a background thread (simulations, tests)."""
        while self._pending_shares:
            self.share_one(*self._pending_shares.pop(0))

    def _edge_hit(self, client_id: int, query: int, signal_id: int) -> EdgeAlarm | None:
        now = self._clock()
        edge = self._edges.pop(signal_id, None)
        if edge is None or now - edge.last > EDGE_WINDOW_S:
            edge = _SignalEdge()
        edge.last = now
        self._edges[signal_id] = edge
        if len(self._edges) > MAX_SIGNALS:
            self._edges.popitem(last=False)
        if signal_id in self.blurring:  # under attack: a quiet week from its last edge hit
            self._under_attack(signal_id, now, edge.alarmed)
        evidence = edge.add(client_id, query)
        if evidence is None:
            return None
        if self._ledger is not None:
            if self._sharer is None:  # in step (the walks' simulations): after this call
                self._pending_shares.append((signal_id, client_id, query))
            else:
                self._shared.put((signal_id, client_id, query))
        positions, clusters = evidence
        if edge.alarmed or positions >= EDGE_STEP_SUSPEND or clusters >= EDGE_SUSPEND:
            walkers = edge.walkers(client_id)
            for key in walkers:
                self._key(key).suspended = True
            first, edge.alarmed = not edge.alarmed, True
            self._under_attack(signal_id, now, alarmed=True)
            return EdgeAlarm(signal_id, walkers, first)
        if positions >= EDGE_STEP_THROTTLE or clusters >= EDGE_THROTTLE:
            self._under_attack(signal_id, now, alarmed=False)
            until = now + THROTTLE_S
            for key in edge.keys:
                state = self._key(key)
                state.throttled_until = max(state.throttled_until, until)
        return None

    def _under_attack(self, signal_id: int, now: float, alarmed: bool) -> None:
        """The signal's edge is blurred until a quiet week from ``now``; the change is queued
        for the store when it is new, alarms, or moves the stored end by an hour or more.
        The caller holds the lock."""
        until = now + EDGE_WINDOW_S
        self.blurring[signal_id] = max(self.blurring.get(signal_id, 0.0), until)
        if alarmed:
            self.closed.add(signal_id)
        saved = self._marks.get(signal_id) or self._saved.get(signal_id)
        wall = datetime.fromtimestamp(self._wall() + (until - self._clock()), UTC)
        if saved is not None:
            alarmed = alarmed or saved.alarmed
            if alarmed == saved.alarmed and (wall - saved.until).total_seconds() < MARK_STEP_S:
                return
        self._marks[signal_id] = EdgeMark(signal_id, wall, alarmed)

    def edge_blur(self, signal_id: int) -> int:
        """The blurred edge's width in bits for the signal's answers: ``EDGE_BLUR_BITS`` while
        it is under attack, else 0 (a dict look-up; the match route asks only when
        :attr:`blurring` holds any signal)."""
        until = self.blurring.get(signal_id)
        return EDGE_BLUR_BITS if until is not None and until > self._clock() else 0

    def edge_closed(self, signal_id: int) -> bool:
        """Whether the signal's alarm went off: its blurred band answers "no match" outright
        (asked only when :meth:`edge_blur` is not 0)."""
        return signal_id in self.closed

    def hides(
        self,
        secret: str,
        client_id: int,
        value_hex: str,
        hit: tuple[int, int],
        radius: int,
        band: int = 0,
    ) -> bool:
        """Whether a hit (signal id, distance) is answered as a miss: under its signal's own
        blurred edge while it is under attack (one draw per query for every key; once
        alarmed, the whole band), else under ``band`` (``match_edge_blur_bits``, per key)."""
        signal_id, distance = hit
        attacked = self.edge_blur(signal_id)
        if attacked and signal_id in self.closed:
            return distance > radius - attacked
        if attacked:
            return blurred(secret, None, value_hex, distance, radius, max(band, attacked))
        return bool(band) and blurred(secret, client_id, value_hex, distance, radius, band)

    def keep_state(self, store: EdgeStore) -> None:
        """Save signals under attack to ``store`` and load the ones it holds (start-up)."""
        self._store = store
        self.reload()

    def reload(self) -> None:
        """The signals under attack that the store holds (this or another process marked
        them, before a restart too): their edges blurred, their alarms on (the poller)."""
        if self._store is None:
            return
        marks = self._store.load()
        with self._lock:
            now, wall_now = self._clock(), self._wall()
            for signal_id, until in list(self.blurring.items()):
                if until <= now:
                    del self.blurring[signal_id]
                    self.closed.discard(signal_id)
                    self._saved.pop(signal_id, None)
            for mark in marks:
                self._restore(mark, now + (mark.until.timestamp() - wall_now))
        self._fetch_values()

    def _fetch_values(self) -> None:
        """The values of newly closed signals, for :meth:`near_misses` (a database read)."""
        with self._lock:
            missing = [s for s in self.closed if s not in self.closed_values]
            stale = [s for s in self.closed_values if s not in self.closed]
        if (not missing and not stale) or self._store is None:
            return
        found = self._store.values(missing) if missing else {}
        with self._lock:
            values = {s: v for s, v in self.closed_values.items() if s in self.closed}
            values.update((s, int(v, 16)) for s, v in found.items() if s in self.closed)
            self.closed_values = values

    def near_misses(
        self, client_id: int, values_hex: Sequence[str], radius: int
    ) -> EdgeAlarm | None:
        """After a signal's alarm, a query just outside its radius (radius < d <= radius +
        ``EDGE_BAND``) suspends its key as an edge hit there does: a walker can then no
        longer tell from its key's suspension on which side of the radius a test fell
        (only asked while :attr:`closed_values` holds a signal)."""
        closed, store = self.closed_values, self._store
        if not closed or store is None:
            return None
        for value_hex in values_hex:
            query = int(store.query_value(value_hex), 16)
            for signal_id, value in closed.items():
                if radius < (query ^ value).bit_count() <= radius + EDGE_BAND:
                    with self._lock:
                        self._key(client_id).suspended = True
                    return EdgeAlarm(signal_id, (client_id,), open_review=False)
        return None

    def _restore(self, mark: EdgeMark, until: float) -> None:
        if until <= self._clock():
            return
        self.blurring[mark.signal_id] = max(self.blurring.get(mark.signal_id, 0.0), until)
        held = self._saved.get(mark.signal_id)
        if held is None or mark.until > held.until or (mark.alarmed and not held.alarmed):
            self._saved[mark.signal_id] = mark
        if mark.alarmed:
            self.closed.add(mark.signal_id)
            edge = self._edges.get(mark.signal_id)
            if edge is None:
                edge = self._edges[mark.signal_id] = _SignalEdge()
            edge.alarmed = True
            edge.last = max(edge.last, until - EDGE_WINDOW_S)

    def has_marks(self) -> bool:
        return bool(self._marks) and self._store is not None

    def save_marks(self) -> None:
        """Hand the queued changes to the store (a database write: off the event loop)."""
        with self._lock:
            marks, self._marks = list(self._marks.values()), {}
        if self._store is None or not marks:
            return
        try:
            self._store.save(marks)
        except Exception as exc:  # the database is away: kept for the next try, served alike
            log.warning("signals under attack not saved: %s", type(exc).__name__)
            with self._lock:
                for mark in marks:
                    self._marks.setdefault(mark.signal_id, mark)
            return
        with self._lock:
            for mark in marks:
                self._saved[mark.signal_id] = mark
        if any(mark.alarmed for mark in marks):
            self._fetch_values()

    def _key(self, client_id: int) -> _KeyState:
        """The key's state (made if new); the caller holds the lock."""
        state = self._keys.get(client_id)
        if state is None:
            state = self._keys[client_id] = _KeyState()
            if len(self._keys) > MAX_KEYS:
                self._keys.popitem(last=False)
        return state

    def matched(self, client_id: int, signal_ids: list[int]) -> None:
        """Remember what the key's queries matched: whose owners to tell if it probes."""
        with self._lock:
            state = self._keys.get(client_id)
            if state is not None and len(state.matched_signals) < WINDOW:
                state.matched_signals.update(signal_ids[:1])

    def matched_signals(self, client_id: int) -> list[int]:
        with self._lock:
            state = self._keys.get(client_id)
            return sorted(state.matched_signals) if state else []

    def throttle_wait(self, client_id: int) -> float:
        with self._lock:
            state = self._keys.get(client_id)
            return max(0.0, state.throttled_until - self._clock()) if state else 0.0


def _step(query: int, earlier: Sequence[int]) -> tuple[int, bool]:
    """The bits ``query`` touched as a step from its nearest earlier query (0: not a step),
    and whether it repeats one exactly."""
    if not earlier:
        return 0, False
    distance, nearest = min(((query ^ v).bit_count(), v) for v in earlier)
    step = query ^ nearest if 0 < distance <= NEAR_BITS else 0
    return step, distance == 0


def blurred(
    secret: str, client_id: int | None, value_hex: str, distance: int, radius: int, band: int
) -> bool:
    """Whether a hit at ``distance`` is answered as a miss under a blurred edge ``band`` bits
    wide: in (radius - band, radius] it answers "match" with probability
    (radius - distance + 1) / (band + 1), decided by a keyed hash of the key and the query, so
    a repeat gets the same answer and only a new query is a new draw (``match_edge_blur_bits``;
    off by default: it loses true copies at the edge, docs/security.md). ``client_id`` None:
    one draw per query for every key (a signal under attack: another key asking the same
    query gets the same answer, not a fresh draw)."""
    if distance <= radius - band:
        return False
    message = f"{'any' if client_id is None else client_id}:{value_hex}".encode()
    digest = hmac.new(secret.encode(), b"edge blur " + message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 >= (radius - distance + 1) / (band + 1)


def suspend_for_probing(
    db: Database, client_ids: Sequence[int], signal_ids: list[int], edge: bool = False
) -> None:
    """Revoke the keys and open a ``probing`` review item for each case they came near (a
    walk at one signal's edge: ``edge``, one item for its case, naming the first key). The
    item is opened even when every key was already suspended by another path (a near miss,
    the other process): the bank's owners are told once per case while one is open."""
    now = datetime.now(UTC)
    with db.write() as (session, head):
        clients = [c for c in (session.get(PlatformClient, i) for i in client_ids) if c]
        if not clients:
            return
        active = [c for c in clients if c.active]
        for client in active:
            client.active = False
        cases = _open_probing_items(session, signal_ids, (active or clients)[0].id, now)
        for client in active:
            payload = {
                "client": client.id,
                "reason": "probing at a hash's edge" if edge else "probing",
                "cases": len(cases),
            }
            audit.append(session, head, audit.AuditKind.CLIENT_SUSPENDED, payload)


def _open_probing_items(
    session: Session, signal_ids: list[int], client_id: int, now: datetime
) -> set[int | None]:
    """One open ``probing`` item for each case of ``signal_ids`` that has none yet; returns
    the cases the signals belong to."""
    if not signal_ids:
        return set()
    rows = session.execute(
        select(Signal.id, Bank.case_id)
        .join(Bank, Bank.id == Signal.bank_id)
        .where(Signal.id.in_(signal_ids))
    ).all()
    cases = {case_id for _signal, case_id in rows}
    told = set(
        session.scalars(
            select(ReviewItem.case_id).where(
                ReviewItem.kind == ReviewKind.PROBING,
                ReviewItem.status == ReviewStatus.OPEN,
                ReviewItem.case_id.in_(cases),
            )
        )
    )
    for signal_id, case_id in rows:
        if case_id in told:
            continue
        told.add(case_id)
        session.add(
            ReviewItem(
                kind=ReviewKind.PROBING,
                status=ReviewStatus.OPEN,
                case_id=case_id,
                signal_id=signal_id,
                client_id=client_id,
                hits=0,
                created_at=now,
                updated_at=now,
            )
        )
    return cases


def share_edges(detector: ProbeDetector, svc: Services) -> None:
    """Share the detector's edge hits through ``limits_url`` (services/probing_shared.py);
    an alarm suspends its keys in the database, which every process reads."""
    from stopspread.services import limits_shared, probing_shared

    ledger = probing_shared.SharedEdgeLedger(
        limits_shared.connect(str(svc.settings.limits_url)), svc.server_key
    )

    def on_alarm(alarm: EdgeAlarm) -> None:
        signals = [alarm.signal_id] if alarm.open_review else []
        suspend_for_probing(svc.db, alarm.client_ids, signals, edge=True)

    detector.share_edges(ledger, on_alarm)
