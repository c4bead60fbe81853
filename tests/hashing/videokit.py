"""Video test helpers: the reference vPDQ test set and derived copies.

Derived copies (re-encoded, half size, grey, a clip, a logo) are made with
FFmpeg through PyAV in a temporary folder at test time; nothing is committed.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from stopspread.hashing import FrameHash, VideoHashes, hash_video, parse_vpdq
from tests.conftest import TESTDATA

VPDQ_DATA = TESTDATA / "vpdq"
VIDEO_NAMES = (
    "chair-19-sd-bar",
    "chair-22-sd-grey-bar",
    "doorknob-hd-no-bar",
    "pattern-sd-grey-bar",
    "test-padded-dimensions",
)
# chair-22 is chair-19's footage made grey and longer (Meta's own derived copy): they match.
SAME_FOOTAGE = frozenset({"chair-19-sd-bar", "chair-22-sd-grey-bar"})


def reference_hashes(data: Path, name: str) -> list[FrameHash]:
    with (data / "hashes" / f"{name}.txt").open() as fh:
        return list(parse_vpdq(fh))


class VideoCache:
    """Hash each (path, mode, step) once per session: the sandboxed decode is the slow part."""

    def __init__(self) -> None:
        self._done: dict[tuple[str, float], VideoHashes] = {}

    def get(self, path: Path, seconds_per_hash: float = 1.0) -> VideoHashes:
        key = (str(path), seconds_per_hash)
        if key not in self._done:
            self._done[key] = hash_video(path, seconds_per_hash=seconds_per_hash)
        return self._done[key]


FrameEdit = Callable[[av.VideoFrame], av.VideoFrame]


def transcode(
    src: Path,
    dst: Path,
    *,
    edit: FrameEdit = lambda frame: frame,
    seconds: tuple[float, float] | None = None,
    bit_rate: int | None = None,
) -> Path:
    """Decode ``src``, edit each frame, cut to ``seconds`` (start, end), encode H.264."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream_in = inp.streams.video[0]
        rate = stream_in.average_rate or Fraction(30)
        encoder: av.video.stream.VideoStream | None = None
        written = 0
        for index, frame in enumerate(inp.decode(stream_in)):
            if seconds and not seconds[0] <= index / float(rate) < seconds[1]:
                continue
            edited = edit(frame).reformat(format="yuv420p")
            edited.pts, edited.time_base = written, 1 / rate  # frames numbered from 0
            written += 1
            if encoder is None:
                encoder = out.add_stream("libx264", rate=rate)
                encoder.time_base = 1 / rate
                encoder.width, encoder.height = edited.width // 2 * 2, edited.height // 2 * 2
                encoder.pix_fmt = "yuv420p"
                encoder.options = {"preset": "ultrafast"}
                if bit_rate:
                    encoder.bit_rate = bit_rate
            out.mux(encoder.encode(edited))
        if encoder is not None:
            out.mux(encoder.encode(None))
    return dst


def half_size(frame: av.VideoFrame) -> av.VideoFrame:
    return frame.reformat(width=frame.width // 2, height=frame.height // 2, interpolation="AREA")


def grey(frame: av.VideoFrame) -> av.VideoFrame:
    return frame.reformat(format="gray")


def logo(frame: av.VideoFrame) -> av.VideoFrame:
    """A half-transparent chequered 'watermark' in a corner, an eighth of the frame wide."""
    rgb = frame.to_ndarray(format="rgb24")
    side = max(8, rgb.shape[1] // 8)
    y, x = np.mgrid[0:side, 0:side]
    mark = np.where(((y // 6 + x // 6) % 2) == 0, 255.0, 0.0)[..., None]
    corner = rgb[16 : 16 + side, 16 : 16 + side].astype(np.float64)
    blended = 0.5 * corner + 0.5 * mark[: corner.shape[0], : corner.shape[1]]
    rgb[16 : 16 + side, 16 : 16 + side] = blended.astype(np.uint8)
    return av.VideoFrame.from_ndarray(rgb, format="rgb24")


def raw_mkv(path: Path, side: int = 256, frames: int = 3, fps: int = 10) -> Path:
    """A tiny rawvideo Matroska file: its frame size lives only in the container header."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("rawvideo", rate=fps)
        stream.width = stream.height = side
        stream.pix_fmt = "gray"
        for i in range(frames):
            pixels = np.full((side, side), (40 * i) % 200, dtype=np.uint8)
            pixels[::7] = 250  # some detail
            out.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="gray")))
        out.mux(stream.encode(None))
    return path
