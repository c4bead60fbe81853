"""The ``ss-kp-1`` vocabulary shortlist: a k-majority tree quantises ORB descriptors to words,
an inverted file ranks enrolled photos by tf-idf; an edited copy finds its original first.
Images are synthetic (made in code, ``tests/hashing/test_keypoints.py``); the vocabulary is
trained on other synthetic pictures than the enrolled ones."""

from __future__ import annotations

import io
import json
import pickle
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.hashing.test_keypoints import scene

from stopspread.errors import IndexFormatError
from stopspread.hashing.keypoints import KeypointSet, extract_keypoints, query_keypoint_sets
from stopspread.matching import _kpcore
from stopspread.matching.keypoint_index import (
    Kernel,
    KeypointIndex,
    Vocabulary,
    _scratch,
    train_vocabulary,
)


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return train_vocabulary(
        [extract_keypoints(scene(seed)).descriptors for seed in range(100, 112)],
        branching=8,
        depth=4,
    )


@pytest.fixture(scope="module")
def enrolled() -> list[KeypointSet]:
    return [extract_keypoints(scene(seed)) for seed in range(10)]


@pytest.fixture(scope="module")
def index(vocabulary: Vocabulary, enrolled: list[KeypointSet]) -> KeypointIndex:
    return KeypointIndex.build(
        vocabulary, [1000 + i for i in range(len(enrolled))], [k.descriptors for k in enrolled]
    )


