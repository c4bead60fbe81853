"""vPDQ values: frame hashes, the modes and limits of video hashing, Meta's text format.

A vPDQ signal is a list of frame hashes, one text line each, exactly as Meta's
reference writes them::

    frame_number,quality,pdq_hex,timestamp_seconds      e.g. 3,100,c0f0…855c,0.100

See ``docs/video.md`` for the pipeline that produces them (``video.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Final

from stopspread.errors import HashFormatError
from stopspread.hashing.decode import MiB
from stopspread.hashing.pdq import PDQ_MIN_QUALITY, PdqHash

__all__ = [
    "DEFAULT_SECONDS_PER_HASH",
    "DEFAULT_VIDEO_LIMITS",
    "ENROL_SECONDS_PER_HASH",
    "FrameHash",
    "FrameViews",
    "VideoLimits",
    "VideoMode",
    "format_vpdq",
    "parse_vpdq",
    "parse_vpdq_line",
]

DEFAULT_SECONDS_PER_HASH: Final = 1.0  # Meta's vPDQ default: one frame hash per second
# Robust enrolment hashes every frame, so a copy sampled at other times (another frame rate,
# a speed change, keyframes) still finds each of its frames enrolled: in Meta's test videos
# neighbouring frames are 44-64 bits apart, so anything sparser misses (docs/video.md).
ENROL_SECONDS_PER_HASH: Final = 0.0
GiB: Final = 1024 * MiB


class VideoMode(Enum):
    """How frames are chosen and prepared.

    ``REFERENCE`` is Meta's vPDQ: every decoded frame is counted, one frame per
    ``seconds_per_hash`` is converted to RGB at native size and hashed.
    ``FAST`` (for scanning) decodes keyframes only, shrunk before hashing; its
    frame numbers come from timestamps. ``docs/video.md`` gives its drift.
    ``ROBUST_ENROL`` (enrolment) and ``ROBUST_QUERY_DENSE`` (scans' second look)
    pick frames as ``REFERENCE`` does, ``ROBUST_QUERY`` (scans) as ``FAST`` does; all
    three shrink as ``FAST`` does and add to each frame's hash the hashes of other
    views of it (bars trimmed, centre crops): extra records with the same frame
    number, so letterbox, pillarbox, crops and corner logos still meet
    (``_frame_views``, ``docs/video.md``).
    """

    REFERENCE = "reference"
    FAST = "fast"
    ROBUST_ENROL = "robust-enrol"
    ROBUST_QUERY = "robust-query"
    ROBUST_QUERY_DENSE = "robust-query-dense"

    @property
    def keyframes_only(self) -> bool:
        """Only keyframe packets are decoded (frames numbered from their timestamps)."""
        return self in (VideoMode.FAST, VideoMode.ROBUST_QUERY)

    @property
    def views(self) -> FrameViews:
        """Which views of each picked frame are hashed."""
        if self is VideoMode.ROBUST_ENROL:
            return FrameViews.ENROL
        if self in (VideoMode.ROBUST_QUERY, VideoMode.ROBUST_QUERY_DENSE):
            return FrameViews.QUERY
        return FrameViews.WHOLE


class FrameViews(Enum):
    """The views of a frame a mode hashes (``_frame_views``): the whole frame only (vPDQ),
    or the robust sets of enrolment and of queries."""

    WHOLE = "whole"
    ENROL = "enrol"
    QUERY = "query"


@dataclass(frozen=True, slots=True)
class VideoLimits:
    """Caps for untrusted video; each one ends decoding with a typed error.

    - ``max_bytes``: file size, checked before opening (2 GiB: a long HD upload).
    - ``max_frame_pixels``: width x height of a frame, from the header and again
      for every decoded frame (8K UHD, 7680 x 4320, the largest size in use).
    - ``max_frames``: decoded frames (or keyframe packets in fast mode): 3 hours at
      60 fps; past it a stream is treated as endless.
    - ``max_seconds``: wall time of the decoding child process.
    - ``max_memory_bytes``: address-space limit (``RLIMIT_AS``) of that child.
    """

    max_bytes: int = 2 * GiB
    max_frame_pixels: int = 7680 * 4320
    max_frames: int = 3 * 3600 * 60
    max_seconds: float = 600.0
    max_memory_bytes: int = 4 * GiB

    def __post_init__(self) -> None:
        values = (self.max_bytes, self.max_frame_pixels, self.max_frames)
        if min(values) <= 0 or self.max_seconds <= 0 or self.max_memory_bytes <= 0:
            raise ValueError("video limits must be positive")


DEFAULT_VIDEO_LIMITS: Final = VideoLimits()


@dataclass(frozen=True, slots=True)
class FrameHash:
    """The PDQ hash of one video frame: Meta's ``frame,quality,hex,timestamp`` record."""

    frame: int
    quality: int
    pdq: PdqHash
    timestamp: float  # seconds from the start of the video

    @property
    def low_quality(self) -> bool:
        """Quality under 50: vPDQ matching ignores this frame."""
        return self.quality < PDQ_MIN_QUALITY

    def line(self) -> str:
        """Meta's text form; the timestamp with 3 decimals as the reference prints it."""
        return f"{self.frame},{self.quality},{self.pdq.hex},{self.timestamp:.3f}"

    def __repr__(self) -> str:  # hashes are sensitive: keep them out of logs
        return f"FrameHash(frame={self.frame}, quality={self.quality}, pdq=<redacted>)"


def format_vpdq(frames: Iterable[FrameHash]) -> str:
    """The text of a vPDQ hash file: one line per frame, newline-terminated."""
    return "".join(f.line() + "\n" for f in frames)


def parse_vpdq_line(line: str) -> FrameHash:
    """Parse ``frame,quality,hex,timestamp`` (the timestamp may be missing, as in old files)."""
    parts = [p.strip() for p in line.strip().split(",")]
    if len(parts) not in (3, 4):
        raise HashFormatError("a vPDQ line is frame,quality,pdq_hex,timestamp")
    try:
        frame, quality = int(parts[0]), int(parts[1])
        timestamp = float(parts[3]) if len(parts) == 4 else 0.0
    except ValueError:
        raise HashFormatError("vPDQ frame and quality are integers, timestamp a number") from None
    if frame < 0 or not 0 <= quality <= 100 or not math.isfinite(timestamp):
        raise HashFormatError("vPDQ frame must be >= 0, quality 0-100, timestamp finite")
    return FrameHash(frame, quality, PdqHash.from_hex(parts[2]), timestamp)


def parse_vpdq(lines: Iterable[str]) -> Iterator[FrameHash]:
    """Parse a vPDQ hash file, skipping blank lines and ``#`` comments."""
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            yield parse_vpdq_line(text)
        except HashFormatError as exc:
            raise HashFormatError(f"line {number}: {exc}") from None
