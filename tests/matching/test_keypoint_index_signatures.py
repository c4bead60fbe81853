"""Hamming-embedding sub-lists of the ``ss-kp-1`` inverted file: each posting also carries its
descriptor's signature (a few of its bits, chosen per word), and a lookup walks only the
sub-lists within ``radius`` bits of a query descriptor's own. Checked against a reference
written here from the descriptors themselves, in both kernels; synthetic images only."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from tests.hashing.test_keypoints import scene
from tests.matching.test_keypoint_index import jpeg_crop

from stopspread.errors import IndexFormatError
from stopspread.hashing.keypoints import extract_keypoints, query_keypoint_sets
from stopspread.matching import _kpcore
from stopspread.matching.keypoint_index import (
    Kernel,
    KeypointIndex,
    Vocabulary,
    load_vocabulary,
    save_vocabulary,
    train_signature_bits,
    train_vocabulary,
)

BITS = 6
ENROLLED = range(12)


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    training = [extract_keypoints(scene(seed)).descriptors for seed in range(100, 112)]
    tree = train_vocabulary(training, branching=8, depth=3)
    return train_signature_bits(tree, training, BITS)


@pytest.fixture(scope="module")
def photos() -> list[np.ndarray]:
    return [extract_keypoints(scene(seed)).descriptors for seed in ENROLLED]


@pytest.fixture(scope="module")
def index(vocabulary: Vocabulary, photos: list[np.ndarray]) -> KeypointIndex:
    return KeypointIndex.build(vocabulary, [500 + i for i in ENROLLED], photos)


def queries() -> list[list[np.ndarray]]:
    edited = [jpeg_crop(scene(seed)) for seed in (1, 4, 9)]
    return [[s.descriptors for s in query_keypoint_sets(img)] for img in edited]


def reference_scores(
    vocab: Vocabulary, photos: list[np.ndarray], sets: list[np.ndarray], radius: int
) -> dict[int, float]:
    """The scheme, from the descriptors and in float64, one photo and one descriptor at a
    time: a photo's (word, signature) pairs weigh tf * idf, scaled to length 1; a query set's
    words weigh tf * idf, length 1; a photo gains a set's word weight times its own pair's
    weight for every pair within ``radius`` bits of one of the set's descriptors of that word."""
    pairs = []
    for rows in photos:
        words = vocab.quantise(rows, Kernel.NUMPY)
        tf: dict[tuple[int, int], int] = defaultdict(int)
        for row, word in zip(rows, words, strict=True):
            sig = int(np.unpackbits(row)[vocab.bits[word]] @ (1 << np.arange(BITS)))  # type: ignore[index]
            tf[int(word), sig] += 1
        weight = {p: n * float(vocab.idf[p[0]]) for p, n in tf.items()}
        norm = np.sqrt(sum(w * w for w in weight.values()))
        pairs.append({p: w / norm for p, w in weight.items()})
    scores: dict[int, float] = defaultdict(float)
    for rows in sets:
        words = vocab.quantise(rows, Kernel.NUMPY)
        unique, tf_q = np.unique(words, return_counts=True)
        q = tf_q * vocab.idf[unique].astype(np.float64)
        q_of = dict(zip(unique.tolist(), (q / np.sqrt((q * q).sum())).tolist(), strict=True))
        sigs = vocab.signatures(rows, words)
        for i, held in enumerate(pairs):
            probed = {
                (word, sig)
                for (word, sig) in held
                if any(
                    w == word and bin(s ^ sig).count("1") <= radius
                    for w, s in zip(words.tolist(), sigs.tolist(), strict=True)
                )
            }
            scores[500 + i] += sum(q_of[w] * held[w, s] for w, s in probed)
    return {i: s for i, s in scores.items() if s > 0}


