"""Matching one download against a case: fast-decoded large JPEGs, MD5, videos, no hashes shown."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from stopspread.errors import MediaError
from stopspread.hashing import digest_bytes, enrolment_hashes
from stopspread.services.scans.matcher import CaseMatcher, EnrolledSignal
from stopspread.storage.models_scan import MatchKind
from tests.cli.conftest import write_video
from tests.conftest import synthetic_rgb
from tests.scankit import original, shapes


def signals_of(body: bytes, start: int = 1) -> list[EnrolledSignal]:
    hashes = enrolment_hashes(body)
    out = [EnrolledSignal(start + i, "pdq", h.hash.hex, h.quality) for i, h in enumerate(hashes)]
    out.append(EnrolledSignal(start + len(out), "md5", digest_bytes(body).md5, None))
    return out


def test_a_large_jpeg_copy_matches_through_the_fast_pipeline() -> None:
    matcher = CaseMatcher(signals_of(original(1)))
    big = Image.fromarray(synthetic_rgb(640, 480, 1)).resize((2560, 1920))
    buf = io.BytesIO()
    big.save(buf, "JPEG", quality=85)
    hit = matcher.match_image(buf.getvalue())
    assert hit is not None and hit.kind is MatchKind.IMAGE and hit.signal_type == "pdq"
    assert hit.distance <= 29
    assert matcher.match_image(shapes(7)) is None


def test_exact_bytes_match_by_md5_and_broken_images_raise() -> None:
    body = original(4)
    hit = CaseMatcher(signals_of(body)).match_image(body)
    assert hit is not None and (hit.signal_type, hit.distance) == ("md5", 0)
    with pytest.raises(MediaError):
        CaseMatcher(signals_of(body)).match_image(b"\xff\xd8\xff\xe0 broken")


def test_a_video_matches_its_own_frames_and_not_another(tmp_path: Path) -> None:
    from stopspread.hashing import VideoMode, VideoSandbox, hash_video

    clip = write_video(tmp_path / "a.mp4", seed=1)
    other = write_video(tmp_path / "b.mp4", seed=2).read_bytes()
    frames = hash_video(clip, mode=VideoMode.REFERENCE, seconds_per_hash=0.5).frames
    enrolled = [EnrolledSignal(i, "pdq", f.pdq.hex, f.quality) for i, f in enumerate(frames)]
    with VideoSandbox() as sandbox:
        matcher = CaseMatcher(enrolled, sandbox)
        hit = matcher.match_video(clip.read_bytes())
        assert hit is not None and (hit.kind, hit.signal_type) == (MatchKind.VIDEO, "vpdq")
        assert matcher.match_video(other) is None


def test_signals_never_show_their_values() -> None:
    signal = EnrolledSignal(1, "pdq", "ab" * 32, 90)
    assert "ab" * 32 not in repr(signal)
