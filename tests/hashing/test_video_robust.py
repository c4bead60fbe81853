"""Derived copies of the test videos still match their source; different footage does not.

Copies are made with FFmpeg through PyAV at test time (``conftest.transcode``).
Sources and copies are hashed at Meta's default one frame per second; clips are
compared with the source hashed at every frame, as a bank for clip detection is
(docs/video.md explains why).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations
from pathlib import Path

import pytest

from stopspread.matching import VideoRule, VideoVerdict, compare_videos
from tests.hashing.videokit import (
    SAME_FOOTAGE,
    VIDEO_NAMES,
    VideoCache,
    grey,
    half_size,
    logo,
    transcode,
)

CLIP_SECONDS = 10.0  # the clip length; videos shorter than 15 s give their middle half
# Bit rate of the "low bit rate" copy: about a fifth of the test videos' ~1 Mbit/s.
LOW_BIT_RATE = 200_000  # bits per second

# Copies keep the first 8 s of each video (all of the shorter ones) and are compared with
# the source's frames of those 8 s: the same content on both sides, at a third of the cost.
COPY_SECONDS = 8.0
_FIRST = (0.0, COPY_SECONDS)

Transform = Callable[[Path, Path], Path]
TRANSFORMS: dict[str, Transform] = {
    "reencoded": lambda s, d: transcode(s, d, bit_rate=LOW_BIT_RATE, seconds=_FIRST),
    "half-size": lambda s, d: transcode(s, d, edit=half_size, seconds=_FIRST),
    "grey": lambda s, d: transcode(s, d, edit=grey, seconds=_FIRST),
    "logo": lambda s, d: transcode(s, d, edit=logo, seconds=_FIRST),
}
ROBUST_NAMES = [n for n in VIDEO_NAMES if n != "test-padded-dimensions"]


def _duration(cache: VideoCache, path: Path) -> float:
    every = cache.get(path, seconds_per_hash=0)
    return len(every.frames) / every.fps


@pytest.mark.slow
@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
@pytest.mark.parametrize("name", ROBUST_NAMES)
def test_copy_is_the_same_video(
    vpdq_data: Path, video_cache: VideoCache, tmp_path: Path, name: str, transform: str
) -> None:
    source = vpdq_data / "videos" / f"{name}.mp4"
    copy = TRANSFORMS[transform](source, tmp_path / f"{transform}.mp4")
    original = [f for f in video_cache.get(source).frames if f.timestamp < COPY_SECONDS]
    result = compare_videos(video_cache.get(copy).frames, original)
    assert result.verdict() is VideoVerdict.SAME_VIDEO, (
        result.query_percent,
        result.compared_percent,
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", ROBUST_NAMES)
def test_clip_from_the_middle_is_part_of_the_source(
    vpdq_data: Path, video_cache: VideoCache, tmp_path: Path, name: str
) -> None:
    source = vpdq_data / "videos" / f"{name}.mp4"
    duration = _duration(video_cache, source)
    length = CLIP_SECONDS if duration >= 1.5 * CLIP_SECONDS else duration / 2
    start = (duration - length) / 2
    clip = transcode(source, tmp_path / "clip.mp4", seconds=(start, start + length))
    bank = video_cache.get(source, seconds_per_hash=0).frames
    result = compare_videos(video_cache.get(clip).frames, bank)
    assert result.query_percent >= 80.0
    assert result.compared_percent < 80.0  # the clip holds well under 80 % of the source
    assert result.verdict() is VideoVerdict.QUERY_IN_COMPARED
    assert result.is_match()  # the default rule: part of a banked video


@pytest.mark.parametrize(("a", "b"), list(combinations(VIDEO_NAMES, 2)))
def test_different_footage_does_not_match(
    vpdq_data: Path, video_cache: VideoCache, a: str, b: str
) -> None:
    va = video_cache.get(vpdq_data / "videos" / f"{a}.mp4")
    vb = video_cache.get(vpdq_data / "videos" / f"{b}.mp4")
    result = compare_videos(va.frames, vb.frames)
    if {a, b} == SAME_FOOTAGE:  # the same footage: frames in common, whatever the sampling
        assert result.query_matched > 0
        assert result.compared_matched > 0
    else:
        assert result.query_matched == 0
        assert result.compared_matched == 0
        assert not any(rule.accepts(result.verdict()) for rule in VideoRule)
