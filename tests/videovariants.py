"""Held-out variants of the shared vPDQ test videos, made with PyAV at test time.

Each variant keeps the first ``seconds`` of a source video, at half size (small and fast),
and changes one thing: frame rate, bars, a logo, a crop, speed, bit rate. Nothing is committed;
``docs/video.md`` gives the table these make.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

__all__ = ["VARIANTS", "make_variant"]

Edit = Callable[[np.ndarray], np.ndarray]


def _same(rgb: np.ndarray) -> np.ndarray:
    return rgb


def _bars(rgb: np.ndarray, vertical: bool) -> np.ndarray:
    """Letterbox (bars above and below) or pillarbox (left and right), each an eighth."""
    h, w, _ = rgb.shape
    if vertical:
        pad = np.zeros((h // 8, w, 3), dtype=np.uint8)
        return np.concatenate([pad, rgb, pad], axis=0)
    pad = np.zeros((h, w // 4, 3), dtype=np.uint8)
    return np.concatenate([pad, rgb, pad], axis=1)


def _logo(rgb: np.ndarray) -> np.ndarray:
    """An opaque white 'channel logo' with dark text-like stripes, a fifth of the width."""
    out = rgb.copy()
    h, w, _ = out.shape
    side = w // 5
    y0, x0 = h - side // 2 - 12, w - side - 12
    out[y0 : y0 + side // 2, x0 : x0 + side] = 235
    out[y0 + 4 : y0 + side // 2 - 4 : 4, x0 + 4 : x0 + side - 4] = 20
    return out


def _crop(rgb: np.ndarray, keep: float = 0.85) -> np.ndarray:
    h, w, _ = rgb.shape
    ch, cw = int(h * keep), int(w * keep)
    top, left = (h - ch) // 2, (w - cw) // 2
    return rgb[top : top + ch, left : left + cw]


# name -> (output fps or None for the source's, speed, edit, bit rate)
VARIANTS: dict[str, tuple[float | None, float, Edit, int | None]] = {
    "fps15": (15.0, 1.0, _same, None),
    "fps24": (24.0, 1.0, _same, None),
    "fps60": (60.0, 1.0, _same, None),
    "letterbox": (None, 1.0, lambda f: _bars(f, True), None),
    "pillarbox": (None, 1.0, lambda f: _bars(f, False), None),
    "logo": (None, 1.0, _logo, None),
    "crop80": (None, 1.0, lambda f: _crop(f, 0.80), None),
    "crop85": (None, 1.0, _crop, None),
    "crop90": (None, 1.0, lambda f: _crop(f, 0.90), None),
    "speed1.25": (None, 1.25, _same, None),
    "low-bitrate": (None, 1.0, _same, 150_000),
}


def _source_frames(src: Path, seconds: float) -> tuple[list[np.ndarray], float]:
    with av.open(str(src)) as inp:
        stream = inp.streams.video[0]
        rate = float(stream.average_rate or 30)
        frames = []
        for frame in inp.decode(stream):
            if len(frames) >= seconds * rate:
                break
            small = frame.reformat(
                width=frame.width // 2 // 2 * 2, height=frame.height // 2 // 2 * 2
            )
            frames.append(small.to_ndarray(format="rgb24"))
    return frames, rate


def make_variant(src: Path, dst: Path, name: str, seconds: float = 6.0) -> Path:
    """Write variant ``name`` of ``src`` (its first ``seconds`` at half size) to ``dst``."""
    fps, speed, edit, bit_rate = VARIANTS[name]
    frames, rate = _source_frames(src, seconds)
    out_rate = fps or rate
    count = int(len(frames) / rate / speed * out_rate)
    with av.open(str(dst), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(out_rate).limit_denominator(1001))
        first = edit(frames[0])
        stream.height, stream.width = first.shape[0] // 2 * 2, first.shape[1] // 2 * 2
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "g": str(int(out_rate * 2) + 1)}  # off the grid
        if bit_rate:
            stream.bit_rate = bit_rate
        for k in range(count):
            index = min(len(frames) - 1, int(k / out_rate * speed * rate))
            rgb = np.ascontiguousarray(edit(frames[index])[: stream.height, : stream.width])
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            frame.pts = k
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return dst
