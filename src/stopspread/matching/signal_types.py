"""Signal types: what each kind of signal is, how its text is checked, how it is indexed and
when two of them match — one class per type, in one registry (the idea of
python-threatexchange's ``SignalType``).

- :class:`PdqSignal` — a 256-bit PDQ hash, 64 hex digits; matched within a Hamming radius
  through a :class:`~stopspread.matching.HashIndex`. vPDQ video frames are enrolled and
  matched as PDQ signals; the whole-video rule is :mod:`stopspread.matching.video`.
- :class:`Md5Signal` — the MD5 of a file's bytes, 32 hex digits; matched only when equal.

``SIGNAL_TYPES`` maps each type's :attr:`~SignalKind.name` (the name the database stores:
``storage.models.SignalType`` holds the same values as an enum) to its one instance. Code that
handles signals asks the registry instead of branching on the name.

**The match-policy hook.** :meth:`SignalKind.is_match` decides whether a distance between two
values of the type is a match under a threshold a caller passes in. The thresholds themselves
belong to the one match policy (:mod:`stopspread.matching.policy`: 29 bits for images, 31 a
video frame by default, from the settings), not to the type.

A pure module: no database, no web framework, no I/O.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import ClassVar, Final, Protocol

import numpy as np

from stopspread.errors import HashFormatError
from stopspread.hashing.pdq import PdqHash
from stopspread.matching.base import HASH_BYTES, HashArray, HashIndex, IdArray
from stopspread.matching.index import MihIndex

__all__ = [
    "MD5",
    "PDQ",
    "SIGNAL_TYPES",
    "HashIndexFactory",
    "Md5Signal",
    "PdqSignal",
    "SignalIndex",
    "SignalIndexBuilder",
    "SignalKind",
    "md5_rows",
    "pdq_hash_index",
    "pdq_query_near",
]

Row = tuple[int, str]  # (signal id, canonical value)
# Makes the hash index a PDQ signal index wraps, optionally bulk-built from arrays (the
# ``index_kind`` setting picks the class: services.replica.make_index).
HashIndexFactory = Callable[[HashArray | None, IdArray | None], HashIndex]


class SignalIndex(Protocol):
    """The signals of one type a process matches against. Not thread-safe by itself: the
    caller serialises writers, and also searches unless :attr:`lock_free` is true."""

    @property
    def lock_free(self) -> bool:
        """Whether :meth:`query` may run concurrently with writers."""
        ...

    def __len__(self) -> int: ...

    def add(self, rows: Sequence[Row]) -> None:
        """Store signals (several ids may share a value)."""
        ...

    def remove(self, ids: Sequence[int]) -> None:
        """Forget these signal ids (ids of other types or unknown ids are ignored)."""
        ...

    def query(self, value: str, threshold: int) -> list[int]:
        """Ids whose value matches ``value`` under ``threshold``, closest first (ties: lowest
        id). ``value`` is canonical (see :meth:`SignalKind.validate`)."""
        ...


class SignalIndexBuilder(Protocol):
    """Collects rows in batches (start-up loads), then builds the index in one step."""

    def add(self, rows: Sequence[Row]) -> None: ...

    def build(self) -> SignalIndex: ...


class SignalKind(ABC):
    """One signal type: its persisted name, its text form, its index, its match rule."""

    name: ClassVar[str]  # stored in the database and sent by API clients
    format_hint: ClassVar[str]  # said to a client whose value does not parse (no value echoed)

    @abstractmethod
    def validate(self, text: str) -> str:
        """The canonical text of a value (trimmed, lower-case hex); raises
        :class:`~stopspread.errors.HashFormatError` for anything else."""

    @abstractmethod
    def distance(self, a: str, b: str) -> int:
        """How far apart two canonical values are (0: the same)."""

    def is_match(self, distance: int, threshold: int) -> bool:
        """The match-policy hook: is ``distance`` a match under the caller's ``threshold``?"""
        return distance <= threshold

    @abstractmethod
    def index_builder(self, factory: HashIndexFactory) -> SignalIndexBuilder:
        """A builder for this type's index; ``factory`` makes hash indexes where one is used."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class PdqSignal(SignalKind):
    """A PDQ hash: 64 hex digits in Meta's bit order, matched within a Hamming radius."""

    name = "pdq"
    format_hint = "a pdq value must be 64 hex characters"

    def validate(self, text: str) -> str:
        return PdqHash.from_hex(text.strip().lower()).hex

    def distance(self, a: str, b: str) -> int:
        return PdqHash.from_hex(a).distance(PdqHash.from_hex(b))

    def index_builder(self, factory: HashIndexFactory) -> SignalIndexBuilder:
        return _PdqBuilder(factory)


