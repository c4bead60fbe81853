"""Agreement with Meta's reference vPDQ hashes (every frame, native size).

FFmpeg versions differ, so hashes are compared within 31 bits where both
qualities are >= 50, not bit for bit (the reference's own tolerance). The mean
distances measured are in ``docs/video.md``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stopspread.hashing import PDQ_MATCH_DISTANCE, PDQ_MIN_QUALITY, VideoMode, hash_video
from tests.hashing.videokit import VIDEO_NAMES, VideoCache, reference_hashes

# Measured means are 0.0-5.4 bits (docs/video.md); this leaves room for other FFmpeg builds
# while still catching a broken pipeline, which lands near 128.
MAX_MEAN_DISTANCE = 8.0
# Fast mode shrinks HD frames by a whole factor; measured drift 0-4 bits on the test set.
MAX_FAST_DRIFT = 10


@pytest.mark.parametrize("name", VIDEO_NAMES)
def test_every_frame_agrees_with_reference(
    vpdq_data: Path, video_cache: VideoCache, name: str
) -> None:
    ours = video_cache.get(vpdq_data / "videos" / f"{name}.mp4", seconds_per_hash=0)
    ref = reference_hashes(vpdq_data, name)
    assert [f.frame for f in ours.frames] == [f.frame for f in ref]
    for mine, theirs in zip(ours.frames, ref, strict=True):
        assert mine.timestamp == pytest.approx(theirs.timestamp, abs=0.0011)
    distances = [
        mine.pdq.distance(theirs.pdq)
        for mine, theirs in zip(ours.frames, ref, strict=True)
        if mine.quality >= PDQ_MIN_QUALITY and theirs.quality >= PDQ_MIN_QUALITY
    ]
    assert distances, "no frame of quality >= 50 on both sides"
    assert max(distances) <= PDQ_MATCH_DISTANCE
    assert sum(distances) / len(distances) <= MAX_MEAN_DISTANCE


def test_lines_are_in_the_reference_format(vpdq_data: Path, video_cache: VideoCache) -> None:
    ours = video_cache.get(vpdq_data / "videos" / "pattern-sd-grey-bar.mp4", seconds_per_hash=0)
    line = ours.frames[3].line()
    frame, quality, hex_, timestamp = line.split(",")
    assert (frame, timestamp) == ("3", "0.100")
    assert 0 <= int(quality) <= 100
    assert len(hex_) == 64


def test_padded_dimensions_hash(vpdq_data: Path, video_cache: VideoCache) -> None:
    ours = video_cache.get(vpdq_data / "videos" / "test-padded-dimensions.mp4", seconds_per_hash=0)
    assert len(ours.frames) == len(reference_hashes(vpdq_data, "test-padded-dimensions"))
    assert (ours.width, ours.height) == (1080, 1080)


def test_seconds_per_hash_picks_one_frame_a_second(
    vpdq_data: Path, video_cache: VideoCache
) -> None:
    every = video_cache.get(vpdq_data / "videos" / "chair-19-sd-bar.mp4", seconds_per_hash=0)
    per_second = video_cache.get(vpdq_data / "videos" / "chair-19-sd-bar.mp4", seconds_per_hash=1)
    assert [f.frame for f in per_second.frames] == list(range(0, len(every.frames), 30))
    by_frame = {f.frame: f for f in every.frames}
    assert all(f == by_frame[f.frame] for f in per_second.frames)


def test_digests_are_of_the_file(vpdq_data: Path, video_cache: VideoCache) -> None:
    import hashlib

    path = vpdq_data / "videos" / "doorknob-hd-no-bar.mp4"
    ours = video_cache.get(path, seconds_per_hash=0)
    data = path.read_bytes()
    assert ours.digests.md5 == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert ours.digests.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    "name", ["doorknob-hd-no-bar", "test-padded-dimensions", "chair-19-sd-bar"]
)
def test_fast_mode_drift_is_small(vpdq_data: Path, video_cache: VideoCache, name: str) -> None:
    path = vpdq_data / "videos" / f"{name}.mp4"
    fast = hash_video(path, mode=VideoMode.FAST)
    every = {f.frame: f for f in video_cache.get(path, seconds_per_hash=0).frames}
    assert fast.frames
    assert fast.mode is VideoMode.FAST
    assert fast.frames[0].frame == 0  # the first frame is always a keyframe
    drift = [
        f.pdq.distance(every[f.frame].pdq)
        for f in fast.frames
        if not f.low_quality and not every[f.frame].low_quality  # < 50: unstable by definition
    ]
    assert drift
    assert max(drift) <= MAX_FAST_DRIFT
