"""Decode a video with PyAV (FFmpeg) and hash its frames. Runs inside the sandbox child.

Reference mode follows Meta's vPDQ (``vpdq/cpp/hashing/filehasher.cpp``):
frames are numbered in decoder output order from 0; with ``step =
max(1, int(seconds_per_hash * fps))`` frame ``n`` is hashed when ``n % step == 0``;
the frame is converted to RGB24 at its native size (swscale ``AREA``, as the
reference asks) and hashed by PDQ without any pre-downsampling; its timestamp
is ``float32(n) / float32(fps)``, where fps is the stream's average frame
rate (its real base rate when that is unknown).

Fast mode sends only keyframe packets to the decoder and shrinks each frame
(short side ``FAST_SHORT_SIDE``) before hashing; frame numbers come from the
presentation timestamps. The robust modes pick frames as fast and reference mode
do, shrink them to a short side of ``ROBUST_SHORT_SIDE`` and hash each one's views
(``_frame_views``).
"""

from __future__ import annotations

import itertools
import math
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

import av
import av.container
import av.video.frame
import av.video.stream
import numpy as np

from stopspread.errors import (
    MediaError,
    MediaTooLargeError,
    UnsupportedMediaError,
    VideoDecodeError,
)
from stopspread.hashing._frame_views import frame_views
from stopspread.hashing.pdq import hash_pixels
from stopspread.hashing.vpdq import FrameHash, VideoLimits, VideoMode

__all__ = [
    "ALLOWED_DEMUXERS",
    "FAST_SHORT_SIDE",
    "ROBUST_SHORT_SIDE",
    "DecodedVideo",
    "decode_and_hash",
]

# Containers FFmpeg may open. Fewer demuxers, less attack surface; and no playlist
# formats (HLS, concat), which can make FFmpeg read other files.
ALLOWED_DEMUXERS: Final = ("mov", "mp4", "matroska", "webm", "avi", "flv", "mpegts", "mpeg", "asf")
# Only local files: a hostile container cannot make FFmpeg open a URL.
_OPEN_OPTIONS: Final = {
    "protocol_whitelist": "file",
    "format_whitelist": ",".join(ALLOWED_DEMUXERS),
}
# Fast mode shrinks frames by the largest whole factor that keeps the short side at least
# this many pixels (1080p -> 640x360, 720p -> 640x360, SD unchanged). PDQ looks at a 64x64
# blur, so 360 is more than 5x that; measured drift in docs/video.md.
FAST_SHORT_SIDE: Final = 360
# The robust modes hash a dozen views of a frame, cut from it at this short side: a pixel is
# 0.35 % of scale, so crops stay precise, and a view's PDQ costs ~0.7 ms (at 144 pixels,
# 0.2 ms, but crop rounding then moves hashes ~10 bits more: docs/video.md).
ROBUST_SHORT_SIDE: Final = 216
# Robust enrolment skips a frame this close (bits) to the last one it kept: a copy's frame
# near a skipped one is then within ENROL_SKIP_BITS + its own drift of a kept one.
ENROL_SKIP_BITS: Final = 10
# Frames being converted and hashed on worker threads while the decoder goes on; bounds memory.
_IN_FLIGHT_PER_THREAD: Final = 4
# Threads converting and hashing frames beside the decoder (PyAV and the PDQ core release
# the GIL); more than 4 buys little because the decoder itself becomes the bottleneck.
HASH_THREADS: Final = max(1, min(4, os.cpu_count() or 1))
_RGB: Final = "rgb24"
_AREA: Final = "AREA"  # swscale flag the reference uses (SWS_AREA)


@dataclass(frozen=True, slots=True)
class DecodedVideo:
    """What the child sends back: the frame hashes and a little about the stream."""

    frames: tuple[FrameHash, ...]
    width: int
    height: int
    fps: float
    container: str
    codec: str


