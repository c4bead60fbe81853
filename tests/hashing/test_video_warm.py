"""The warm sandbox: one decoder process for many files, same limits and errors per file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stopspread.errors import MediaError, MediaTimeoutError
from stopspread.hashing import VideoLimits, VideoMode, VideoSandbox, hash_video

from .videokit import raw_mkv


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return raw_mkv(tmp_path / "clip.mkv", frames=30)


@pytest.mark.parametrize("mode", list(VideoMode))
def test_same_hashes_as_the_one_shot_sandbox(clip: Path, mode: VideoMode) -> None:
    once = hash_video(clip, mode=mode, seconds_per_hash=0)
    with VideoSandbox() as sandbox:
        for _ in range(3):
            warm = hash_video(clip, mode=mode, seconds_per_hash=0, sandbox=sandbox)
            assert warm.frames == once.frames
            assert warm.digests == once.digests


def test_hostile_files_fail_alone_and_the_server_keeps_serving(tmp_path: Path, clip: Path) -> None:
    noise = tmp_path / "noise.mkv"
    noise.write_bytes(os.urandom(20_000))
    with VideoSandbox() as sandbox:
        with pytest.raises(MediaError):
            hash_video(noise, sandbox=sandbox)
        with pytest.raises(MediaTimeoutError):
            hash_video(clip, limits=VideoLimits(max_seconds=0.001), sandbox=sandbox)
        with pytest.raises(MediaError):  # 64 MiB of address space cannot hold the decoder
            hash_video(clip, limits=VideoLimits(max_memory_bytes=64 * 1024 * 1024), sandbox=sandbox)
        with pytest.raises(MediaError, match="no such file"):
            hash_video(tmp_path / "missing.mkv", sandbox=sandbox)
        assert hash_video(clip, sandbox=sandbox).frames


def test_a_dead_server_is_replaced(clip: Path) -> None:
    with VideoSandbox() as sandbox:
        assert hash_video(clip, sandbox=sandbox).frames
        assert sandbox._proc is not None
        sandbox._proc.kill()
        sandbox._proc.wait()
        assert hash_video(clip, sandbox=sandbox).frames


def test_close_stops_the_server(clip: Path) -> None:
    sandbox = VideoSandbox()
    hash_video(clip, sandbox=sandbox)
    proc = sandbox._proc
    assert proc is not None
    sandbox.close()
    assert proc.poll() is not None
