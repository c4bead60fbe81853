"""Malformed videos through the sandboxed decoder: each one a typed error or a result.

Seeds are small videos made in code (Matroska rawvideo, MPEG-4 in MP4) and Meta's smallest
reference video (tests/data); each input is a seed with a few random edits (tests/fuzz's
mutator: bit flips, bytes, cuts, copies, splices). One warm :class:`VideoSandbox` decodes
them all, so a decoder that crashes or hangs costs one forked child, never this process.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import av

from stopspread.errors import MediaError
from stopspread.hashing import VideoLimits, VideoSandbox, hash_video
from tests.conftest import TESTDATA, synthetic_rgb
from tests.fuzz.harnesses import mutate
from tests.hashing.videokit import raw_mkv

__all__ = ["VideoReport", "fuzz_videos", "video_seeds"]

# Generous enough for every seed, tight enough that a hostile file is over in seconds.
LIMITS = VideoLimits(max_seconds=15.0, max_frames=5_000, max_memory_bytes=1024**3)


@dataclass
class VideoReport:
    """How the malformed videos ended: hashed, refused (by error type), or a crash."""

    inputs: int = 0
    hashed: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    crashes: list[tuple[bytes, str]] = field(default_factory=list)


def _mp4(path: Path, frames: int = 8) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=8)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            rgb = synthetic_rgb(64, 48, seed=i)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        out.mux(stream.encode(None))
    return path


def video_seeds(folder: Path) -> list[bytes]:
    """The seed files' bytes (made in ``folder``)."""
    made = [raw_mkv(folder / "seed.mkv", side=64, frames=4), _mp4(folder / "seed.mp4")]
    reference = TESTDATA / "vpdq" / "videos" / "test-padded-dimensions.mp4"
    return [p.read_bytes() for p in made] + [reference.read_bytes()]


def fuzz_videos(count: int, folder: Path, seed: int = 0) -> VideoReport:
    """``count`` malformed videos through one warm sandbox; every outcome counted."""
    rng = random.Random(seed)
    seeds = video_seeds(folder)
    report = VideoReport()
    target = folder / "input.mp4"
    with VideoSandbox() as sandbox:
        for _ in range(count):
            data = mutate(rng.choice(seeds), rng, seeds)
            target.write_bytes(data)
            report.inputs += 1
            try:
                hash_video(target, seconds_per_hash=0, limits=LIMITS, sandbox=sandbox)
            except MediaError as exc:
                report.refused[type(exc).__name__] += 1
            except Exception as exc:  # a crash of this (the parent) process's code
                report.crashes.append((data, f"{type(exc).__name__}: {exc}"[:300]))
            else:
                report.hashed += 1
    return report