def _frame_rate(stream: av.video.stream.VideoStream) -> float:
    """Average frame rate, else the real base rate, as the reference picks it."""
    for rate in (stream.average_rate, stream.base_rate):
        if rate is not None and rate.numerator > 0 and rate.denominator > 0:
            return float(rate)
    raise VideoDecodeError("video has no frame rate")


def _check_size(width: int, height: int, limits: VideoLimits) -> None:
    if width <= 0 or height <= 0:
        raise VideoDecodeError(f"video has an empty frame size {width}x{height}")
    if width * height > limits.max_frame_pixels:
        raise MediaTooLargeError(
            f"video frames are {width}x{height} = {width * height:,} pixels, "
            f"over the {limits.max_frame_pixels:,}-pixel limit"
        )


def _fast_size(width: int, height: int) -> tuple[int, int]:
    """Shrink by a whole factor (box averaging moves PDQ least) to a short side >= the target."""
    factor = max(1, min(width, height) // FAST_SHORT_SIDE)
    return max(1, width // factor), max(1, height // factor)


def _size(width: int, height: int, mode: VideoMode) -> tuple[int | None, int | None]:
    """The size a mode hashes a frame at (``None``: native)."""
    if mode is VideoMode.REFERENCE:
        return None, None
    if mode is VideoMode.FAST:
        return _fast_size(width, height)
    scale = min(1.0, ROBUST_SHORT_SIDE / min(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _hash_frame(
    frame: av.video.frame.VideoFrame, number: int, timestamp: float, mode: VideoMode
) -> list[FrameHash]:
    width, height = _size(frame.width, frame.height, mode)
    pixels = frame.to_ndarray(width=width, height=height, format=_RGB, interpolation=_AREA)
    rgb = np.asarray(pixels, dtype=np.uint8)
    views = frame_views(rgb, mode.views)
    results = [hash_pixels(np.ascontiguousarray(view)) for view in views]
    return [FrameHash(number, r.quality, r.hash, timestamp) for r in results]


class _Packets:
    """Demux the video stream's packets, counting them against the frame cap."""

    def __init__(
        self, container: av.container.InputContainer, stream: av.video.stream.VideoStream
    ) -> None:
        self.container, self.stream, self.count = container, stream, 0

    def __iter__(self) -> Iterator[av.Packet[av.video.stream.VideoStream]]:
        for packet in self.container.demux(self.stream):
            if packet.size:
                self.count += 1
            yield packet

    def check_complete(self, hashed: int) -> None:
        """No frame at all, or fewer than the container declares (MP4, MOV): cut short."""
        if not hashed:
            raise VideoDecodeError("video has no decodable frames")
        declared = self.stream.frames
        if declared and self.count < declared:
            raise VideoDecodeError(
                f"video is truncated: {self.count:,} of {declared:,} frames present"
            )


def _reference_frames(
    packets: _Packets, step: int, fps: float, limits: VideoLimits
) -> Iterator[tuple[av.video.frame.VideoFrame, int, float]]:
    """Every decoded frame counted, one in ``step`` yielded with its number and timestamp."""
    number = 0
    for packet in packets:
        for frame in packet.decode():
            if number >= limits.max_frames:
                raise MediaTooLargeError(f"video has more than {limits.max_frames:,} frames")
            if number % step == 0 and isinstance(frame, av.video.frame.VideoFrame):
                _check_size(frame.width, frame.height, limits)
                yield frame, number, float(np.float32(number) / np.float32(fps))
            number += 1


def _fast_frames(
    packets: _Packets, step: int, fps: float, limits: VideoLimits
) -> Iterator[tuple[av.video.frame.VideoFrame, int, float]]:
    """Keyframes only, at most one per ``step`` frames, numbered from their timestamps."""
    time_base = packets.stream.time_base or Fraction(1, 1)
    start = packets.stream.start_time or 0
    next_due = 0
    for packet in packets:
        if packets.count > limits.max_frames:
            raise MediaTooLargeError(f"video has more than {limits.max_frames:,} frames")
        if not packet.is_keyframe and packet.size:
            continue
        for frame in packet.decode():
            if not isinstance(frame, av.video.frame.VideoFrame) or frame.pts is None:
                continue
            number = max(0, round(float((frame.pts - start) * time_base) * fps))
            if number >= next_due:
                _check_size(frame.width, frame.height, limits)
                next_due = number + step
                yield frame, number, float(np.float32(number) / np.float32(fps))


def _thin(frames: list[FrameHash]) -> list[FrameHash]:
    """Enrolment keeps a frame only when its whole-frame hash moved more than
    ``ENROL_SKIP_BITS`` from the last kept frame's: still footage costs few signals, fast
    footage (Meta's test videos, 44-64 bits between neighbours) keeps every frame."""
    kept: list[FrameHash] = []
    last: FrameHash | None = None
    for _number, group in itertools.groupby(frames, key=lambda f: f.frame):
        views = list(group)
        if last is None or views[0].pdq.distance(last.pdq) > ENROL_SKIP_BITS:
            kept += views
            last = views[0]
    return kept


def _open(path: str) -> av.container.InputContainer:
    try:
        return av.open(path, mode="r", options=dict(_OPEN_OPTIONS))
    except av.ArgumentError:
        raise UnsupportedMediaError("not a video container we decode") from None
    except av.FFmpegError as exc:
        raise VideoDecodeError(f"cannot open video: {exc.strerror or exc}") from None


def _video_stream(container: av.container.InputContainer) -> av.video.stream.VideoStream:
    if not container.streams.video:
        raise UnsupportedMediaError("file has no video stream")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"  # frame + slice threads: same frames, in the same order
    return stream


def _run(
    container: av.container.InputContainer, mode: VideoMode, seconds: float, limits: VideoLimits
) -> DecodedVideo:
    stream = _video_stream(container)
    ctx = stream.codec_context
    _check_size(ctx.width, ctx.height, limits)
    fps = _frame_rate(stream)
    step = max(1, int(seconds * fps))
    pick = _fast_frames if mode.keyframes_only else _reference_frames
    threads = HASH_THREADS
    frames: list[FrameHash] = []
    packets = _Packets(container, stream)
    with ThreadPoolExecutor(threads, thread_name_prefix="stopspread-vpdq") as pool:
        pending: deque[Future[list[FrameHash]]] = deque()
        for frame, number, timestamp in pick(packets, step, fps, limits):
            pending.append(pool.submit(_hash_frame, frame, number, timestamp, mode))
            if len(pending) >= threads * _IN_FLIGHT_PER_THREAD:
                frames.extend(pending.popleft().result())
        for future in pending:
            frames.extend(future.result())
    packets.check_complete(len(frames))
    ordered = sorted(frames, key=lambda f: f.frame)  # stable: a frame's views stay in order
    return DecodedVideo(
        frames=tuple(_thin(ordered) if mode is VideoMode.ROBUST_ENROL else ordered),
        width=ctx.width,
        height=ctx.height,
        fps=fps,
        container=container.format.name,
        codec=ctx.name,
    )


def decode_and_hash(
    path: str, mode: VideoMode, seconds_per_hash: float, limits: VideoLimits
) -> DecodedVideo:
    """Hash one video file. Every failure is a :class:`~stopspread.errors.MediaError`."""
    if not math.isfinite(seconds_per_hash) or seconds_per_hash < 0:
        raise ValueError("seconds_per_hash must be a finite number >= 0")
    try:
        with _open(path) as container:
            return _run(container, mode, seconds_per_hash, limits)
    except MediaError:
        raise
    except av.FFmpegError as exc:
        raise VideoDecodeError(f"video data is damaged: {exc.strerror or exc}") from None
    except (ValueError, OverflowError, ZeroDivisionError) as exc:
        raise VideoDecodeError(f"video header is inconsistent: {exc}") from None
