"""The views of one video frame that the robust video modes hash.

A copy of a video often gains or loses flat bars (letterbox, pillarbox, a grey frame), is
cropped to 80-90 %, or carries a logo in a corner; the whole frame's PDQ then moves past the
match radius (a 5 % change of scale moves it ~55 bits on Meta's test videos). So:

- **enrolment** hashes the whole frame and its centre ``CENTRE_KEEP``; with flat bars, also
  the content with the bars trimmed (2 or 3 hashes a frame);
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
# Passes of trimming: bars around bars (pillarbox around a letterboxed picture).
_MAX_PASSES: Final = 3
# The enrolled centre view keeps this share of each side (of the frame, and of its content).
CENTRE_KEEP: Final = 0.8
# Queries' centre crops: CENTRE_KEEP / c for copies cropped to c = 0.98, 0.95, ... 0.83 (the
# whole frame is c = 0.8), so every crop from 80 % to 100 % lands within 1.5 % of scale of
# the enrolled centre (on Meta's test videos 1.5 % of scale moves PDQ 15-30 bits: video.md).
QUERY_LADDER: Final = tuple(round(CENTRE_KEEP * 100 / c, 3) for c in range(98, 80, -3))

Pixels = npt.NDArray[np.uint8]


def _bar_depth(means: npt.NDArray[np.float32], stds: npt.NDArray[np.float32]) -> int:
    """How many leading lines (first = outer edge), given their mean and std of luma, form
    a flat bar of the edge's level."""
    bad = (stds > _FLAT_STD) | (np.abs(means - means[0]) > _SAME_LEVEL)
    return int(np.argmax(bad)) if bad.any() else len(bad)


def content_box(pixels: Pixels) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the frame without flat bars; the whole frame if the
    bars would leave under ``_MIN_KEEP`` of a side (a flat or nearly flat frame).

    Bars nest (black pillarbox bars around a grey letterboxed picture): trimmed again until
    nothing more goes, at most ``_MAX_PASSES`` times."""
    h, w, _ = pixels.shape
    top, bottom, left, right = 0, h, 0, w
    for _ in range(_MAX_PASSES):
        t, b, lo, r = _one_pass(pixels[top:bottom, left:right])
        if (t, b, lo, r) == (0, bottom - top, 0, right - left):
            break
        top, bottom, left, right = top + t, top + b, left + lo, left + r
    if bottom - top < _MIN_KEEP * h or right - left < _MIN_KEEP * w:
        return 0, h, 0, w
    return top, bottom, left, right


def _one_pass(pixels: Pixels) -> tuple[int, int, int, int]:
    luma = pixels[:, :, 1].astype(np.float32)  # green: close enough to luma for flat bars
    h, w = luma.shape
    rows = luma.mean(axis=1), luma.std(axis=1)
    cols = luma.mean(axis=0), luma.std(axis=0)
    top = _bar_depth(*rows)
    bottom = h - _bar_depth(rows[0][::-1], rows[1][::-1])
    left = _bar_depth(*cols)
    right = w - _bar_depth(cols[0][::-1], cols[1][::-1])
    if bottom <= top or right <= left:  # a flat frame: no content to keep
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
        return [*bases, _centre(pixels, CENTRE_KEEP)]
    return bases + [_centre(pixels, keep) for keep in QUERY_LADDER]
