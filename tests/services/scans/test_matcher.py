"""Matching one download against a case: fast-decoded large JPEGs, MD5, videos, no hashes shown."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stopspread.errors import MediaError
from stopspread.hashing import (
    FrameHash,
    PdqHash,
    SignalHash,
    Variant,
    digest_bytes,
    enrolment_hashes,
)
from stopspread.hashing.keypoints import extract_keypoints
from stopspread.hashing.signals import VariantKind
from stopspread.matching.policy import DEFAULT_POLICY
from stopspread.services.keypoint_records import EnrolledKeypoints
from stopspread.services.scans.matcher import CaseMatcher, EnrolledSignal
from stopspread.storage.models_scan import MatchKind
from tests.cli.conftest import write_video
from tests.conftest import synthetic_rgb
from tests.hashing.test_keypoints import scene
from tests.scankit import original, shapes


def signals_of(body: bytes, start: int = 1) -> list[EnrolledSignal]:
    hashes = enrolment_hashes(body)
    out = [EnrolledSignal(start + i, "pdq", h.hash.hex, h.quality) for i, h in enumerate(hashes)]
    out.append(EnrolledSignal(start + len(out), "md5", digest_bytes(body).md5, None))
    return out


def test_a_large_jpeg_copy_matches_through_the_fast_pipeline() -> None:
    matcher = CaseMatcher(signals_of(original(1)), policy=DEFAULT_POLICY)
    big = Image.fromarray(synthetic_rgb(640, 480, 1)).resize((2560, 1920))
    buf = io.BytesIO()
    big.save(buf, "JPEG", quality=85)
    hit = matcher.match_image(buf.getvalue())
    assert hit is not None and hit.kind is MatchKind.IMAGE and hit.signal_type == "pdq"
    assert hit.distance <= 29
    assert matcher.match_image(shapes(7)) is None


def test_exact_bytes_match_by_md5_and_broken_images_raise() -> None:
    body = original(4)
    hit = CaseMatcher(signals_of(body), policy=DEFAULT_POLICY).match_image(body)
    assert hit is not None and (hit.signal_type, hit.distance) == ("md5", 0)
    with pytest.raises(MediaError):
        CaseMatcher(signals_of(body), policy=DEFAULT_POLICY).match_image(b"\xff\xd8\xff\xe0 broken")


def test_a_video_matches_its_own_frames_and_not_another(tmp_path: Path) -> None:
    from stopspread.hashing import VideoMode, VideoSandbox, hash_video

    clip = write_video(tmp_path / "a.mp4", seed=1)
    other = write_video(tmp_path / "b.mp4", seed=2).read_bytes()
    frames = hash_video(clip, mode=VideoMode.REFERENCE, seconds_per_hash=0.5).frames
    enrolled = [EnrolledSignal(i, "pdq", f.pdq.hex, f.quality) for i, f in enumerate(frames)]
    with VideoSandbox() as sandbox:
        matcher = CaseMatcher(enrolled, sandbox, policy=DEFAULT_POLICY)
        hit = matcher.match_video(clip.read_bytes())
        assert hit is not None and (hit.kind, hit.signal_type) == (MatchKind.VIDEO, "vpdq")
        assert matcher.match_video(other) is None


def test_signals_never_show_their_values() -> None:
    signal = EnrolledSignal(1, "pdq", "ab" * 32, 90)
    assert "ab" * 32 not in repr(signal)


def _flip(base: bytes, bits: int) -> PdqHash:
    """``base`` with its first ``bits`` bits flipped."""
    value = int.from_bytes(base, "big") ^ (((1 << bits) - 1) << (256 - bits))
    return PdqHash(value.to_bytes(32, "big"))


def test_video_rule_counts_distinct_frames_and_names_the_nearest_signal() -> None:
    rng = np.random.default_rng(7)
    bases = [rng.integers(0, 256, 32, dtype=np.uint8).tobytes() for _ in range(5)]
    enrolled = [
        EnrolledSignal(10, "pdq", _flip(bases[0], 20).hex, 90),
        EnrolledSignal(11, "pdq", _flip(bases[1], 5).hex, None),  # no quality: compared too
        EnrolledSignal(12, "pdq", _flip(bases[1], 5).hex, 60),  # a tie: the first one wins
        EnrolledSignal(13, "pdq", _flip(bases[2], 30).hex, 49),  # under 50: ignored
        EnrolledSignal(14, "pdq", _flip(bases[3], 31).hex, 50),
    ]
    matcher = CaseMatcher(enrolled, policy=DEFAULT_POLICY)

    def frames(*hashes: PdqHash) -> list[FrameHash]:
        return [FrameHash(i, 90, h, float(i)) for i, h in enumerate(hashes)]

    same = [PdqHash(b) for b in bases]
    # 4 of 5 distinct frames within 31 bits (the repeat counts once): 80 % is a hit
    hit, matched = matcher._video_rule(frames(same[0], same[1], same[1], same[3], same[4]))
    assert matched == 3 and hit is None  # bases[4] matches nothing: 3 of 4 distinct frames
    hit, matched = matcher._video_rule(
        frames(same[0], same[1], same[3], same[0], _flip(bases[1], 1))
    )
    assert matched == 4 and hit is not None
    assert (hit.signal_id, hit.distance, hit.detail) == (11, 4, "4/4 frames")
    assert (hit.kind, hit.signal_type) == (MatchKind.VIDEO, "vpdq")
    hit, matched = matcher._video_rule(frames(same[0], same[1], same[4], same[2], same[3]))
    assert matched == 3 and hit is None  # frame of bases[2] is 30 bits from a quality-49 signal
    assert matcher._video_rule([]) == (None, 0)


def test_image_rule_takes_the_closest_pair_and_the_first_of_ties(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from stopspread.services.scans import matcher as module

    rng = np.random.default_rng(8)
    a, b = (rng.integers(0, 256, 32, dtype=np.uint8).tobytes() for _ in range(2))
    enrolled = [
        EnrolledSignal(20, "pdq", _flip(a, 12).hex, 90),
        EnrolledSignal(21, "pdq", _flip(a, 2).hex, 69),  # under 70: not compared
        EnrolledSignal(22, "pdq", _flip(b, 9).hex, None),  # no quality: compared
        EnrolledSignal(23, "pdq", _flip(b, 9).hex, 70),  # a tie: the first one wins
    ]
    query = [
        SignalHash(PdqHash(a), 90, Variant(VariantKind.FULL)),
        SignalHash(_flip(b, 1), 49, Variant(VariantKind.TRIMMED)),  # under 50: not a query
        SignalHash(PdqHash(b), 80, Variant(VariantKind.SMOOTH)),
    ]
    monkeypatch.setattr(module, "query_hashes", lambda image: query)
    hit = CaseMatcher(enrolled, policy=DEFAULT_POLICY).match_image(original(1))
    assert hit is not None and (hit.signal_id, hit.distance) == (22, 9)
    assert (hit.kind, hit.signal_type) == (MatchKind.IMAGE, "pdq")
    far = [EnrolledSignal(30, "pdq", _flip(a, 30).hex, 90)]  # 30 bits: over the 29-bit rule
    assert CaseMatcher(far, policy=DEFAULT_POLICY).match_image(original(1)) is None
    near = [EnrolledSignal(31, "pdq", _flip(a, 29).hex, 90)]
    assert CaseMatcher(near, policy=DEFAULT_POLICY).match_image(original(1)) == module.Hit(
        MatchKind.IMAGE, "pdq", 31, 29
    )


def _jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=85)
    return buf.getvalue()


def test_shape_points_find_a_crop_the_hashes_miss_and_name_its_photo() -> None:
    photos = [scene(seed, (1200, 900)) for seed in (21, 22, 23)]
    signals = [s for i, p in enumerate(photos) for s in signals_of(_jpeg(p), 100 * i + 1)]
    enrolled = [
        EnrolledKeypoints(i, 100 * i + 1, extract_keypoints(p)) for i, p in enumerate(photos)
    ]
    crop = _jpeg(photos[1].crop((150, 40, 150 + 1020, 40 + 765)))  # 85 % of each side
    hashes_only = CaseMatcher(signals, policy=DEFAULT_POLICY)
    assert hashes_only.match_image(crop) is None
    matcher = CaseMatcher(signals, policy=DEFAULT_POLICY, keypoints=enrolled)
    hit = matcher.match_image(crop)
    assert hit is not None and hit.signal_type == "ss-kp-1" and hit.signal_id == 101
    assert hit.distance >= 30 and hit.detail == f"{hit.distance} shape points"
    assert matcher.match_image(_jpeg(scene(29, (1200, 900)))) is None  # unrelated
    assert matcher.match_image(shapes(7)) is None
    assert "descriptor" not in repr(enrolled[0])
