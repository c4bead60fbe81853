"""Interoperability: our hashes against Meta's reference C++ (WASM build) outputs."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from stopspread.hashing import Dihedral, PdqHash, hash_image
from tests.conftest import TESTDATA

# The one reference row we cannot make exact: the reference was built with another JPEG
# decoder, and this heavily sharpened file has the most high-frequency energy, so decoder
# rounding differences reach the DCT. PDQ.md measured the same 2 bits.
KNOWN_DECODER_DRIFT = {"images/bridge-mods/sharpen-a-lot.jpg": 2}


def expected_rows(testdata: Path) -> list[tuple[str, str]]:
    with (testdata / "pdq" / "expected-cpp.csv").open() as fh:
        return [(row["image"], row["pdq_hex"]) for row in csv.DictReader(fh)]


def test_all_fifteen_reference_rows(testdata: Path) -> None:
    rows = expected_rows(testdata)
    assert len(rows) == 15
    distances = {
        name: hash_image(testdata / "pdq" / name).pdq.distance(PdqHash.from_hex(hex_))
        for name, hex_ in rows
    }
    exact = [n for n, d in distances.items() if d == 0]
    assert len(exact) == 14, distances
    for name, allowed in KNOWN_DECODER_DRIFT.items():
        assert distances[name] <= allowed <= 4


MODES_DIR = TESTDATA / "pdq/images/misc-images/modes"
MODES = sorted(p.name for p in MODES_DIR.glob("*") if p.name != "original.jpg")


@pytest.mark.parametrize("name", MODES)
def test_every_pillow_mode_hashes_like_the_original(testdata: Path, name: str) -> None:
    folder = testdata / "pdq/images/misc-images/modes"
    original = hash_image(folder / "original.jpg").pdq
    distance = hash_image(folder / name).pdq.distance(original)
    # The dithered 1-bit image is sampled noisily by nearest neighbour (PDQ.md: ~12 bits).
    assert distance <= (16 if name == "1.png" else 2), (name, distance)


DIHEDRAL_FILES = {
    Dihedral.ROTATE_90: "bridge-2-rotate-90.jpg",
    Dihedral.ROTATE_180: "bridge-3-rotate-180.jpg",
    Dihedral.ROTATE_270: "bridge-4-rotate-270.jpg",
    Dihedral.FLIP_X: "bridge-5-flipx.jpg",
    Dihedral.FLIP_Y: "bridge-6-flipy.jpg",
    Dihedral.FLIP_PLUS_1: "bridge-7-flip-plus-1.jpg",
    Dihedral.FLIP_MINUS_1: "bridge-8-flip-minus-1.jpg",
}


@pytest.mark.parametrize("variant", list(DIHEDRAL_FILES))
def test_dihedral_variant_matches_really_rotated_file(testdata: Path, variant: Dihedral) -> None:
    folder = testdata / "pdq/images/dih"
    variants = hash_image(folder / "bridge-1-original.jpg", dihedral=True).variants
    real = hash_image(folder / DIHEDRAL_FILES[variant]).pdq
    assert variants[variant].distance(real) <= 20


def test_low_quality_image_reports_its_quality(testdata: Path) -> None:
    h = hash_image(testdata / "pdq/images/labelme-subset/q0003.jpg")
    assert h.quality == 3
    assert h.low_quality