def test_each_word_gets_its_most_evenly_split_bits(vocabulary: Vocabulary) -> None:
    assert vocabulary.bits is not None and vocabulary.bits.shape == (vocabulary.words, BITS)
    assert vocabulary.signature_bits == BITS and vocabulary.lists == vocabulary.words << BITS
    assert (np.diff(vocabulary.bits.astype(int), axis=1) > 0).all()  # distinct, in order
    assert len({row.tobytes() for row in vocabulary.bits}) > 1  # not one set for every word


def test_a_signature_is_the_descriptor_bits_at_its_word_positions(
    vocabulary: Vocabulary, photos: list[np.ndarray]
) -> None:
    rows = photos[0]
    words = vocabulary.quantise(rows)
    sigs = vocabulary.signatures(rows, words)
    assert vocabulary.bits is not None
    for row, word, sig in zip(rows[:50], words[:50], sigs[:50], strict=True):
        bits = np.unpackbits(row)[vocabulary.bits[word]]
        assert sig == sum(int(b) << i for i, b in enumerate(bits))


@pytest.mark.parametrize("radius", [0, 1, 2, BITS])
def test_both_kernels_score_as_the_reference_written_from_the_descriptors(
    vocabulary: Vocabulary, photos: list[np.ndarray], index: KeypointIndex, radius: int
) -> None:
    for sets in queries():
        expected = reference_scores(vocabulary, photos, sets, radius)
        for kernel in Kernel:
            found = index.search(sets, len(photos), kernel=kernel, radius=radius)
            got = dict(zip(found.ids.tolist(), found.scores.tolist(), strict=True))
            assert got.keys() == expected.keys()
            for photo, score in expected.items():  # weights are float16 in the index
                assert got[photo] == pytest.approx(score, rel=2e-3, abs=1e-4)
        native = index.search(sets, 5, radius=radius)
        numpy = index.search(sets, 5, kernel=Kernel.NUMPY, radius=radius)
        assert native.ids.tolist() == numpy.ids.tolist()


def test_a_wider_radius_walks_more_and_the_edited_copy_still_comes_first(
    index: KeypointIndex,
) -> None:
    for seed, sets in zip((1, 4, 9), queries(), strict=True):
        previous = 0
        for radius in range(BITS + 1):
            found = index.search(sets, 3, radius=radius)
            assert found.ids[0] == 500 + seed
            assert float(found.scores[0]) >= previous - 1e-6  # more pairs, never less score
            previous = float(found.scores[0])


def test_saved_with_its_bits_and_mapped_back_it_answers_the_same(
    index: KeypointIndex, tmp_path: Path
) -> None:
    index.save(tmp_path / "kp")
    header = json.loads((tmp_path / "kp" / "index.json").read_text(encoding="utf-8"))
    assert header["format"] == "ss-kp-index-2" and header["signature_bits"] == BITS
    loaded = KeypointIndex.load(tmp_path / "kp")
    assert loaded.vocabulary.signature_bits == BITS
    for sets in queries():
        a, b = index.search(sets, 5), loaded.search(sets, 5)
        assert a.ids.tolist() == b.ids.tolist() and np.array_equal(a.scores, b.scores)


def test_damaged_bits_are_refused(index: KeypointIndex, tmp_path: Path) -> None:
    folder = tmp_path / "kp"
    index.save(folder)
    assert index.vocabulary.bits is not None
    np.save(folder / "bits.npy", np.full_like(index.vocabulary.bits, 255))  # bit 255 is fine
    KeypointIndex.load(folder)
    np.save(folder / "bits.npy", index.vocabulary.bits[:, :2])  # fewer than the header says
    with pytest.raises(IndexFormatError):
        KeypointIndex.load(folder)
    (folder / "bits.npy").unlink()
    with pytest.raises(IndexFormatError):
        KeypointIndex.load(folder)