class Md5Signal(SignalKind):
    """The MD5 of a file's bytes: 32 hex digits, matched only by the same digest."""

    name = "md5"
    format_hint = "an md5 value must be 32 hex characters"
    _FORM: Final = re.compile(r"[0-9a-f]{32}")

    def validate(self, text: str) -> str:
        canonical = text.strip().lower()
        if not self._FORM.fullmatch(canonical):
            raise HashFormatError("an MD5 digest is 32 hex digits")
        return canonical

    def distance(self, a: str, b: str) -> int:
        return 0 if a == b else 1

    def is_match(self, distance: int, threshold: int) -> bool:
        """Exact only: the same digest, whatever the threshold."""
        return distance == 0

    def index_builder(self, factory: HashIndexFactory) -> SignalIndexBuilder:
        return _Md5Index()


PDQ: Final = PdqSignal()
MD5: Final = Md5Signal()
SIGNAL_TYPES: Final[Mapping[str, SignalKind]] = {kind.name: kind for kind in (PDQ, MD5)}


def _rows_to_arrays(rows: Sequence[Row]) -> tuple[HashArray, IdArray]:
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    blob = bytes.fromhex("".join(r[1] for r in rows))
    return np.frombuffer(blob, dtype=np.uint8).reshape(-1, HASH_BYTES), ids


class _PdqIndex:
    """PDQ signals in a :class:`HashIndex`; a :class:`MihIndex` is searched without a lock."""

    def __init__(self, index: HashIndex) -> None:
        self._index = index
        self._lock_free = isinstance(index, MihIndex)

    @property
    def lock_free(self) -> bool:
        return self._lock_free

    def __len__(self) -> int:
        return len(self._index)

    @property
    def hash_index(self) -> HashIndex:
        return self._index

    def add(self, rows: Sequence[Row]) -> None:
        if rows:
            self._index.add(*_rows_to_arrays(rows))

    def remove(self, ids: Sequence[int]) -> None:
        self._index.remove(np.asarray(ids, dtype=np.int64))

    def query(self, value: str, threshold: int) -> list[int]:
        return [signal_id for signal_id, _ in self.query_near(value, threshold)]

    def query_near(self, value: str, threshold: int) -> list[tuple[int, int]]:
        """As :meth:`query`, with each id's distance in bits (the probing detector's edge)."""
        query = np.frombuffer(bytes.fromhex(value), dtype=np.uint8).reshape(1, HASH_BYTES)
        found = self._index.search(query, threshold)
        return [(m.id, m.distance) for m in sorted(found, key=lambda m: (m.distance, m.id))]


class _PdqBuilder:
    """Keeps each batch as arrays (not rows of text), then builds the index in one step."""

    def __init__(self, factory: HashIndexFactory) -> None:
        self._factory = factory
        self._hashes: list[HashArray] = []
        self._ids: list[IdArray] = []

    def add(self, rows: Sequence[Row]) -> None:
        if rows:
            hashes, ids = _rows_to_arrays(rows)
            self._hashes.append(hashes)
            self._ids.append(ids)

    def build(self) -> SignalIndex:
        hashes = (
            np.concatenate(self._hashes)
            if self._hashes
            else np.empty((0, HASH_BYTES), dtype=np.uint8)
        )
        ids = np.concatenate(self._ids) if self._ids else np.empty(0, dtype=np.int64)
        return _PdqIndex(self._factory(hashes, ids))


class _Md5Index:
    """MD5 signals in a dict: digest → ids. Serves as its own builder."""

    lock_free = False

    def __init__(self) -> None:
        self._ids: dict[str, set[int]] = {}
        self._value_of: dict[int, str] = {}

    def __len__(self) -> int:
        return sum(len(ids) for ids in self._ids.values())

    def add(self, rows: Sequence[Row]) -> None:
        for sid, value in rows:
            self._ids.setdefault(value, set()).add(sid)
            self._value_of[sid] = value

    def remove(self, ids: Sequence[int]) -> None:
        for sid in ids:
            value = self._value_of.pop(sid, None)
            if value is not None:
                self._ids[value].discard(sid)
                if not self._ids[value]:
                    del self._ids[value]

    def query(self, value: str, threshold: int) -> list[int]:
        return sorted(self._ids.get(value, ()))

    def rows(self) -> Iterable[Row]:
        return self._value_of.items()

    def build(self) -> SignalIndex:
        return self


def pdq_hash_index(index: SignalIndex) -> HashIndex:
    """The :class:`HashIndex` under a PDQ signal index (for snapshots)."""
    if not isinstance(index, _PdqIndex):
        raise TypeError("not a PDQ signal index")
    return index.hash_index


def pdq_query_near(index: SignalIndex, value: str, threshold: int) -> list[tuple[int, int]] | None:
    """(id, distance) pairs of a PDQ signal index's matches, closest first; None for an
    index of another type (exact types have no distance)."""
    if not isinstance(index, _PdqIndex):
        return None
    return index.query_near(value, threshold)


def md5_rows(index: SignalIndex) -> list[Row]:
    """Every (id, digest) pair of an MD5 signal index (for snapshots)."""
    if not isinstance(index, _Md5Index):
        raise TypeError("not an MD5 signal index")
    return list(index.rows())
