"""The views of a video frame that robust modes hash: bars trimmed (nested too), centres."""

from __future__ import annotations

import numpy as np

from stopspread.hashing._frame_views import CENTRE_KEEP, QUERY_LADDER, content_box, frame_views
from stopspread.hashing.vpdq import FrameViews


def _picture(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_flat_bars_are_trimmed_even_when_nested() -> None:
    frame = np.zeros((300, 400, 3), dtype=np.uint8)  # black pillarbox bars
    frame[:, 50:350] = 128  # around a grey letterbox
    frame[40:260, 50:350] = _picture(220, 300)
    assert content_box(frame) == (40, 260, 50, 350)
    noisy = frame.copy()
    noisy[:40] += np.random.default_rng(1).integers(0, 3, (40, 400, 3), dtype=np.uint8)
    assert content_box(noisy) == (40, 260, 50, 350)  # codec noise on a bar is still a bar


def test_a_flat_or_barless_frame_keeps_its_whole_box() -> None:
    assert content_box(np.full((64, 64, 3), 30, dtype=np.uint8)) == (0, 64, 0, 64)
    assert content_box(_picture(64, 80)) == (0, 64, 0, 80)
    mostly_bar = np.zeros((100, 100, 3), dtype=np.uint8)
    mostly_bar[45:55] = _picture(10, 100)  # content under 40 % of a side: not trimmed
    assert content_box(mostly_bar) == (0, 100, 0, 100)


def test_views_per_role() -> None:
    plain = _picture(120, 160)
    barred = np.zeros((160, 160, 3), dtype=np.uint8)
    barred[20:140] = plain
    assert len(frame_views(plain, FrameViews.WHOLE)) == 1
    assert len(frame_views(plain, FrameViews.ENROL)) == 2  # whole, centre
    assert len(frame_views(barred, FrameViews.ENROL)) == 3  # whole, content, centre
    query = frame_views(barred, FrameViews.QUERY)
    assert len(query) == 2 + len(QUERY_LADDER)
    assert np.array_equal(query[1], plain)  # the content, bars trimmed
    centre = frame_views(plain, FrameViews.ENROL)[1]
    assert abs(centre.shape[0] - 120 * CENTRE_KEEP) <= 2  # whole pixels either side
    assert abs(centre.shape[1] - 160 * CENTRE_KEEP) <= 2
    # A copy cropped to c of the frame, cut again by the ladder, meets the enrolled centre.
    assert all(CENTRE_KEEP < keep < 1 for keep in QUERY_LADDER)
