"""The views of one video frame that the robust video modes hash.

A copy of a video often gains or loses flat bars (letterbox, pillarbox, a grey frame), is
cropped to 80-90 %, or carries a logo in a corner; the whole frame's PDQ then moves past the
match radius (a 5 % change of scale moves it ~55 bits on Meta's test videos). So:

- **enrolment** hashes the whole frame and its centre ``CENTRE_KEEP``; with flat bars, also
  the content with the bars trimmed and that content's centre (2 or 4 hashes a frame);
- a **query** hashes the whole frame, the content (bars trimmed), and a ladder of centre
  crops ``QUERY_LADDER`` of the whole frame: a copy cropped to ``c`` of the frame, cut again to
  ``CENTRE_KEEP / c``, is near the enrolled centre for any ``c`` from ``CENTRE_KEEP`` to 1.

The ladder costs queries a few PDQ hashes per sampled frame (cheap: a frame a second), not
enrolled storage. ``docs/video.md`` measures it.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from stopspread.hashing.vpdq import FrameViews

__all__ = ["CENTRE_KEEP", "QUERY_LADDER", "content_box", "frame_views"]

# A row or column is part of a bar when its brightness varies this little (std, 0-255):
# codec noise on a flat bar is ~1-2, the flattest real picture rows are well over this.
_FLAT_STD: Final = 4.0
# ... and when its mean brightness is this close to the bar's outer edge.
_SAME_LEVEL: Final = 12.0
# The trimmed content must keep at least this share of each side, else nothing is trimmed.
_MIN_KEEP: Final = 0.4
# The enrolled centre view keeps this share of each side (of the frame, and of its content).
CENTRE_KEEP: Final = 0.8
# Queries' centre crops: CENTRE_KEEP / c for copies cropped to c = 0.98, 0.95, ... 0.8, so
# every crop from 80 % to 100 % lands within ~1.5 % of scale of the enrolled centre.
QUERY_LADDER: Final = tuple(
    round(CENTRE_KEEP / c, 3) for c in (0.98, 0.95, 0.92, 0.89, 0.86, 0.83, 0.8)
)

Pixels = npt.NDArray[np.uint8]


def _bar_depth(lines: npt.NDArray[np.float64]) -> int:
    """How many leading lines (rows of luma, first = outer edge) form a flat bar."""
    edge = lines[0].mean()
    depth = 0
    for line in lines:
        if line.std() > _FLAT_STD or abs(line.mean() - edge) > _SAME_LEVEL:
            break
        depth += 1
    return depth


def content_box(pixels: Pixels) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the frame without flat bars; the whole frame if the
    bars would leave under ``_MIN_KEEP`` of a side (a flat or nearly flat frame)."""
    luma = pixels.astype(np.float64).mean(axis=2)
    h, w = luma.shape
    top = _bar_depth(luma)
    bottom = h - _bar_depth(luma[::-1])
    left = _bar_depth(luma.T)
    right = w - _bar_depth(luma.T[::-1])
    if bottom - top < _MIN_KEEP * h or right - left < _MIN_KEEP * w:
        return 0, h, 0, w
    return top, bottom, left, right


def _centre(pixels: Pixels, keep: float) -> Pixels:
    h, w, _ = pixels.shape
    dy, dx = int(h * (1 - keep) / 2), int(w * (1 - keep) / 2)
    return pixels[dy : h - dy, dx : w - dx]


def frame_views(pixels: Pixels, views: FrameViews) -> list[Pixels]:
    """The views of one frame to hash, the whole frame first."""
    if views is FrameViews.WHOLE:
        return [pixels]
    h, w, _ = pixels.shape
    top, bottom, left, right = content_box(pixels)
    bases = [pixels]
    if (top, bottom, left, right) != (0, h, 0, w):
        bases.append(pixels[top:bottom, left:right])
    if views is FrameViews.ENROL:
        return bases + [_centre(base, CENTRE_KEEP) for base in bases]
    return bases + [_centre(pixels, keep) for keep in QUERY_LADDER]
