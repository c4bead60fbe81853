"""The ``ss-kp-1`` shortlist at scale: a visual vocabulary and an inverted file (issue 14).

Looking every query descriptor up in the exact Hamming index costs a Hamming search per
descriptor; at a million photos that is over the lookup budget (``docs/robustness.md``).
The standard retrieval design instead quantises each 256-bit ORB descriptor to a *word*:

- :class:`Vocabulary` — a hierarchical k-majority tree (``branching`` children a node,
  ``depth`` levels: 10 and 5 give 100,000 words, as in DBoW-style retrieval). Each node's
  centre is the bitwise majority of the descriptors it holds; a descriptor descends to the
  nearest child by Hamming distance at each level. Trained once on a corpus that is *not*
  the enrolled bank (the dev corpus); each word's rarity (idf = log of photos / photos
  holding it) is fixed at training, so enrolling a photo never reweights the others.
- :class:`KeypointIndex` — per word the enrolled photos holding it (an inverted file, CSR),
  each with its tf-idf weight, every photo's vector scaled to length 1. A lookup quantises
  the query's sets (the upload and its mirror), adds up weights over the posting lists of
  its words and returns the ``top`` photos by score: a *shortlist* for the geometric check
  (``matching.keypoint_verify``), not a match.

The cost of a lookup is the length of the posting lists hit, not a Hamming search. Both
hot loops — descending the tree and adding up the posting lists, then the top few — run in
C (``_kpcore.c``, :attr:`Kernel.NATIVE`); the numpy code they replace stays as the
reference (:attr:`Kernel.NUMPY`) the tests compare them with.
:func:`KeypointIndex.save` writes plain ``.npy`` arrays and a JSON header into a folder;
:func:`KeypointIndex.load` maps them read-only (``mmap``), checking every size and bound.
A pure module: arrays in, photo ids out.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from stopspread.errors import IndexFormatError
from stopspread.matching import _kpcore

__all__ = [
    "DEFAULT_BRANCHING",
    "DEFAULT_DEPTH",
    "Kernel",
    "KeypointIndex",
    "Shortlist",
    "Vocabulary",
    "train_vocabulary",
]

DEFAULT_BRANCHING: Final = 10
DEFAULT_DEPTH: Final = 5
DESCRIPTOR_BYTES: Final = 32  # ORB: 256 bits, four 64-bit words
_WORDS64: Final = DESCRIPTOR_BYTES // 8
_FORMAT: Final = "ss-kp-index-1"
_ITERATIONS: Final = 6  # k-majority rounds per node (assignments settle after a few)
_NATIVE_TOP: Final = 4096  # the C core's longest shortlist; longer ones use numpy
_SCORE_BLOCK: Final = 1 << 16  # photos scored at a time by the C core: 256 KB of float32

Descriptors = npt.NDArray[np.uint8]  # (n, 32)
Packed = npt.NDArray[np.uint64]  # (n, 4)


class Kernel(Enum):
    """Which code computes a lookup: the C core, or the numpy reference it must agree with."""

    NATIVE = "native"
    NUMPY = "numpy"


def _packed(descriptors: Descriptors) -> Packed:
    rows = np.ascontiguousarray(descriptors, dtype=np.uint8)
    if rows.ndim != 2 or rows.shape[1] != DESCRIPTOR_BYTES:
        raise ValueError(f"descriptors are (n, {DESCRIPTOR_BYTES}) bytes")
    return rows.view(np.uint64)


def _distances(rows: Packed, centres: Packed) -> npt.NDArray[np.int64]:
    """Hamming distances (n, k) of every row to every centre."""
    out = np.bitwise_count(rows[:, None, :] ^ centres[None, :, :]).sum(axis=2, dtype=np.int64)
    return np.asarray(out, dtype=np.int64)


def _majority(rows: Packed) -> Packed:
    """The bitwise majority of ``rows`` (ties to 0), one packed row."""
    bits = np.unpackbits(rows.view(np.uint8), axis=1)
    centre = np.packbits(bits.sum(axis=0, dtype=np.int64) * 2 > len(rows))
    return centre.view(np.uint64).reshape(1, _WORDS64)


def _k_majority(rows: Packed, k: int, rng: np.random.Generator) -> Packed:
    """``k`` centres for ``rows``: seeded far apart (k-means++), then majority rounds.
    Fewer rows than ``k``: the rows themselves, the last repeated (its duplicates stay empty)."""
    if len(rows) <= k:
        pad = np.repeat(rows[-1:], k - len(rows), axis=0)
        return np.concatenate([rows, pad]) if len(pad) else rows.copy()
    centres = rows[[int(rng.integers(len(rows)))]]
    nearest = _distances(rows, centres)[:, 0].astype(np.float64)
    while len(centres) < k:
        weight = nearest**2
        pick = int(rng.choice(len(rows), p=weight / weight.sum())) if weight.sum() else 0
        centres = np.concatenate([centres, rows[pick : pick + 1]])
        nearest = np.minimum(nearest, _distances(rows, rows[pick : pick + 1])[:, 0])
    for _ in range(_ITERATIONS):
        owner = _distances(rows, centres).argmin(axis=1)
        fresh = np.concatenate(
            [
                _majority(rows[owner == c]) if (owner == c).any() else centres[c : c + 1]
                for c in range(k)
            ]
        )
        if np.array_equal(fresh, centres):
            break
        centres = fresh
    return centres


@dataclass(frozen=True, slots=True, eq=False)
class Vocabulary:
    """A complete k-majority tree in level order: node ``i``'s children are
    ``i * branching + 1 ... i * branching + branching``; node 0 is the root (its row unused).
    ``centres`` is (nodes, 4) uint64; ``idf`` one weight per leaf word."""

    branching: int
    depth: int
    centres: Packed
    idf: npt.NDArray[np.float32]

    def __post_init__(self) -> None:
        if self.branching < 2 or self.depth < 1:
            raise ValueError("branching >= 2 and depth >= 1")
        if self.centres.shape != (self.nodes, _WORDS64) or self.idf.shape != (self.words,):
            raise ValueError("centres and idf do not fit branching and depth")

    @property
    def words(self) -> int:
        return int(self.branching**self.depth)

    @property
    def nodes(self) -> int:
        return _nodes(self.branching, self.depth)

    @property
    def first_leaf(self) -> int:
        return int(self.branching**self.depth - 1) // (self.branching - 1)

    def quantise(
        self, descriptors: Descriptors, kernel: Kernel = Kernel.NATIVE
    ) -> npt.NDArray[np.int64]:
        """The word (0 ... words - 1) of each descriptor: nearest child, level by level
        (ties to the first child)."""
        rows = _packed(descriptors)
        if kernel is Kernel.NATIVE:
            out = np.empty(len(rows), np.int64)
            centres = np.ascontiguousarray(self.centres, np.uint64)
            _kpcore.quantise(centres, self.branching, self.depth, rows, out)
            return out
        node = np.zeros(len(rows), np.int64)
        steps = np.arange(1, self.branching + 1, dtype=np.int64)
        for _ in range(self.depth):
            children = node[:, None] * self.branching + steps  # (n, k)
            dist = np.bitwise_count(rows[:, None, :] ^ self.centres[children]).sum(axis=2)
            node = children[np.arange(len(rows)), dist.argmin(axis=1)]
        return node - self.first_leaf


def train_vocabulary(
    photos: Sequence[Descriptors],
    branching: int = DEFAULT_BRANCHING,
    depth: int = DEFAULT_DEPTH,
    seed: int = 0,
) -> Vocabulary:
    """A vocabulary from the descriptors of training ``photos`` (one array per photo):
    k-majority clustering node by node, then idf = log(photos / photos holding the word)
    (a word no training photo holds gets the largest weight, log(photos))."""
    sets = [_packed(p) for p in photos if len(p)]
    if not sets:
        raise ValueError("no training descriptors")
    rows = np.concatenate(sets)
    rng = np.random.default_rng(seed)
    centres = np.zeros((_nodes(branching, depth), _WORDS64), np.uint64)
    members: list[tuple[int, npt.NDArray[np.intp]]] = [(0, np.arange(len(rows)))]
    for _ in range(depth):
        below: list[tuple[int, npt.NDArray[np.intp]]] = []
        for node, held in members:
            first = node * branching + 1
            if not len(held):  # an empty node: children copy its centre, stay empty
                centres[first : first + branching] = centres[node]
                below += [(first + c, held) for c in range(branching)]
                continue
            kids = _k_majority(rows[held], branching, rng)
            centres[first : first + branching] = kids
            owner = _distances(rows[held], kids).argmin(axis=1)
            below += [(first + c, held[owner == c]) for c in range(branching)]
        members = below
    vocab = Vocabulary(branching, depth, centres, np.zeros(branching**depth, np.float32))
    holding = np.zeros(vocab.words, np.int64)
    for p in sets:
        holding[np.unique(vocab.quantise(p.view(np.uint8)))] += 1
    idf = np.log(len(sets) / np.maximum(holding, 1)).astype(np.float32)
    idf[holding == 0] = math.log(len(sets))
    return Vocabulary(branching, depth, centres, idf)


# Each thread's float32 score array, as long as the largest index it looked up in: the C core
# leaves it all 0, so every lookup of that thread (any index) reuses it without clearing.
_SCRATCH: Final = threading.local()


def _scratch(n: int) -> npt.NDArray[np.float32]:
    held: npt.NDArray[np.float32] | None = getattr(_SCRATCH, "scores", None)
    if held is None or len(held) < n:
        held = np.zeros(n, np.float32)
        _SCRATCH.scores = held
    return held[:n]


def _nodes(branching: int, depth: int) -> int:
    return int(branching ** (depth + 1) - 1) // (branching - 1)


@dataclass(frozen=True, slots=True)
class Shortlist:
    """Photo ids, best first, with their scores (cosine of tf-idf vectors, summed over the
    query's sets)."""

    ids: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True, eq=False)
