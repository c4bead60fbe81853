"""Every query signal of one upload from one decode (``hashing.query``)."""

from __future__ import annotations

import io

from PIL import Image

from stopspread.hashing.keypoints import query_keypoint_sets
from stopspread.hashing.query import query_signals
from stopspread.hashing.signals import SignalHash, query_hashes
from tests.hashing.test_signals_identical import synthetic


def _file(name: str, fmt: str) -> bytes:
    buffer = io.BytesIO()
    synthetic()[name]().convert("RGB").save(buffer, fmt)
    return buffer.getvalue()


def _rows(hashes: list[SignalHash]) -> list[tuple[str, str, int]]:
    return [(h.tag, h.hash.hex, h.quality) for h in hashes]


def test_one_decode_gives_what_the_two_functions_give_separately() -> None:
    for data in (_file("screenshot-1170x2532", "JPEG"), _file("frame-1200x1500", "PNG")):
        both = query_signals(data)
        assert _rows(both.hashes) == _rows(query_hashes(data))
        alone = query_keypoint_sets(Image.open(io.BytesIO(data)))
        assert [k.to_bytes() for k in both.keypoints] == [k.to_bytes() for k in alone]
        assert len(both.keypoints) >= 3  # image, mirror, the photo in the screenshot


def test_hashes_only() -> None:
    signals = query_signals(_file("field-640x480", "JPEG"), keypoints=False)
    assert signals.keypoints == []
    assert signals.hashes[0].variant.tag == "full"
