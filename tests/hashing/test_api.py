"""Batch hashing and the conformance rules every hasher keeps."""

from __future__ import annotations

import threading

import pytest

from stopspread.errors import UnsupportedMediaError
from stopspread.hashing import Dihedral, Pipeline, hash_image, hash_many
from stopspread.hashing.digest import digest_bytes, digest_file

from ..conftest import encode, synthetic_rgb


def test_batch_equals_single_in_order_with_errors_in_place() -> None:
    images = [encode(synthetic_rgb(300 + 40 * i, 200, seed=i)) for i in range(9)]
    sources: list[bytes] = [*images[:4], b"not an image", *images[4:]]
    for workers in (1, 2, 4):
        results = list(hash_many(sources, workers=workers))
        assert [r.source for r in results] == sources
        assert isinstance(results[4].error, UnsupportedMediaError)
        assert results[4].hashes is None
        good = [r.hashes.pdq for r in results if r.hashes is not None]
        assert good == [hash_image(data).pdq for data in images]


def test_batch_consumes_its_input_lazily() -> None:
    produced = 0
    image = encode(synthetic_rgb(100, 100))

    def endless():  # type: ignore[no-untyped-def]
        nonlocal produced
        while True:
            produced += 1
            yield image

    stream = hash_many(endless(), workers=2)
    for _ in range(3):
        next(stream)
    assert produced <= 3 + 2 * 2 + 1
    stream.close()


def test_batch_rejects_zero_workers() -> None:
    with pytest.raises(ValueError, match="workers"):
        list(hash_many([b""], workers=0))


def test_threads_give_identical_results() -> None:
    data = encode(synthetic_rgb(1200, 900, seed=11))
    expected = hash_image(data, dihedral=True)
    seen = []

    def work() -> None:
        for _ in range(5):
            seen.append(hash_image(data, dihedral=True))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.pdq == expected.pdq and r.variants == expected.variants for r in seen)


def test_dihedral_includes_original_first() -> None:
    h = hash_image(encode(synthetic_rgb(200, 150)), dihedral=True)
    assert list(h.variants) == list(Dihedral)
    assert h.variants[Dihedral.ORIGINAL] == h.pdq
    assert hash_image(encode(synthetic_rgb(200, 150))).variants == {}


def test_tiny_image_dihedral_is_all_zero() -> None:
    h = hash_image(encode(synthetic_rgb(4, 40), "PNG"), dihedral=True)
    assert h.quality == 0 and h.low_quality
    assert {v.hex for v in h.variants.values()} == {"0" * 64}


def test_digests_match_hashlib_and_streaming(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    data = encode(synthetic_rgb(300, 200))
    path = tmp_path / "x.jpg"
    path.write_bytes(data)
    d = hash_image(path).digests
    assert d is not None
    assert d.md5 == hashlib.md5(data).hexdigest()
    assert d.sha256 == hashlib.sha256(data).hexdigest()
    assert digest_file(path) == digest_bytes(data) == d


def test_fast_pipeline_is_reported() -> None:
    h = hash_image(encode(synthetic_rgb(100, 100)), pipeline=Pipeline.FAST)
    assert h.pipeline is Pipeline.FAST


def _hash_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("stopspread-hash")]


def test_a_batch_closed_early_leaves_no_thread_for_the_garbage_collector() -> None:
    """A batch left before its end (the CLI reads exactly one result per image) must not keep
    its pool until the garbage collector finalises it: a pool shut down from inside the
    collector, which can run while a new thread is starting, joined its threads while holding
    the lock thread start-up holds, and the whole process hung (seen in the test suite)."""
    images = [encode(synthetic_rgb(64, 48, seed=n), "PNG") for n in range(6)]
    results = hash_many(images, workers=2)
    assert next(results).hashes is not None
    results.close()
    assert not any(t.is_alive() for t in _hash_threads())
