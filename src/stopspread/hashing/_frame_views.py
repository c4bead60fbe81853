"""The views of one video frame that robust video modes hash: whole, bars trimmed, centre.

A copy of a video often gains or loses flat bars (letterbox, pillarbox, a grey frame), is
cropped a little, or carries a logo in a corner; the whole frame's PDQ then moves past the
match radius. Hashing the frame's content with flat bars trimmed, and the centre of that
content, gives enrolment and query a view in common (``docs/video.md`` measures it).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["CENTRE_KEEP", "content_box", "robust_views"]

# A row or column is part of a bar when its brightness varies this little (std, 0-255):
# codec noise on a flat bar is ~1-2, the flattest real picture rows are well over this.
_FLAT_STD: Final = 4.0
# ... and when its mean brightness is this close to the bar's outer edge.
_SAME_LEVEL: Final = 12.0
# The trimmed content must keep at least this share of each side, else nothing is trimmed.
_MIN_KEEP: Final = 0.4
# The centre view keeps this share of each side of the content: crops of 80-90 % and logos
# in a corner fall (mostly) outside it.
CENTRE_KEEP: Final = 0.8

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


def robust_views(pixels: Pixels) -> list[Pixels]:
    """The whole frame, its content with bars trimmed (when there are bars), and the centre
    ``CENTRE_KEEP`` of that content."""
    h, w, _ = pixels.shape
    top, bottom, left, right = content_box(pixels)
    content = pixels[top:bottom, left:right]
    views = [pixels]
    if (top, bottom, left, right) != (0, h, 0, w):
        views.append(content)
    ch, cw = bottom - top, right - left
    dy, dx = int(ch * (1 - CENTRE_KEEP) / 2), int(cw * (1 - CENTRE_KEEP) / 2)
    views.append(content[dy : ch - dy, dx : cw - dx])
    return views
