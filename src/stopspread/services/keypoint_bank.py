"""The platform API's keypoint bank: ``ss-kp-1`` for ``/v1/match`` (issue 14).

Per process, like the PDQ index, an inverted file of every stored keypoint record that names
its photo's PDQ signal — the records themselves stay in the database, sealed. A lookup:

1. **shortlist**: the upload's query sets (``hashing.keypoints.query_keypoint_sets``: the
   upload, its mirror, its content block) through a visual vocabulary and an inverted file
   (``matching.keypoint_index``; the strongest :data:`INDEXED_PER_PHOTO` descriptors of each
   photo are indexed), the best ``shortlist`` photos by tf-idf score;
2. **read** those photos' records from the database in one query and open them with their
   case keys (``services.keypoint_records.open_records``): a photo withdrawn since the last
   poll is no longer there, a record that cannot be opened is left out — a miss, never an
   error;
3. **verify** every one of them with ``matching.keypoint_verify`` (its default rule, as scans
   use it) — every photo against every query set, hit or miss (no early stop), so a hit
   takes as long as a miss;
4. the answer: the PDQ signal of the first (best scored) verified photo, or none.

Memory: a photo costs its words (its indexed descriptors' vocabulary words, 2 bytes each
with up to 65,536 words, to rebuild the index), their signatures (1 byte each with
``ss-kp-vocab-2``'s 8 bits) and its postings: 1.0-1.7 KB a photo measured with
``ss-kp-vocab-1``, instead of the ~16 KB (its opened record) an earlier version kept
(``bench/keypoints_bank.py``, ``docs/robustness.md``); each index also holds one offset a
sub-list (20 MB with 10^4 words and 8 bits). No opened record is cached
between lookups: reading 4 rows costs little next to verifying them, and a cache would
outlive a withdrawal until the next poll.

The vocabulary is ``ss-kp-vocab-2`` (``ss-kp-vocab-1``'s 10^4 words and 8 signature bits a
word: a lookup walks only the sub-lists within 1 bit of each query descriptor's signature),
shipped in the package (``matching/vocab``, built
reproducibly by ``bench/keypoints_vocabulary.py`` from DEV photos only); the setting
``keypoint_vocabulary_dir`` names another one. Its idf is fixed, so new photos never reweight
the others: the index built at start-up stays, enrolments since then go into a small *delta*
index (rebuilt on each change), withdrawals are dropped at once and filtered out of the
shortlists until :data:`MERGE_AFTER` changes rebuild one index. Records enrolled without
their photo's PDQ signal cannot open a review and are left out. Nothing here logs a record.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from stopspread.hashing.keypoints import KeypointSet
from stopspread.matching import keypoint_index
from stopspread.matching.keypoint_index import KeypointIndex, Vocabulary
from stopspread.matching.keypoint_verify import DEFAULT_VERIFY_RULE, VerifyRule, measure
from stopspread.services.context import Services
from stopspread.services.custody import EvidenceStore
from stopspread.services.keypoint_records import (
    EnrolledKeypoints,
    open_records,
    record_counts,
    record_ids,
    records_after,
)
from stopspread.storage.db import Database

__all__ = [
    "DEFAULT_SHORTLIST",
    "INDEXED_PER_PHOTO",
    "MAX_QUERY_SETS",
    "VOCABULARY_NAME",
    "KeypointBank",
    "build_keypoint_bank",
    "load_vocabulary",
    "shipped_vocabulary_dir",
]

VOCABULARY_NAME: Final = "ss-kp-vocab-2"
INDEXED_PER_PHOTO: Final = 200  # strongest descriptors of a photo in the inverted file
DEFAULT_SHORTLIST: Final = 4  # photos verified per query (3-5 ms each)
MAX_QUERY_SETS: Final = 3  # the upload, its mirror, its content block
MERGE_AFTER: Final = 2000  # enrolments + withdrawals since start-up before one index is rebuilt
_READ_BATCH: Final = 1000

log = logging.getLogger("stopspread.keypoints")

StoreFactory = Callable[[], EvidenceStore]


def shipped_vocabulary_dir() -> Path:
    """The vocabulary shipped in the package."""
    return Path(__file__).resolve().parents[1] / "matching" / "vocab" / VOCABULARY_NAME


def load_vocabulary(folder: Path | None = None) -> Vocabulary:
    """The vocabulary saved in ``folder`` (a vocabulary or an index folder; ``None``: the
    shipped one).
    :class:`~stopspread.errors.IndexFormatError` when it is not one."""
    return keypoint_index.load_vocabulary(folder or shipped_vocabulary_dir())


@dataclass(frozen=True, slots=True, eq=False)
class _Photo:
    """What the bank keeps of an enrolled photo: no descriptor, no keypoint."""

    signal_id: int
    words: npt.NDArray[np.unsignedinteger[Any]]  # its indexed descriptors' words
    signatures: npt.NDArray[np.unsignedinteger[Any]] | None = None  # with signature bits

    def __repr__(self) -> str:
        return f"_Photo(signal_id={self.signal_id})"


def _empty(vocabulary: Vocabulary) -> KeypointIndex:
    none = np.zeros(0, np.int64)
    return KeypointIndex.from_words(vocabulary, none, none, none, signatures=none)


def _index(vocabulary: Vocabulary, photos: dict[int, _Photo]) -> KeypointIndex:
    if not photos:
        return _empty(vocabulary)
    ids = np.fromiter(photos, np.int64, len(photos))
    lengths = [len(p.words) for p in photos.values()]
    owners = np.repeat(np.arange(len(ids), dtype=np.int64), lengths)
    words = np.concatenate([p.words for p in photos.values()]).astype(np.int64)
    signatures = None
    if vocabulary.signature_bits:
        signatures = np.concatenate(
            [p.signatures for p in photos.values() if p.signatures is not None]
        ).astype(np.int64)
    return KeypointIndex.from_words(vocabulary, ids, owners, words, signatures=signatures)


class KeypointBank:
    """The enrolled photos' keypoints of one process; :meth:`find` is thread-safe."""

    def __init__(
        self,
        db: Database,
        store: StoreFactory,
        vocabulary: Vocabulary,
        shortlist: int = DEFAULT_SHORTLIST,
        rule: VerifyRule = DEFAULT_VERIFY_RULE,
    ) -> None:
        if shortlist < 1:
            raise ValueError("the shortlist holds at least one photo")
        self._db, self._store_factory = db, store
        self._store: EvidenceStore | None = None
        self._vocabulary, self._shortlist, self._rule = vocabulary, shortlist, rule
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._photos: dict[int, _Photo] = {}  # record id -> photo (only live ones)
        self._known: set[int] = set()  # every record id read, left out or not
        self._last_id = 0
        self._static = _empty(vocabulary)
        self._delta_ids: set[int] = set()
        self._delta = self._static
        self._removed = 0  # withdrawn since the static index was built
        self.load_s = 0.0  # seconds the first load took (start-up cost)

    def __len__(self) -> int:
        return len(self._photos)

    def _evidence(self) -> EvidenceStore:
        if self._store is None:  # only when a record exists: no evidence key made for none
            self._store = self._store_factory()
        return self._store

    def load(self) -> KeypointBank:
        """Read every record and build the index (start-up); returns itself."""
        started = time.perf_counter()
        self.sync()
        with self._lock:
            self._merge()
        self.load_s = time.perf_counter() - started
        return self

    def sync(self) -> bool:
        """Enrolments and withdrawals since the last call (the poller's clock: one small
        query when nothing changed); True when anything changed."""
        with self._sync_lock:
            with self._db.read() as session:
                newest, count = record_counts(session)
            added = self._read_new() if newest > self._last_id else {}
            removed = self._read_removed() if count < len(self._known) else set()
            if not added and not removed:
                return False
            with self._lock:
                for record_id in removed:
                    self._removed += self._photos.pop(record_id, None) is not None
                    self._delta_ids.discard(record_id)
                self._photos.update(added)
                self._delta_ids.update(added)
                if len(self._delta_ids) + self._removed > MERGE_AFTER:
                    self._merge()
                else:
                    delta = {i: self._photos[i] for i in self._delta_ids}
                    self._delta = _index(self._vocabulary, delta)
            return True

    def _merge(self) -> None:
        """One index of every live photo (under the lock)."""
        self._static = _index(self._vocabulary, self._photos)
        self._delta_ids, self._delta, self._removed = set(), _empty(self._vocabulary), 0

    def _read_new(self) -> dict[int, _Photo]:
        added: dict[int, _Photo] = {}
        while True:
            with self._db.read() as session:
                batch = records_after(session, self._evidence(), self._last_id, _READ_BATCH)
            for record in batch:
                self._known.add(record.record_id)
                photo = self._photo(record)
                if photo is not None:
                    added[record.record_id] = photo
            if batch:
                self._last_id = batch[-1].record_id
            if len(batch) < _READ_BATCH:
                return added

    def _photo(self, record: EnrolledKeypoints) -> _Photo | None:
        if record.signal_id is None or len(record.keypoints) == 0:
            return None
        rows = record.keypoints.descriptors[:INDEXED_PER_PHOTO]
        words = self._vocabulary.quantise(rows)
        small = np.uint16 if self._vocabulary.words <= 2**16 else np.uint32
        signatures: npt.NDArray[np.unsignedinteger[Any]] | None = None
        if self._vocabulary.signature_bits:  # 1 byte each up to 8 bits
            sigs = self._vocabulary.signatures(rows, words)
            signatures = sigs.astype(
                np.uint8 if self._vocabulary.signature_bits <= 8 else np.uint16
            )
        return _Photo(record.signal_id, words.astype(small), signatures)

    def _read_removed(self) -> set[int]:
        with self._db.read() as session:
            present = record_ids(session)
        gone = self._known - present
        self._known -= gone
        return gone

    def find(self, queries: Sequence[KeypointSet]) -> int | None:
        """The PDQ signal id of the enrolled photo the upload's query sets verify against
        (the best scored of the shortlist), or None. Every shortlisted photo is verified."""
        sets = [q.descriptors for q in queries if len(q)]
        with self._lock:
            static, delta, removed = self._static, self._delta, self._removed
        top = self._shortlist + removed
        ranked = sorted(
            (
                (float(score), int(i))
                for part in (static.search(sets, top), delta.search(sets, top))
                for i, score in zip(part.ids, part.scores, strict=True)
            ),
            reverse=True,
        )
        with self._lock:
            live = [i for _score, i in ranked if i in self._photos][: self._shortlist]
        found: int | None = None
        for record in self._read(live):  # every photo against every set: hit costs = miss
            checks = [measure(query, record.keypoints, self._rule) for query in queries]
            if found is None and record.signal_id is not None and any(c.verified for c in checks):
                found = record.signal_id
        return found

    def _read(self, record_ids: list[int]) -> list[EnrolledKeypoints]:
        """The shortlisted records still stored and readable, opened, in shortlist order."""
        if not record_ids:
            return []
        with self._db.read() as session:
            opened = open_records(session, self._evidence(), record_ids)
        if len(opened) < len(record_ids):  # withdrawn since the last poll, or unreadable
            log.info(
                "keypoint bank: %d of %d shortlisted records not read",
                len(record_ids) - len(opened),
                len(record_ids),
            )
        return [opened[i] for i in record_ids if i in opened]


def build_keypoint_bank(svc: Services) -> KeypointBank | None:
    """This process's bank, loaded (None: ``keypoint_shortlist`` is 0, the path is off)."""
    settings = svc.settings
    if settings.keypoint_shortlist == 0:
        return None
    vocabulary = load_vocabulary(settings.keypoint_vocabulary_dir)

    def store() -> EvidenceStore:
        return EvidenceStore.from_settings(settings, svc.db)

    bank = KeypointBank(svc.db, store, vocabulary, settings.keypoint_shortlist).load()
    log.info("keypoint bank: %d photos loaded in %.2f s", len(bank), bank.load_s)
    return bank
