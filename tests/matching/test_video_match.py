"""Video matching: percentages, verdicts, rules, and the bank over a HashIndex."""

from __future__ import annotations

import numpy as np
import pytest

from stopspread.hashing import FrameHash, PdqHash
from stopspread.matching import (
    BruteForceIndex,
    VideoBank,
    VideoMatchSettings,
    VideoRule,
    VideoVerdict,
    compare_videos,
)
from stopspread.matching.video import FRAME_ID_BITS, distinct_frames


def _hash(seed: int) -> PdqHash:
    bits = np.zeros(256, dtype=bool)
    bits[np.random.default_rng(seed).permutation(256)[:128]] = True
    return PdqHash.from_bits(bits)


def _near(h: PdqHash, flips: int) -> PdqHash:
    bits = h.bits().copy()
    bits[:flips] = ~bits[:flips]
    return PdqHash.from_bits(bits)


def _video(seeds: list[int], quality: int = 100) -> list[FrameHash]:
    return [FrameHash(i, quality, _hash(s), float(i)) for i, s in enumerate(seeds)]


LONG = _video(list(range(100, 120)))  # 20 distinct frames


def test_same_video_both_sides_high() -> None:
    copy = [FrameHash(f.frame, f.quality, _near(f.pdq, 20), f.timestamp) for f in LONG]
    result = compare_videos(copy, LONG)
    assert (result.query_percent, result.compared_percent) == (100.0, 100.0)
    assert result.verdict() is VideoVerdict.SAME_VIDEO
    assert all(result.is_match(VideoMatchSettings(rule=rule)) for rule in VideoRule)


def test_a_clip_is_part_of_the_banked_video() -> None:
    clip = LONG[5:9]
    result = compare_videos(clip, LONG)
    assert (result.query_percent, result.compared_percent) == (100.0, 20.0)
    assert result.verdict() is VideoVerdict.QUERY_IN_COMPARED
    assert result.is_match()  # default rule: Meta's, part of a banked video
    assert not result.is_match(VideoMatchSettings(rule=VideoRule.SAME_VIDEO))
    assert not result.is_match(VideoMatchSettings(rule=VideoRule.CONTAINS_BANKED))
    reverse = compare_videos(LONG, clip)
    assert reverse.verdict() is VideoVerdict.COMPARED_IN_QUERY
    assert reverse.is_match(VideoMatchSettings(rule=VideoRule.CONTAINS_BANKED))
    assert not reverse.is_match()


def test_frames_over_the_distance_do_not_count() -> None:
    far = [FrameHash(f.frame, 100, _near(f.pdq, 32), f.timestamp) for f in LONG]
    assert compare_videos(far, LONG).verdict() is VideoVerdict.NO_MATCH
    loose = VideoMatchSettings(frame_distance=32)
    assert compare_videos(far, LONG, loose).verdict() is VideoVerdict.SAME_VIDEO


def test_low_quality_and_repeated_frames_are_ignored() -> None:
    frames = LONG[:2] + LONG[:2] + _video([999], quality=49)
    assert distinct_frames(frames) == [LONG[0].pdq, LONG[1].pdq]
    result = compare_videos(_video([999], quality=49), LONG)
    assert result.query_frames == 0
    assert result.verdict() is VideoVerdict.NO_MATCH


def test_thresholds_are_settings() -> None:
    half = LONG[:10] + _video(list(range(500, 510)))
    result = compare_videos(half, LONG)
    assert result.query_percent == 50.0
    assert not result.is_match()
    assert result.is_match(VideoMatchSettings(query_percent=50.0))
    with pytest.raises(ValueError, match="percent"):
        VideoMatchSettings(query_percent=0)


def test_bank_finds_the_right_video_among_many() -> None:
    bank = VideoBank(BruteForceIndex)
    for video_id in range(5):
        bank.add(video_id, _video(list(range(1000 * video_id, 1000 * video_id + 10))))
    assert len(bank) == 5
    assert 3 in bank
    assert bank.frame_count(3) == 10
    query = _video(list(range(3000, 3004)))
    (found,) = bank.match(query)
    assert (found.video_id, found.query_percent, found.compared_percent) == (3, 100.0, 40.0)
    assert bank.remove(3)
    assert not bank.remove(3)
    assert bank.compare(query) == []


def test_bank_ids_keep_video_and_frame_apart() -> None:
    bank = VideoBank()
    big_id = (1 << (63 - FRAME_ID_BITS)) - 1
    bank.add(big_id, LONG)
    assert bank.compare(LONG[:1])[0].video_id == big_id
    with pytest.raises(ValueError, match="video id"):
        bank.add(big_id + 1, LONG)
    with pytest.raises(ValueError, match="already banked"):
        bank.add(big_id, LONG)


def test_bank_takes_any_index_factory() -> None:
    made: list[BruteForceIndex] = []

    def factory() -> BruteForceIndex:
        made.append(BruteForceIndex())
        return made[-1]

    bank = VideoBank(factory)
    bank.add(1, LONG)
    assert len(made) == 1
    assert len(made[0]) == len(LONG)


def test_bank_on_the_fast_index_agrees_with_the_oracle() -> None:
    from stopspread.matching import MihIndex

    fast, oracle = VideoBank(MihIndex), VideoBank(BruteForceIndex)
    for bank in (fast, oracle):
        for video_id in (1, 7, (1 << (63 - FRAME_ID_BITS)) - 1):
            bank.add(video_id, _video(list(range(100 * video_id % 997, 100 * video_id % 997 + 12))))
        bank.remove(7)
    query = [FrameHash(f.frame, 100, _near(f.pdq, 25), f.timestamp) for f in LONG[:5]]
    query += _video(list(range(100, 106)))
    assert fast.compare(query) == oracle.compare(query)
    assert fast.compare(query)