class KeypointIndex:
    """An inverted file over a vocabulary. ``offsets`` (words + 1, int64) cut ``postings``
    (uint32 positions into ``ids``) and ``weights`` (float16, the photo's normalised tf-idf
    weight of the word) into one list per word."""

    vocabulary: Vocabulary
    ids: npt.NDArray[np.int64]
    offsets: npt.NDArray[np.int64]
    postings: npt.NDArray[np.uint32]
    weights: npt.NDArray[np.float16]

    @classmethod
    def build(
        cls,
        vocabulary: Vocabulary,
        ids: Sequence[int],
        photos: Sequence[Descriptors],
        min_idf: float = 0.0,
    ) -> KeypointIndex:
        """An index of ``photos`` (each the descriptors to index, e.g. its strongest few),
        without stop words (idf below ``min_idf``, see :meth:`from_words`)."""
        if len(ids) != len(photos):
            raise ValueError("one id per photo")
        words = [vocabulary.quantise(p) if len(p) else np.zeros(0, np.int64) for p in photos]
        owners = np.repeat(np.arange(len(photos), dtype=np.int64), [len(w) for w in words])
        flat = np.concatenate(words) if words else np.zeros(0, np.int64)
        return cls.from_words(vocabulary, np.asarray(ids, np.int64), owners, flat, min_idf)

    @classmethod
    def from_words(
        cls,
        vocabulary: Vocabulary,
        ids: npt.NDArray[np.int64],
        owners: npt.NDArray[np.int64],
        words: npt.NDArray[np.int64],
        min_idf: float = 0.0,
    ) -> KeypointIndex:
        """An index from quantised rows: ``owners[i]`` (a position in ``ids``) holds
        ``words[i]``. Repeats of a word in one photo add up (term frequency). Words whose
        idf is below ``min_idf`` are *stop words*: common in the training photos, they
        separate photos least and make the longest lists, so they are not indexed."""
        n = len(ids)
        if len(owners) != len(words) or (len(owners) and (owners.min() < 0 or owners.max() >= n)):
            raise ValueError("owners are positions in ids, one per word")
        if n >= 2**32:
            raise ValueError("at most 2**32 - 1 photos")
        if min_idf > 0:
            kept = vocabulary.idf[words] >= min_idf
            owners, words = owners[kept], words[kept]
        key = words * n + owners
        key.sort()  # by word, then photo; in place (a bank's rows are the memory peak)
        first = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]])) if len(key) else key
        tf = np.diff(np.append(first, len(key)))
        pair_word, pair_owner = np.divmod(key[first], max(n, 1))
        del key
        weight = tf * vocabulary.idf[pair_word].astype(np.float64)
        norm = np.sqrt(np.bincount(pair_owner, weight**2, minlength=n))
        weight /= np.where(norm > 0, norm, 1.0)[pair_owner]
        per_word = np.bincount(pair_word, minlength=vocabulary.words)
        offsets = np.concatenate([[0], np.cumsum(per_word)]).astype(np.int64)
        return cls(
            vocabulary,
            np.ascontiguousarray(ids, np.int64),
            offsets,
            pair_owner.astype(np.uint32),
            weight.astype(np.float16),
        )

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def nbytes(self) -> int:
        """Bytes of the inverted file (not the vocabulary, which is shared and fixed)."""
        return int(
            self.ids.nbytes + self.offsets.nbytes + self.postings.nbytes + self.weights.nbytes
        )

    def _query_vector(
        self, descriptors: Descriptors, kernel: Kernel
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        words, tf = np.unique(self.vocabulary.quantise(descriptors, kernel), return_counts=True)
        weight = np.asarray(tf * self.vocabulary.idf[words], np.float64)
        norm = float(np.sqrt((weight**2).sum()))
        return words, weight / (norm or 1.0)

    def search(
        self,
        query_sets: Sequence[Descriptors],
        top: int,
        max_words: int | None = None,
        *,
        kernel: Kernel = Kernel.NATIVE,
        max_postings: int | None = None,
    ) -> Shortlist:
        """The ``top`` photos by tf-idf score, summed over ``query_sets`` (the upload and its
        mirror: a true copy scores high on one of them, the other adds chance). With
        ``max_words``, each set looks up only that many of its words, those with the shortest
        posting lists (the rarest in the bank): the cost of a lookup is then bounded.
        ``kernel``: the C core (float32 sums, ties to the earlier photo) or the numpy
        reference (float64 sums); they agree up to float rounding. With ``max_postings``,
        words whose list is longer are skipped: the bank's own stop words, at lookup time."""
        parts_w, parts_q = [], []
        for descriptors in query_sets:
            if len(descriptors):
                words, weight = self._query_vector(descriptors, kernel)
                lengths = self.offsets[words + 1] - self.offsets[words]
                held = lengths > 0  # words no enrolled photo holds cost nothing: left out
                if max_postings is not None:
                    held &= lengths <= max_postings
                words, weight, lengths = words[held], weight[held], lengths[held]
                if max_words is not None and len(words) > max_words:
                    keep = np.argpartition(lengths, max_words - 1)[:max_words]
                    words, weight = words[keep], weight[keep]
                parts_w.append(words)
                parts_q.append(weight)
        if not parts_w or not len(self.ids) or top < 1:
            return Shortlist(np.zeros(0, np.int64), np.zeros(0, np.float32))
        words = np.concatenate(parts_w)
        q_weight = np.concatenate(parts_q)
        if kernel is Kernel.NATIVE and top <= _NATIVE_TOP:
            return self._score_native(words, q_weight, top)
        starts, ends = self.offsets[words], self.offsets[words + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if not total:
            return Shortlist(np.zeros(0, np.int64), np.zeros(0, np.float32))
        # positions of every posting hit, list after list, without a Python loop
        shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        at = np.arange(total, dtype=np.int64) + shift
        contrib = self.weights[at].astype(np.float32) * np.repeat(q_weight, lengths)
        scores = np.bincount(self.postings[at], contrib, minlength=len(self.ids))
        k = min(top, int(np.count_nonzero(scores)))
        best = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(k)
        best = best[np.argsort(-scores[best], kind="stable")]
        return Shortlist(self.ids[best], scores[best].astype(np.float32))

    def _score_native(
        self, words: npt.NDArray[np.int64], q_weight: npt.NDArray[np.float64], top: int
    ) -> Shortlist:
        """The C core: a word both sets hold is walked once, with their weights summed."""
        unique, inverse = np.unique(words, return_inverse=True)
        q = np.bincount(inverse, q_weight, minlength=len(unique)).astype(np.float32)
        positions = np.empty(top, np.int64)
        scores = np.empty(top, np.float32)
        k = _kpcore.score(
            self.offsets,
            self.postings,
            self.weights,
            unique,
            q,
            _scratch(len(self.ids)),
            _SCORE_BLOCK,
            top,
            positions,
            scores,
        )
        return Shortlist(self.ids[positions[:k]], scores[:k])

    def save(self, folder: Path) -> None:
        """Plain ``.npy`` arrays and ``index.json`` in ``folder`` (made if missing)."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, array in self._arrays().items():
            np.save(folder / f"{name}.npy", array, allow_pickle=False)
        header = {
            "format": _FORMAT,
            "branching": self.vocabulary.branching,
            "depth": self.vocabulary.depth,
            "photos": len(self.ids),
            "postings": len(self.postings),
        }
        (folder / "index.json").write_text(json.dumps(header), encoding="utf-8")

    def _arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        return {
            "centres": self.vocabulary.centres,
            "idf": self.vocabulary.idf,
            "ids": self.ids,
            "offsets": self.offsets,
            "postings": self.postings,
            "weights": self.weights,
        }

    @classmethod
    def load(cls, folder: Path, mmap: bool = True) -> KeypointIndex:
        """The index :meth:`save` wrote, its arrays mapped read-only (``mmap``) or read.
        Every dtype, size and bound is checked: a damaged folder raises
        :class:`~stopspread.errors.IndexFormatError`, never an out-of-bounds read."""
        try:
            header = json.loads((folder / "index.json").read_text(encoding="utf-8"))
            arrays = {
                name: np.load(
                    folder / f"{name}.npy", mmap_mode="r" if mmap else None, allow_pickle=False
                )
                for name in ("centres", "idf", "ids", "offsets", "postings", "weights")
            }
        except (OSError, ValueError) as exc:
            raise IndexFormatError(f"not a keypoint index: {exc}") from exc
        return _checked(header, arrays)


_DTYPES: Final[dict[str, type[np.generic]]] = {
    "centres": np.uint64,
    "idf": np.float32,
    "ids": np.int64,
    "offsets": np.int64,
    "postings": np.uint32,
    "weights": np.float16,
}


def _checked(header: object, arrays: dict[str, npt.NDArray[np.generic]]) -> KeypointIndex:
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        raise IndexFormatError("not a keypoint index of this version")
    for name, dtype in _DTYPES.items():
        if arrays[name].dtype != np.dtype(dtype):
            raise IndexFormatError(f"{name}: wrong dtype")
    try:
        branching, depth = int(header["branching"]), int(header["depth"])
        vocab = Vocabulary(branching, depth, arrays["centres"], arrays["idf"])  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexFormatError(f"vocabulary: {exc}") from exc
    ids, offsets, postings = arrays["ids"], arrays["offsets"], arrays["postings"]
    n_post = len(postings)
    if (
        ids.ndim != 1
        or offsets.shape != (vocab.words + 1,)
        or arrays["weights"].shape != postings.shape
        or offsets[0] != 0
        or offsets[-1] != n_post
        or np.any(np.diff(offsets) < 0)
        or (n_post and int(postings.max()) >= len(ids))
        or header.get("photos") != len(ids)
        or header.get("postings") != n_post
    ):
        raise IndexFormatError("keypoint index arrays do not fit together")
    return KeypointIndex(
        vocab,
        arrays["ids"],  # type: ignore[arg-type]
        arrays["offsets"],  # type: ignore[arg-type]
        arrays["postings"],  # type: ignore[arg-type]
        arrays["weights"],  # type: ignore[arg-type]
    )
