"""The one match policy: when a PDQ or MD5 signal, or a video, counts as a match.

Every path that decides a match takes its thresholds from one :class:`MatchPolicy`, built once
from the settings (``services.match_policy.build_policy``): the platform API (``/v1/match``,
``/v1/hash``) and the index replica it searches (and so its snapshots), scans of folders, sites
and batches, the video rule of scans, and the follow-up of takedown requests.

- **Images** (``pdq`` signals): a query hash of quality >= ``min_query_quality`` within
  ``radius`` bits of an enrolled hash of quality >= ``min_enrolled_quality``. A hash sent
  without a quality (plain-PDQ clients, partners' banks) is not refused for it.
- **MD5**: the same digest only.
- **Videos**: frames of quality >= ``min_quality`` (the vPDQ rule's 50), each within
  ``video.frame_distance`` bits of an enrolled frame; a match when at least
  ``video.query_percent`` % of the distinct usable frames of the download match, or (the
  ordered rule) at least ``video.min_sequence_frames`` frames, and that percent of them,
  are within ``video.sequence_distance`` bits of enrolled frames taken in enrolment order.

The defaults are the rule ``docs/robustness.md`` measured with 0 false matches on the photo
corpus (29 bits, enrolled quality >= 70, query quality >= 50) and Meta's vPDQ rule (31 bits a
frame, 80 %). A pure module: no database, no settings file, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from stopspread.hashing.pdq import PDQ_MATCH_DISTANCE, PDQ_MIN_QUALITY
from stopspread.hashing.signals import DEFAULT_SIGNAL_SET
from stopspread.matching.signal_types import MD5, PDQ, SignalKind
from stopspread.matching.video import (
    MIN_SEQUENCE_FRAMES,
    SEQUENCE_DISTANCE,
    VIDEO_MATCH_PERCENT,
    VideoMatchSettings,
    VideoRule,
)

__all__ = ["DEFAULT_POLICY", "KindRule", "MatchPolicy"]


@dataclass(frozen=True, slots=True)
class KindRule:
    """One signal kind's thresholds: a radius in bits and both sides' quality floors."""

    radius: int
    min_enrolled_quality: int = 0
    min_query_quality: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.radius <= 256:
            raise ValueError("a radius is 0-256 bits")
        if not (0 <= self.min_enrolled_quality <= 100 and 0 <= self.min_query_quality <= 100):
            raise ValueError("quality floors are 0-100")

    def enrolled_ok(self, quality: int | None) -> bool:
        """May an enrolled hash of this quality match? (``None``: sent without one.)"""
        return quality is None or quality >= self.min_enrolled_quality

    def query_ok(self, quality: int | None) -> bool:
        """May a query hash of this quality be looked up? (``None``: sent without one.)"""
        return quality is None or quality >= self.min_query_quality


_IMAGE: Final = KindRule(
    radius=DEFAULT_SIGNAL_SET.match_distance,
    min_enrolled_quality=DEFAULT_SIGNAL_SET.min_enrolled_quality,
    min_query_quality=DEFAULT_SIGNAL_SET.min_query_quality,
)
_VIDEO: Final = VideoMatchSettings(
    rule=VideoRule.PART_OF_BANKED,
    query_percent=VIDEO_MATCH_PERCENT,
    frame_distance=PDQ_MATCH_DISTANCE,
    min_quality=PDQ_MIN_QUALITY,
    sequence_distance=SEQUENCE_DISTANCE,
    min_sequence_frames=MIN_SEQUENCE_FRAMES,
)


@dataclass(frozen=True, slots=True)
class MatchPolicy:
    """The thresholds of every match decision, per signal kind, plus the video rule."""

    pdq: KindRule = _IMAGE
    md5: KindRule = field(default_factory=lambda: KindRule(radius=0))
    video: VideoMatchSettings = _VIDEO

    def rule(self, kind: SignalKind | str) -> KindRule:
        """The rule of a signal kind (or its stored name)."""
        name = kind if isinstance(kind, str) else kind.name
        if name == PDQ.name:
            return self.pdq
        if name == MD5.name:
            return self.md5
        raise KeyError(name)

    def is_match(self, kind: SignalKind, distance: int) -> bool:
        """Is ``distance`` between two values of ``kind`` a match under this policy?"""
        return kind.is_match(distance, self.rule(kind).radius)

    def enrolled_ok(self, kind: SignalKind | str, quality: int | None) -> bool:
        return self.rule(kind).enrolled_ok(quality)

    def query_ok(self, kind: SignalKind | str, quality: int | None) -> bool:
        return self.rule(kind).query_ok(quality)


DEFAULT_POLICY: Final = MatchPolicy()
