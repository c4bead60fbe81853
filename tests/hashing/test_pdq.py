from __future__ import annotations

import numpy as np
import pytest

from stopspread.errors import HashFormatError
from stopspread.hashing import PdqHash, hash_pixels

HEX = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"


def test_hex_round_trip_and_case() -> None:
    h = PdqHash.from_hex(HEX.upper())
    assert h.hex == HEX == str(h)


@pytest.mark.parametrize("text", ["", "abc", HEX[:-1], HEX + "0", "g" * 64, " " * 64])
def test_malformed_hex_is_a_typed_error(text: str) -> None:
    with pytest.raises(HashFormatError):
        PdqHash.from_hex(text)


def test_wrong_length_bytes() -> None:
    with pytest.raises(HashFormatError):
        PdqHash(b"\x00" * 31)


def test_bit_k_is_bit_k_of_the_big_endian_integer() -> None:
    for k in (0, 1, 15, 16, 127, 128, 255):
        bits = np.zeros(256, dtype=bool)
        bits[k] = True
        assert int(PdqHash.from_bits(bits).hex, 16) == 1 << k
        assert PdqHash.from_bits(bits).bits().nonzero()[0].tolist() == [k]


def test_distance_and_popcount() -> None:
    a = PdqHash.from_hex(HEX)
    flipped = a.bits().copy()
    flipped[[3, 77, 200]] ^= True
    b = PdqHash.from_bits(flipped)
    assert a.distance(b) == 3 == b.distance(a)
    assert a.distance(a) == 0
    assert PdqHash(bytes(32)).popcount == 0


def test_repr_never_shows_the_hash() -> None:
    assert HEX not in repr(PdqHash.from_hex(HEX))


def test_normal_hash_has_128_ones(make_image) -> None:  # type: ignore[no-untyped-def]
    assert hash_pixels(make_image(300, 200)).hash.popcount == 128


def test_tiny_image_hashes_to_zeros_with_quality_zero() -> None:
    r = hash_pixels(np.full((4, 100, 3), 200, dtype=np.uint8))
    assert r.hash == PdqHash(bytes(32))
    assert r.quality == 0
    assert r.low_quality


def test_flat_image_is_low_quality() -> None:
    assert hash_pixels(np.full((100, 100, 3), 128, dtype=np.uint8)).quality == 0


@pytest.mark.parametrize(
    "pixels",
    [np.zeros((10, 10, 3), dtype=np.float32), np.zeros((10, 10, 4), dtype=np.uint8)],
)
def test_bad_pixel_arrays_are_refused(pixels: np.ndarray) -> None:
    with pytest.raises((TypeError, ValueError)):
        hash_pixels(pixels)