def test_a_folder_of_the_earlier_format_loads_with_one_list_a_word(
    photos: list[np.ndarray], tmp_path: Path
) -> None:
    tree = train_vocabulary(photos[:4], branching=4, depth=2)
    plain = KeypointIndex.build(tree, [1, 2, 3], photos[:3])
    plain.save(tmp_path / "old")
    header = json.loads((tmp_path / "old" / "index.json").read_text(encoding="utf-8"))
    del header["signature_bits"]
    header["format"] = "ss-kp-index-1"
    (tmp_path / "old" / "index.json").write_text(json.dumps(header), encoding="utf-8")
    loaded = KeypointIndex.load(tmp_path / "old")
    assert loaded.vocabulary.bits is None and loaded.vocabulary.lists == tree.words
    sets = [photos[1]]
    assert loaded.search(sets, 3).ids.tolist() == plain.search(sets, 3).ids.tolist()


def test_a_negative_radius_is_refused(index: KeypointIndex) -> None:
    with pytest.raises(ValueError, match="radius"):
        index.search(queries()[0], 3, radius=-1)


def test_rows_without_their_signatures_are_refused(vocabulary: Vocabulary) -> None:
    one = np.zeros(1, np.int64)
    with pytest.raises(ValueError, match="signature"):
        KeypointIndex.from_words(vocabulary, one, one, one)
    with pytest.raises(ValueError, match="6-bit"):
        KeypointIndex.from_words(vocabulary, one, one, one, signatures=np.full(1, 64))
    with pytest.raises(ValueError, match="bits"):
        Vocabulary(
            vocabulary.branching,
            vocabulary.depth,
            vocabulary.centres,
            vocabulary.idf,
            np.zeros((vocabulary.words, 13), np.uint8),
        )


def test_the_c_probe_refuses_arrays_that_do_not_fit(index: KeypointIndex) -> None:
    bits = index.vocabulary.bits
    assert bits is not None
    rows = np.zeros((2, 32), np.uint8)
    masks = np.array([0, 1], np.int64)
    out = np.empty(4, np.int64)

    def probe(words: list[int], m: np.ndarray = masks, b: np.ndarray = bits) -> int:
        w = np.array(words, np.int64)
        return _kpcore.probe(b, BITS, rows, w, w.copy(), m, index.offsets, out, out.copy())

    assert 0 <= probe([0, 1]) <= 4
    for bad in ([1, 0], [0, index.vocabulary.words]):  # unsorted, no such word
        with pytest.raises(ValueError, match="do not fit"):
            probe(bad)
    with pytest.raises(ValueError, match="do not fit"):
        probe([0, 1], m=np.array([0, 1 << BITS], np.int64))  # a mask wider than the bits
    assert probe([0, 1], b=np.full_like(bits, 255)) >= 0  # the last bit is a bit
    with pytest.raises(ValueError, match="do not fit"):
        probe([0, 1], b=np.ascontiguousarray(bits[:-1]))  # one word short of the offsets


def test_a_vocabulary_folder_holds_the_vocabulary_alone_and_reads_back(
    vocabulary: Vocabulary, index: KeypointIndex, tmp_path: Path
) -> None:
    save_vocabulary(vocabulary, tmp_path / "v")
    assert sorted(p.name for p in (tmp_path / "v").iterdir()) == [
        "bits.npy",
        "centres.npy",
        "idf.npy",
        "vocabulary.json",
    ]  # no per-list offsets of an empty index
    loaded = load_vocabulary(tmp_path / "v")
    assert loaded.bits is not None and np.array_equal(loaded.bits, vocabulary.bits)  # type: ignore[arg-type]
    assert np.array_equal(loaded.centres, vocabulary.centres)
    index.save(tmp_path / "i")  # an index folder is a vocabulary folder too
    assert load_vocabulary(tmp_path / "i").signature_bits == BITS
    np.save(tmp_path / "v" / "bits.npy", vocabulary.bits.astype(np.int64))  # type: ignore[union-attr]
    with pytest.raises(IndexFormatError):
        load_vocabulary(tmp_path / "v")
    (tmp_path / "v" / "vocabulary.json").write_text('{"format": "other"}', encoding="utf-8")
    with pytest.raises(IndexFormatError):
        load_vocabulary(tmp_path / "v")
