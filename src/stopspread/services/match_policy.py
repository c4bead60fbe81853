"""The match policy of this service, built once from its settings.

:func:`build_policy` is the one place settings become thresholds; :class:`~stopspread.services.
context.Services` holds the result (``svc.policy``) and scans take it from their
``ScanDeps``. See :mod:`stopspread.matching.policy` for what each threshold means.
"""

from __future__ import annotations

from stopspread.config import Settings
from stopspread.matching.policy import KindRule, MatchPolicy
from stopspread.matching.video import VideoMatchSettings, VideoRule

__all__ = ["MatchPolicy", "build_policy"]


def build_policy(settings: Settings) -> MatchPolicy:
    """``STOPSPREAD_MATCH_RADIUS``, ``_MATCH_MIN_ENROLLED_QUALITY``, ``_MATCH_MIN_QUERY_QUALITY``,
    ``_VIDEO_FRAME_RADIUS``, ``_VIDEO_MATCH_PERCENT``, ``_VIDEO_SEQUENCE_RADIUS`` and
    ``_VIDEO_SEQUENCE_FRAMES`` as one policy."""
    image = KindRule(
        radius=settings.match_radius,
        min_enrolled_quality=settings.match_min_enrolled_quality,
        min_query_quality=settings.match_min_query_quality,
    )
    video = VideoMatchSettings(
        rule=VideoRule.PART_OF_BANKED,
        query_percent=settings.video_match_percent,
        frame_distance=settings.video_frame_radius,
        sequence_distance=settings.video_sequence_radius,
        min_sequence_frames=settings.video_sequence_frames,
    )
    return MatchPolicy(pdq=image, video=video)
