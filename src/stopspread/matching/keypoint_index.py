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

- *Signature sub-lists* (Hamming embedding as partitioning, optional): a vocabulary with
  signature ``bits`` (per word, the positions that split its training descriptors most
  evenly: :func:`train_signature_bits`) posts each descriptor under its word and its
  signature (those bits), and a lookup walks, for each query descriptor, only its word's
  sub-lists within ``radius`` bits of its own signature — a fraction of the word's list,
  where a true copy's descriptors still mostly land (the shipped ``ss-kp-vocab-2``: 8 bits,
  radius 1).

The cost of a lookup is the length of the posting lists hit, not a Hamming search. Both
hot loops — descending the tree and adding up the posting lists, then the top few — run in
C (``_kpcore.c``, :attr:`Kernel.NATIVE`; with signature bits also the probes); the numpy
code they replace stays as the
reference (:attr:`Kernel.NUMPY`) the tests compare them with.
:func:`KeypointIndex.save` writes plain ``.npy`` arrays and a JSON header into a folder;
:func:`KeypointIndex.load` maps them read-only (``mmap``), checking every size and bound.
A pure module: arrays in, photo ids out.
"""

from __future__ import annotations

import dataclasses
import functools
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
    "DEFAULT_RADIUS",
    "DEFAULT_SIGNATURE_BITS",
    "MAX_SIGNATURE_BITS",
    "Kernel",
    "KeypointIndex",
    "Shortlist",
    "Vocabulary",
    "load_vocabulary",
    "save_vocabulary",
    "train_signature_bits",
    "train_vocabulary",
]

DEFAULT_BRANCHING: Final = 10
DEFAULT_DEPTH: Final = 5
DESCRIPTOR_BYTES: Final = 32  # ORB: 256 bits, four 64-bit words
_WORDS64: Final = DESCRIPTOR_BYTES // 8
_FORMAT: Final = "ss-kp-index-2"
_VOCAB_FORMAT: Final = "ss-kp-vocab"  # a vocabulary folder without an index
_OLD_FORMATS: Final = ("ss-kp-index-1",)  # no signature bits: one list a word
MAX_SIGNATURE_BITS: Final = 12
DEFAULT_SIGNATURE_BITS: Final = 8
DEFAULT_RADIUS: Final = 1  # a query descriptor probes the sub-lists within 1 bit of its own
_BIT_PRIOR: Final = 16.0
_ITERATIONS: Final = 6  # k-majority rounds per node (assignments settle after a few)
_NATIVE_TOP: Final = 4096  # the C core's longest shortlist; longer ones use numpy
_SCORE_BLOCK: Final = 1 << 16  # photos scored at a time by the C core: 256 KB of float32
# With signature sub-lists a lookup walks thousands of short lists: revisiting each one block
# after block costs more than scattering its few postings over the whole score array (1 M
# photos, 8 bits, radius 1: 38.8 ms CPU in 64 K-photo blocks, 20.5 in 256 K, 16.6 in one).
_SUBLIST_BLOCK: Final = 0  # 0: every photo in one block

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
    bits: npt.NDArray[np.uint8] | None = None

    def __post_init__(self) -> None:
        if self.branching < 2 or self.depth < 1:
            raise ValueError("branching >= 2 and depth >= 1")
        if self.centres.shape != (self.nodes, _WORDS64) or self.idf.shape != (self.words,):
            raise ValueError("centres and idf do not fit branching and depth")
        if self.bits is not None and (
            self.bits.dtype != np.uint8
            or self.bits.ndim != 2
            or self.bits.shape[0] != self.words
            or not 1 <= self.bits.shape[1] <= MAX_SIGNATURE_BITS
        ):
            raise ValueError(f"bits: (words, 1 ... {MAX_SIGNATURE_BITS}) uint8 bit positions")

    @property
    def signature_bits(self) -> int:
        """Bits of a descriptor's signature (0: no sub-lists, one list a word)."""
        return 0 if self.bits is None else int(self.bits.shape[1])

    @property
    def lists(self) -> int:
        """Posting lists of an index: one per word and signature."""
        return self.words << self.signature_bits

    def signatures(
        self, descriptors: Descriptors, words: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int64]:
        """Each descriptor's signature: its bits at its word's positions (``bits[word]``, bit
        ``i`` of the signature from position ``bits[word, i]``, numbered as ``np.unpackbits``
        numbers them); all 0 without ``bits``."""
        if self.bits is None or not len(words):
            return np.zeros(len(words), np.int64)
        every = np.unpackbits(np.ascontiguousarray(descriptors, dtype=np.uint8), axis=1)
        bit = np.take_along_axis(every, self.bits[words].astype(np.intp), axis=1)  # (n, b)
        return bit.astype(np.int64) @ (np.int64(1) << np.arange(bit.shape[1], dtype=np.int64))

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


