"""Hostile and broken video files end with a typed error; the caller never crashes or hangs.

Every file here is made at test time; decoding runs in the sandbox child.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import av
import numpy as np
import pytest

from stopspread.errors import (
    MediaError,
    MediaTimeoutError,
    MediaTooLargeError,
    UnsupportedMediaError,
    VideoDecodeError,
)
from stopspread.hashing import VideoLimits, VideoMode, hash_video
from stopspread.hashing._sandbox_protocol import died, parse_reply

from .videokit import raw_mkv

MiB = 1024 * 1024
# Every hostile input must be refused quickly: the sandbox start plus a little decoding.
QUICK_SECONDS = 20.0


@pytest.fixture
def small_video(tmp_path: Path) -> Path:
    return raw_mkv(tmp_path / "small.mkv", frames=30)


def _refused(path: Path, error: type[MediaError], **limits: float) -> MediaError:
    start = time.monotonic()
    with pytest.raises(error) as info:
        hash_video(path, limits=VideoLimits(**limits))  # type: ignore[arg-type]
    assert time.monotonic() - start < QUICK_SECONDS
    assert str(info.value)  # a message a person can read
    return info.value


def test_a_good_tiny_video_hashes(small_video: Path) -> None:
    video = hash_video(small_video, seconds_per_hash=0)
    assert [f.frame for f in video.frames] == list(range(30))
    assert (video.width, video.height, video.container) == (256, 256, "matroska,webm")


def test_zero_length(tmp_path: Path) -> None:
    (tmp_path / "empty.mp4").write_bytes(b"")
    _refused(tmp_path / "empty.mp4", UnsupportedMediaError)


def test_random_bytes(tmp_path: Path) -> None:
    (tmp_path / "noise.mp4").write_bytes(np.random.default_rng(5).bytes(200_000))
    _refused(tmp_path / "noise.mp4", VideoDecodeError)


def test_truncated_to_its_header(small_video: Path, tmp_path: Path) -> None:
    data = small_video.read_bytes()
    (tmp_path / "cut.mkv").write_bytes(data[:2000])
    _refused(tmp_path / "cut.mkv", VideoDecodeError)


@pytest.mark.parametrize("faststart", [True, False])
def test_truncated_mp4(tmp_path: Path, faststart: bool) -> None:
    # Index at the front: FFmpeg stops quietly where the data ends, we count the frames.
    # Index at the end (the default): FFmpeg cannot open the file at all.
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(tmp_path / "full.mp4"), "w", options=options) as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        rng = np.random.default_rng(1)
        for _ in range(60):
            rgb = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        out.mux(stream.encode(None))
    data = (tmp_path / "full.mp4").read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])
    error = _refused(tmp_path / "cut.mp4", VideoDecodeError)
    assert ("truncated" in str(error)) is faststart


def test_huge_dimensions_in_the_header(tmp_path: Path) -> None:
    """16000 x 16000 declared (FFmpeg accepts it; we refuse before decoding a frame)."""
    data = raw_mkv(tmp_path / "ok.mkv").read_bytes()
    side_256, side_16000 = b"\x01\x00", (16000).to_bytes(2, "big")
    for element in (b"\xb0\x82", b"\xba\x82"):  # Matroska PixelWidth, PixelHeight
        assert data.count(element + side_256) == 1
        data = data.replace(element + side_256, element + side_16000)
    (tmp_path / "huge.mkv").write_bytes(data)
    error = _refused(tmp_path / "huge.mkv", MediaTooLargeError)
    assert "16000x16000" in str(error)


def test_time_limit(small_video: Path) -> None:
    # Far below the interpreter's start-up time, so the limit is always hit.
    _refused(small_video, MediaTimeoutError, max_seconds=0.05)


def test_frame_cap_stops_endless_streams(small_video: Path) -> None:
    _refused(small_video, MediaTooLargeError, max_frames=10)


@pytest.mark.parametrize("mode", list(VideoMode))
def test_frame_pixel_cap(small_video: Path, mode: VideoMode) -> None:
    with pytest.raises(MediaTooLargeError):
        hash_video(small_video, mode=mode, limits=VideoLimits(max_frame_pixels=1000))


def test_byte_cap(small_video: Path) -> None:
    _refused(small_video, MediaTooLargeError, max_bytes=1000)


def test_memory_limit(small_video: Path) -> None:
    # 64 MiB of address space cannot even hold the decoder: a typed error, not a crash.
    _refused(small_video, MediaError, max_memory_bytes=64 * MiB)


def test_an_image_is_not_a_video(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (32, 32), "red").save(tmp_path / "image.png")
    _refused(tmp_path / "image.png", UnsupportedMediaError)


def test_folder_and_missing_file(tmp_path: Path) -> None:
    _refused(tmp_path, UnsupportedMediaError)
    _refused(tmp_path / "missing.mp4", MediaError)


def test_bad_seconds_per_hash(small_video: Path) -> None:
    with pytest.raises(ValueError, match="seconds_per_hash"):
        hash_video(small_video, seconds_per_hash=-1)


def test_child_deaths_become_typed_errors() -> None:
    assert isinstance(died(-11), VideoDecodeError)  # SIGSEGV in FFmpeg
    assert isinstance(died(-24), MediaTimeoutError)  # SIGXCPU: the CPU limit
    assert isinstance(died(1), VideoDecodeError)


@pytest.mark.parametrize(
    "reply",
    [b"", b"not json", b"[1, 2]", b'{"ok": false, "error": "SystemExit", "message": "x"}'],
)
def test_a_malformed_reply_is_a_decode_error(reply: bytes) -> None:
    with pytest.raises(VideoDecodeError):
        parse_reply(reply)


def test_reply_errors_keep_their_type() -> None:
    reply = b'{"ok": false, "error": "MediaTooLargeError", "message": "too big"}'
    with pytest.raises(MediaTooLargeError, match="too big"):
        parse_reply(reply)


def test_the_parent_keeps_working_after_hostile_files(tmp_path: Path, small_video: Path) -> None:
    for _ in range(3):
        (tmp_path / "noise.mkv").write_bytes(os.urandom(10_000))
        with pytest.raises(MediaError):
            hash_video(tmp_path / "noise.mkv")
    assert hash_video(small_video).frames
