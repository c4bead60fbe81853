"""The ordered rule of video matching: frames matched in enrolment order, and its settings."""

from __future__ import annotations

import pytest

from stopspread.matching.video import VideoComparison, VideoMatchSettings, ordered_matches


def test_longest_chain_takes_one_position_per_frame_in_order() -> None:
    assert ordered_matches([]) == 0
    assert ordered_matches([[5], [6], [7]]) == 3
    assert ordered_matches([[7], [6], [5]]) == 1  # backwards: one at a time
    assert ordered_matches([[1, 2, 3], [], [2]]) == 2  # one position per frame
    assert ordered_matches([[10, 1], [2], [11, 3]]) == 3
    assert ordered_matches([[4], [4], [4]]) == 1  # the same enrolled frame is not an order


def test_the_ordered_rule_needs_enough_frames_and_the_percent() -> None:
    settings = VideoMatchSettings()
    assert (settings.sequence_distance, settings.min_sequence_frames) == (48, 3)
    ordered = VideoComparison(0, 4, 100, 0, 0, ordered_matched=4)
    assert ordered.is_match(settings)
    assert not VideoComparison(0, 2, 100, 0, 0, ordered_matched=2).is_match(settings)
    assert not VideoComparison(0, 10, 100, 0, 0, ordered_matched=5).is_match(settings)
    assert not ordered.is_match(VideoMatchSettings(min_sequence_frames=5))
    with pytest.raises(ValueError, match="sequence_distance"):
        VideoMatchSettings(frame_distance=31, sequence_distance=30)
    with pytest.raises(ValueError, match="min_sequence_frames"):
        VideoMatchSettings(min_sequence_frames=0)