def save_vocabulary(vocabulary: Vocabulary, folder: Path) -> None:
    """``centres.npy``, ``idf.npy``, ``bits.npy`` (with signature bits) and
    ``vocabulary.json`` in ``folder`` (made if missing): the vocabulary alone, without an
    empty index's per-list offsets (8 bytes a list: 20 MB with 10^4 words and 8 bits)."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {"centres": vocabulary.centres, "idf": vocabulary.idf}
    if vocabulary.bits is not None:
        arrays["bits"] = vocabulary.bits
    for name, array in arrays.items():
        np.save(folder / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
    header = {
        "format": _VOCAB_FORMAT,
        "branching": vocabulary.branching,
        "depth": vocabulary.depth,
        "signature_bits": vocabulary.signature_bits,
    }
    (folder / "vocabulary.json").write_text(json.dumps(header), encoding="utf-8")


def load_vocabulary(folder: Path) -> Vocabulary:
    """The vocabulary :func:`save_vocabulary` wrote in ``folder``, or the one of an index
    folder :meth:`KeypointIndex.save` wrote (``ss-kp-vocab-1`` is one). Checked as an index
    is: a damaged folder raises :class:`~stopspread.errors.IndexFormatError`."""
    if not (folder / "vocabulary.json").exists():
        return KeypointIndex.load(folder, mmap=False).vocabulary
    try:
        header = json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))
        if not isinstance(header, dict) or header.get("format") != _VOCAB_FORMAT:
            raise IndexFormatError("not a keypoint vocabulary of this version")
        names = ["centres", "idf"] + (["bits"] if header.get("signature_bits") else [])
        arrays = {n: np.load(folder / f"{n}.npy", allow_pickle=False) for n in names}
    except (OSError, ValueError) as exc:
        raise IndexFormatError(f"not a keypoint vocabulary: {exc}") from exc
    return _checked_vocabulary(header, arrays)


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


def train_signature_bits(
    vocabulary: Vocabulary,
    photos: Sequence[Descriptors],
    n_bits: int = DEFAULT_SIGNATURE_BITS,
    per_word: bool = True,
    prior: float = _BIT_PRIOR,
) -> Vocabulary:
    """``vocabulary`` with signature bits trained on ``photos`` (training descriptors, never
    the enrolled ones): for each word the ``n_bits`` positions whose bit is closest to an even
    split among the word's training descriptors (so its sub-lists are about equally long;
    a rare word's split is pulled towards the split over all words, ``prior`` descriptors'
    worth). ``per_word=False``: the same positions for every word, the most even on average."""
    if not 1 <= n_bits <= MAX_SIGNATURE_BITS:
        raise ValueError(f"1 ... {MAX_SIGNATURE_BITS} signature bits")
    rows = np.concatenate([_packed(p) for p in photos if len(p)])
    words = vocabulary.quantise(rows.view(np.uint8))
    bits = np.unpackbits(rows.view(np.uint8), axis=1)  # (n, 256) uint8: 256 bytes a row
    held = np.bincount(words, minlength=vocabulary.words).astype(np.float64)
    ones = np.zeros((vocabulary.words, bits.shape[1]))
    np.add.at(ones, words, bits)
    overall = ones.sum(axis=0) / max(len(rows), 1)
    share = (ones + prior * overall) / (held + prior)[:, None]  # (words, 256)
    balance = share * (1 - share)
    if not per_word:
        balance = np.broadcast_to((balance * held[:, None]).sum(axis=0), balance.shape)
    # the most even positions, ties to the lower position; each word's own order
    best = np.argsort(-balance, axis=1, kind="stable")[:, :n_bits]
    return dataclasses.replace(vocabulary, bits=np.sort(best, axis=1).astype(np.uint8))


# Each thread's float32 score array, as long as the largest index it looked up in: the C core
# leaves it all 0, so every lookup of that thread (any index) reuses it without clearing.
_SCRATCH: Final = threading.local()


def _scratch(n: int) -> npt.NDArray[np.float32]:
    held: npt.NDArray[np.float32] | None = getattr(_SCRATCH, "scores", None)
    if held is None or len(held) < n:
        held = np.zeros(n, np.float32)
        _SCRATCH.scores = held
    return held[:n]


@functools.cache
def _probes(bits: int, radius: int) -> npt.NDArray[np.int64]:
    """Every ``bits``-bit mask with at most ``radius`` bits set, fewest first."""
    masks = np.arange(1 << bits, dtype=np.int64)
    ones = np.bitwise_count(masks)
    return masks[np.argsort(ones, kind="stable")][: int((ones <= radius).sum())]


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
        sigs = [vocabulary.signatures(p, w) for p, w in zip(photos, words, strict=True)]
        owners = np.repeat(np.arange(len(photos), dtype=np.int64), [len(w) for w in words])
        flat = np.concatenate(words) if words else np.zeros(0, np.int64)
        flat_sigs = np.concatenate(sigs) if sigs else np.zeros(0, np.int64)
        return cls.from_words(
            vocabulary, np.asarray(ids, np.int64), owners, flat, min_idf, flat_sigs
        )

    @classmethod
    def from_words(
        cls,
        vocabulary: Vocabulary,
        ids: npt.NDArray[np.int64],
        owners: npt.NDArray[np.int64],
        words: npt.NDArray[np.int64],
        min_idf: float = 0.0,
        signatures: npt.NDArray[np.int64] | None = None,
    ) -> KeypointIndex:
        """An index from quantised rows: ``owners[i]`` (a position in ``ids``) holds
        ``words[i]`` with signature ``signatures[i]`` (:meth:`Vocabulary.signatures`; needed
        when the vocabulary has signature bits). Each row is posted in the list of its word
        and signature. Repeats of a (word, signature) in one photo add up (term frequency).
        Words whose idf is below ``min_idf`` are *stop words*: common in the training photos,
        they separate photos least and make the longest lists, so they are not indexed."""
        n, b = len(ids), vocabulary.signature_bits
        if len(owners) != len(words) or (len(owners) and (owners.min() < 0 or owners.max() >= n)):
            raise ValueError("owners are positions in ids, one per word")
        if n >= 2**32:
            raise ValueError("at most 2**32 - 1 photos")
        if b and (signatures is None or len(signatures) != len(words)):
            raise ValueError("one signature per word: the vocabulary has signature bits")
        key = np.array(words, np.int64)  # becomes (list, photo) keys, in place: the memory peak
        if b and len(key):
            assert signatures is not None
            if signatures.min() < 0 or signatures.max() >= 1 << b:
                raise ValueError(f"signatures are {b}-bit")
            key <<= b
            key |= signatures
        if min_idf > 0:
            kept = vocabulary.idf[words] >= min_idf
            owners, key = owners[kept], key[kept]
        key *= n
        key += owners
        key.sort()  # by list, then photo; in place (a bank's rows are the memory peak)
        first = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]])) if len(key) else key
        tf = np.diff(np.append(first, len(key)))
        pair_list, pair_owner = np.divmod(key[first], max(n, 1))
        del key
        weight = tf * vocabulary.idf[pair_list >> b].astype(np.float64)
        norm = np.sqrt(np.bincount(pair_owner, weight**2, minlength=n))
        weight /= np.where(norm > 0, norm, 1.0)[pair_owner]
        per_list = np.bincount(pair_list, minlength=vocabulary.lists)
        offsets = np.concatenate([[0], np.cumsum(per_list)]).astype(np.int64)
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

    def _query_lists(
        self,
        descriptors: Descriptors,
        kernel: Kernel,
        radius: int,
        max_words: int | None,
        max_postings: int | None,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """One query set's lists to walk and their weights: its words' tf-idf vector (length
        1); with signature bits, each descriptor probes its word's sub-lists whose signature
        is within ``radius`` bits of its own (a list probed by several descriptors, once)."""
        vocab, b = self.vocabulary, self.vocabulary.signature_bits
        all_words = vocab.quantise(descriptors, kernel)
        words, inverse, tf = np.unique(all_words, return_inverse=True, return_counts=True)
        weight = np.asarray(tf * vocab.idf[words], np.float64)
        weight /= float(np.sqrt((weight**2).sum())) or 1.0
        lengths = self.offsets[(words + 1) << b] - self.offsets[words << b]
        held = lengths > 0  # words no enrolled photo holds cost nothing: left out
        if max_postings is not None:
            held &= lengths <= max_postings
        if max_words is not None and held.sum() > max_words:
            rarest = np.flatnonzero(held)[np.argpartition(lengths[held], max_words - 1)[:max_words]]
            held = np.zeros_like(held)
            held[rarest] = True
        if not b:
            return words[held], weight[held]
        rows = held[inverse]  # the descriptors of the words kept
        if kernel is Kernel.NATIVE:
            return self._probe_native(descriptors, all_words, inverse, rows, weight, radius)
        sigs = vocab.signatures(np.asarray(descriptors)[rows], all_words[rows])
        lists = (all_words[rows, None] << b) | (sigs[:, None] ^ _probes(b, radius)[None, :])
        lists = np.unique(lists)
        lists = lists[self.offsets[lists + 1] > self.offsets[lists]]
        return lists, weight[np.searchsorted(words, lists >> b)]

    def _probe_native(
        self,
        descriptors: Descriptors,
        all_words: npt.NDArray[np.int64],
        inverse: npt.NDArray[np.intp],
        rows: npt.NDArray[np.bool_],
        weight: npt.NDArray[np.float64],
        radius: int,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """:meth:`_query_lists`' signatures and probes in the C core (same lists, same order
        of words; within a word, in probe order rather than ascending)."""
        b, bits = self.vocabulary.signature_bits, self.vocabulary.bits
        assert bits is not None
        at = np.flatnonzero(rows)
        at = at[np.argsort(all_words[at], kind="stable")]
        masks = _probes(b, radius)
        lists = np.empty(len(at) * len(masks), np.int64)
        owner = np.empty_like(lists)
        k = _kpcore.probe(
            np.ascontiguousarray(bits),
            b,
            np.ascontiguousarray(np.asarray(descriptors, np.uint8)[at]),
            np.ascontiguousarray(all_words[at]),
            np.ascontiguousarray(inverse[at], np.int64),
            masks,
            self.offsets,
            lists,
            owner,
        )
        return lists[:k], weight[owner[:k]]

    def search(
        self,
        query_sets: Sequence[Descriptors],
        top: int,
        max_words: int | None = None,
        *,
        kernel: Kernel = Kernel.NATIVE,
        max_postings: int | None = None,
        radius: int = DEFAULT_RADIUS,
    ) -> Shortlist:
        """The ``top`` photos by tf-idf score, summed over ``query_sets`` (the upload and its
        mirror: a true copy scores high on one of them, the other adds chance). With
        ``max_words``, each set looks up only that many of its words, those with the shortest
        posting lists (the rarest in the bank): the cost of a lookup is then bounded.
        ``kernel``: the C core (float32 sums, ties to the earlier photo) or the numpy
        reference (float64 sums); they agree up to float rounding. With ``max_postings``,
        words whose list is longer are skipped: the bank's own stop words, at lookup time.
        With signature bits, only postings whose signature is within ``radius`` bits of a
        query descriptor of the same word are walked (Hamming embedding as partitioning)."""
        if radius < 0:
            raise ValueError("the probe radius is 0 or more bits")
        parts_w, parts_q = [], []
        for descriptors in query_sets:
            if len(descriptors):
                lists, weight = self._query_lists(
                    descriptors, kernel, radius, max_words, max_postings
                )
                parts_w.append(lists)
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
            _SUBLIST_BLOCK if self.vocabulary.signature_bits else _SCORE_BLOCK,
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
            "signature_bits": self.vocabulary.signature_bits,
            "photos": len(self.ids),
            "postings": len(self.postings),
        }
        (folder / "index.json").write_text(json.dumps(header), encoding="utf-8")

    def _arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        arrays: dict[str, npt.NDArray[np.generic]] = {
            "centres": self.vocabulary.centres,
            "idf": self.vocabulary.idf,
            "ids": self.ids,
            "offsets": self.offsets,
            "postings": self.postings,
            "weights": self.weights,
        }
        if self.vocabulary.bits is not None:
            arrays["bits"] = self.vocabulary.bits
        return arrays

    @classmethod
    def load(cls, folder: Path, mmap: bool = True) -> KeypointIndex:
        """The index :meth:`save` wrote, its arrays mapped read-only (``mmap``) or read.
        Every dtype, size and bound is checked: a damaged folder raises
        :class:`~stopspread.errors.IndexFormatError`, never an out-of-bounds read. A folder of
        the earlier format (``ss-kp-index-1``, no signature bits) loads as an index with one
        list a word."""
        try:
            header = json.loads((folder / "index.json").read_text(encoding="utf-8"))
            names = list(_DTYPES)
            if isinstance(header, dict) and header.get("signature_bits"):
                names.append("bits")
            arrays = {
                name: np.load(
                    folder / f"{name}.npy", mmap_mode="r" if mmap else None, allow_pickle=False
                )
                for name in names
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


def _checked_vocabulary(
    header: dict[str, object], arrays: dict[str, npt.NDArray[np.generic]]
) -> Vocabulary:
    for name, dtype in {**_DTYPES, "bits": np.uint8}.items():
        if name in arrays and arrays[name].dtype != np.dtype(dtype):
            raise IndexFormatError(f"{name}: wrong dtype")
    try:
        branching, depth = int(header["branching"]), int(header["depth"])  # type: ignore[call-overload]
        bits = arrays.get("bits")
        if bits is not None and (
            bits.ndim != 2
            or bits.shape[1] != int(header["signature_bits"])  # type: ignore[call-overload]
            or (bits.size and int(bits.max()) >= DESCRIPTOR_BYTES * 8)
        ):
            raise ValueError("signature bits do not fit the header")
        return Vocabulary(branching, depth, arrays["centres"], arrays["idf"], bits)  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexFormatError(f"vocabulary: {exc}") from exc


def _checked(header: object, arrays: dict[str, npt.NDArray[np.generic]]) -> KeypointIndex:
    if not isinstance(header, dict) or header.get("format") not in (_FORMAT, *_OLD_FORMATS):
        raise IndexFormatError("not a keypoint index of this version")
    vocab = _checked_vocabulary(header, arrays)
    ids, offsets, postings = arrays["ids"], arrays["offsets"], arrays["postings"]
    n_post = len(postings)
    if (
        ids.ndim != 1
        or offsets.shape != (vocab.lists + 1,)
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