def jpeg_crop(img: Image.Image) -> Image.Image:
    w, h = img.size
    buf = io.BytesIO()
    img.crop((w // 10, h // 12, w - w // 20, h - h // 10)).save(buf, "JPEG", quality=40)
    return Image.open(io.BytesIO(buf.getvalue()))


def test_the_tree_has_branching_to_the_depth_words_each_with_an_idf(
    vocabulary: Vocabulary,
) -> None:
    assert vocabulary.words == 8**4
    assert vocabulary.centres.shape == (1 + 8 + 64 + 512 + 4096, 4)
    assert vocabulary.idf.shape == (4096,) and (vocabulary.idf >= 0).all()


def test_a_descriptor_and_its_copy_with_few_bits_changed_mostly_share_a_word(
    vocabulary: Vocabulary, enrolled: list[KeypointSet]
) -> None:
    rows = enrolled[0].descriptors
    words = vocabulary.quantise(rows)
    assert words.min() >= 0 and words.max() < vocabulary.words
    assert np.array_equal(words, vocabulary.quantise(rows))  # deterministic
    flipped = rows.copy()
    flipped[:, 0] ^= 1  # one bit
    assert (vocabulary.quantise(flipped) == words).mean() > 0.9


def test_an_edited_copy_finds_its_original_first(
    index: KeypointIndex, enrolled: list[KeypointSet]
) -> None:
    for seed in (0, 3, 7):
        sets = query_keypoint_sets(jpeg_crop(scene(seed)))
        found = index.search([s.descriptors for s in sets], top=3)
        assert found.ids[0] == 1000 + seed
        assert len(found.ids) == 3 and found.scores[0] > found.scores[1]


def test_a_mirrored_copy_finds_its_original_through_the_mirror_set(
    index: KeypointIndex,
) -> None:
    sets = query_keypoint_sets(scene(5).transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    assert index.search([s.descriptors for s in sets], top=1).ids.tolist() == [1005]


def test_an_empty_query_or_index_gives_an_empty_shortlist(
    vocabulary: Vocabulary, index: KeypointIndex
) -> None:
    assert len(index.search([np.zeros((0, 32), np.uint8)], top=8).ids) == 0
    empty = KeypointIndex.build(vocabulary, [], [])
    assert len(empty) == 0 and len(empty.search([np.ones((3, 32), np.uint8)], top=8).ids) == 0


def test_postings_hold_one_unit_tf_idf_vector_per_photo(index: KeypointIndex) -> None:
    weights = index.weights.astype(np.float64)
    per_photo = np.bincount(index.postings, weights**2, minlength=len(index))
    assert np.allclose(per_photo, 1.0, atol=1e-2)
    assert index.offsets[-1] == len(index.postings) and index.nbytes > 0


def test_saved_and_mapped_back_it_answers_the_same(index: KeypointIndex, tmp_path: Path) -> None:
    index.save(tmp_path / "kp")
    loaded = KeypointIndex.load(tmp_path / "kp")
    assert isinstance(loaded.postings, np.memmap)
    query = [query_keypoint_sets(jpeg_crop(scene(2)))[0].descriptors]
    a, b = index.search(query, top=5), loaded.search(query, top=5)
    assert a.ids.tolist() == b.ids.tolist() and np.allclose(a.scores, b.scores)


def test_a_damaged_folder_is_refused(index: KeypointIndex, tmp_path: Path) -> None:
    folder = tmp_path / "kp"
    index.save(folder)
    np.save(folder / "postings.npy", np.full(len(index.postings), 10**6, np.uint32))
    with pytest.raises(IndexFormatError):
        KeypointIndex.load(folder)
    index.save(folder)
    np.save(folder / "offsets.npy", index.offsets[:-1])
    with pytest.raises(IndexFormatError):
        KeypointIndex.load(folder)
    index.save(folder)
    (folder / "index.json").write_text(json.dumps({"format": "other"}), encoding="utf-8")
    with pytest.raises(IndexFormatError):
        KeypointIndex.load(folder)
    (folder / "ids.npy").unlink()
    with pytest.raises(IndexFormatError):
        KeypointIndex.load(folder)


def test_a_tree_that_does_not_fit_its_arrays_is_refused() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        Vocabulary(4, 2, np.zeros((3, 4), np.uint64), np.zeros(16, np.float32))
    with pytest.raises(ValueError, match="no training"):
        train_vocabulary([np.zeros((0, 32), np.uint8)])


def test_stop_words_are_not_indexed_and_the_original_still_comes_first(
    vocabulary: Vocabulary, enrolled: list[KeypointSet], index: KeypointIndex
) -> None:
    cut = float(np.median(vocabulary.idf))
    lean = KeypointIndex.build(
        vocabulary,
        [1000 + i for i in range(len(enrolled))],
        [k.descriptors for k in enrolled],
        min_idf=cut,
    )
    assert 0 < len(lean.postings) < len(index.postings)
    held = np.repeat(np.arange(vocabulary.words), np.diff(lean.offsets))
    assert (vocabulary.idf[held] >= cut).all()
    sets = query_keypoint_sets(jpeg_crop(scene(4)))
    assert lean.search([s.descriptors for s in sets], top=3).ids[0] == 1004


def test_looking_up_only_the_rarest_words_still_finds_the_original(
    index: KeypointIndex,
) -> None:
    sets = [s.descriptors for s in query_keypoint_sets(jpeg_crop(scene(6)))]
    assert index.search(sets, top=3, max_words=60).ids[0] == 1006
    one = index.search(sets, top=50, max_words=1)
    assert 0 < len(one.ids) <= len(index.search(sets, top=50).ids)


# The C core (``_kpcore.c``) against the numpy reference it replaced.


def edited_queries() -> list[list[np.ndarray]]:
    return [
        [s.descriptors for s in query_keypoint_sets(jpeg_crop(scene(seed)))] for seed in range(6)
    ]


def test_the_c_descent_gives_the_numpy_words(
    vocabulary: Vocabulary, enrolled: list[KeypointSet]
) -> None:
    rng = np.random.default_rng(3)
    for rows in [k.descriptors for k in enrolled] + [rng.integers(0, 256, (500, 32), np.uint8)]:
        native = vocabulary.quantise(rows)
        assert np.array_equal(native, vocabulary.quantise(rows, Kernel.NUMPY))
    assert len(vocabulary.quantise(np.zeros((0, 32), np.uint8))) == 0


def test_a_tie_between_children_goes_to_the_first_in_both_kernels() -> None:
    rng = np.random.default_rng(4)
    centres = rng.integers(0, 2**63, (1 + 3 + 9, 4), dtype=np.uint64)
    centres[2] = centres[1]  # level 1: children 1 and 2 alike, every row ties
    vocab = Vocabulary(3, 2, centres, np.ones(9, np.float32))
    rows = rng.integers(0, 256, (200, 32), np.uint8)
    native = vocab.quantise(rows)
    assert np.array_equal(native, vocab.quantise(rows, Kernel.NUMPY))
    assert not ((native >= 3) & (native < 6)).any()  # never below child 2 of the root


def test_the_c_lookup_ranks_as_the_numpy_one(index: KeypointIndex) -> None:
    for sets in edited_queries():
        for top, max_words in ((1, None), (5, None), (len(index), None), (4, 40)):
            native = index.search(sets, top, max_words)
            numpy = index.search(sets, top, max_words, kernel=Kernel.NUMPY)
            assert native.ids.tolist() == numpy.ids.tolist()
            assert np.allclose(native.scores, numpy.scores, rtol=1e-5)
            assert native.scores.dtype == np.float32 and native.ids.dtype == np.int64
    assert not _scratch(len(index)).any()  # left all 0 for the next lookup


def test_a_longer_shortlist_than_the_c_core_keeps_uses_numpy(index: KeypointIndex) -> None:
    sets = edited_queries()[0]
    assert index.search(sets, 5000).ids.tolist() == index.search(sets, len(index)).ids.tolist()


def test_photos_with_equal_scores_come_in_enrolment_order(vocabulary: Vocabulary) -> None:
    rows = extract_keypoints(scene(3)).descriptors
    twins = KeypointIndex.build(vocabulary, [30, 10, 20], [rows, rows, rows])
    found = twins.search([rows], top=3)
    assert found.ids.tolist() == [30, 10, 20] and found.scores[0] == found.scores[2]


def test_the_mapped_back_index_answers_as_the_built_one_in_both_kernels(
    index: KeypointIndex, tmp_path: Path
) -> None:
    index.save(tmp_path / "kp")
    for mmap in (True, False):
        loaded = KeypointIndex.load(tmp_path / "kp", mmap=mmap)
        for sets in edited_queries()[:3]:
            for kernel in Kernel:
                a, b = index.search(sets, 8), loaded.search(sets, 8, kernel=kernel)
                assert a.ids.tolist() == b.ids.tolist()
                assert np.allclose(a.scores, b.scores, rtol=1e-5)


def test_threads_looking_up_at_once_each_get_the_right_answer(index: KeypointIndex) -> None:
    queries = edited_queries()
    expected = [index.search(sets, 8).ids.tolist() for sets in queries]
    got: dict[int, list[list[int]]] = {}

    def run(worker: int) -> None:
        got[worker] = [index.search(sets, 8).ids.tolist() for sets in queries * 5]

    threads = [threading.Thread(target=run, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(answers == expected * 5 for answers in got.values())


def test_lists_outside_the_postings_are_refused_not_read(index: KeypointIndex) -> None:
    offsets = index.offsets.copy()
    offsets[-1] = len(index.postings) + 10**6
    offsets[1:-1] = np.minimum(offsets[1:-1] * 1000, offsets[-1])
    broken = KeypointIndex(index.vocabulary, index.ids, offsets, index.postings, index.weights)
    with pytest.raises(ValueError, match="do not fit"):
        broken.search(edited_queries()[0], 8)


def test_scoring_block_by_block_gives_bitwise_the_same_sums(index: KeypointIndex) -> None:
    words = np.unique(np.concatenate([index.vocabulary.quantise(s) for s in edited_queries()[1]]))
    q = np.linspace(0.1, 1.0, len(words)).astype(np.float32)
    scratch = np.zeros(len(index), np.float32)
    answers = []
    for block in (0, 1, 3, 7, len(index), 10 * len(index)):
        pos, score = np.empty(len(index), np.int64), np.empty(len(index), np.float32)
        k = _kpcore.score(
            index.offsets, index.postings, index.weights, words, q, scratch, block, len(index),
            pos, score,
        )  # fmt: skip
        answers.append((pos[:k].tolist(), score[:k].tobytes()))
        assert not scratch.any()
    assert all(a == answers[0] for a in answers) and len(answers[0][0]) > 3


def test_skipping_the_longest_lists_walks_fewer_and_both_kernels_agree(
    index: KeypointIndex,
) -> None:
    sets = edited_queries()[2]
    longest = int(np.diff(index.offsets).max())
    every = index.search(sets, len(index))
    assert index.search(sets, len(index), max_postings=longest).ids.tolist() == every.ids.tolist()
    cap = int(np.median(np.diff(index.offsets)[np.diff(index.offsets) > 0]))
    for kernel in Kernel:
        lean = index.search(sets, len(index), max_postings=cap, kernel=kernel)
        assert 0 < len(lean.ids) <= len(every.ids) and lean.scores.sum() < every.scores.sum()
    native, numpy = (index.search(sets, 8, max_postings=cap, kernel=k) for k in Kernel)
    assert native.ids.tolist() == numpy.ids.tolist()
    assert len(index.search(sets, 8, max_postings=0).ids) == 0


def test_an_index_pickles_and_lookups_in_several_indexes_share_one_thread_array(
    vocabulary: Vocabulary, index: KeypointIndex
) -> None:
    small = KeypointIndex.build(
        vocabulary, [7, 8], [extract_keypoints(scene(s)).descriptors for s in (1, 2)]
    )
    sets = edited_queries()[1]
    for _ in range(2):  # a small index, then a larger one, in the same thread
        assert (
            small.search(sets, 2).ids.tolist()
            == small.search(sets, 2, kernel=Kernel.NUMPY).ids.tolist()
        )
        assert (
            index.search(sets, 8).ids.tolist()
            == index.search(sets, 8, kernel=Kernel.NUMPY).ids.tolist()
        )
    copy = pickle.loads(pickle.dumps(index))
    assert copy.search(sets, 8).ids.tolist() == index.search(sets, 8).ids.tolist()
