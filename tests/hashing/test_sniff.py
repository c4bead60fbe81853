"""Telling videos from images by their first bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from stopspread.hashing.sniff import MediaKind, sniff_bytes, sniff_media

MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00"
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"


@pytest.mark.parametrize(
    "head",
    [
        MP4,
        b"\x1a\x45\xdf\xa3\x01",  # Matroska / WebM
        b"RIFF\x00\x00\x00\x00AVI LIST",
        b"FLV\x01\x05",
        bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c"),  # ASF / WMV
        b"\x00\x00\x01\xba\x44",  # MPEG program stream
        (b"\x47" + bytes(187)) * 3,  # MPEG transport stream
    ],
)
def test_video_signatures(head: bytes) -> None:
    assert sniff_bytes(head) is MediaKind.VIDEO


@pytest.mark.parametrize(
    "head", [HEIC, b"\xff\xd8\xff\xe0", b"\x89PNG\r\n", b"RIFF\x00\x00\x00\x00WEBPVP8 ", b""]
)
def test_not_video(head: bytes) -> None:
    assert sniff_bytes(head) is None


def test_signature_wins_over_suffix(tmp_path: Path) -> None:
    (tmp_path / "clip.jpg").write_bytes(MP4)
    (tmp_path / "photo.heic").write_bytes(HEIC)
    assert sniff_media(tmp_path / "clip.jpg") is MediaKind.VIDEO
    assert sniff_media(tmp_path / "photo.heic") is MediaKind.IMAGE


def test_suffix_decides_for_unknown_bytes(tmp_path: Path) -> None:
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "junk.bin").write_bytes(b"junk")
    assert sniff_media(tmp_path / "empty.mp4") is MediaKind.VIDEO
    assert sniff_media(tmp_path / "junk.bin") is MediaKind.IMAGE
