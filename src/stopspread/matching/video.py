"""Matching videos by their vPDQ frame hashes, through any :class:`HashIndex`.

Two videos are compared as *sets of distinct frame hashes of quality >= 50*:

- **query match %** — the share of the query's frames that have a frame within
  31 bits in the compared (banked) video;
- **ordered** — the query frames within the looser ``sequence_distance`` of enrolled frames
  that can be taken in the enrolled frames' order (``ordered_matches``); with at least
  ``min_sequence_frames`` of them, they count toward the query side's percent;
- **compared match %** — the share of the compared video's frames that have a
  frame within 31 bits in the query.

Which combination counts as a match depends on the use case (``VideoRule``):
the same video (both sides high), an upload that is a clip cut from a banked
video (query side high, compared side low — Meta's default rule), or an upload
that contains a whole banked video (compared side high). ``docs/video.md``.

Banked frames are stored in the index under ``video_id << FRAME_ID_BITS | slot``,
so one radius search tells both which video and which of its frames matched.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Final

import numpy as np

from stopspread.hashing.pdq import PDQ_MATCH_DISTANCE, PDQ_MIN_QUALITY, PdqHash
from stopspread.hashing.vpdq import FrameHash
from stopspread.matching.base import HashIndex, as_hash_array
from stopspread.matching.brute import BruteForceIndex

__all__ = [
    "FRAME_ID_BITS",
    "VIDEO_MATCH_PERCENT",
    "VideoBank",
    "VideoComparison",
    "VideoMatchSettings",
    "VideoRule",
    "VideoVerdict",
    "compare_videos",
    "distinct_frames",
    "frame_views",
    "ordered_matches",
]

VIDEO_MATCH_PERCENT: Final = 80.0  # Meta's vPDQ reference threshold, % of frames on a side
# The ordered rule: frames within this looser radius count when they meet enrolled frames in
# order (a logo or a re-encode moves a frame's PDQ 32-48 bits); at least this many of them.
SEQUENCE_DISTANCE: Final = 48
MIN_SEQUENCE_FRAMES: Final = 3
# Frame slots per banked video in an index id: 2**24 distinct frames is 6 days at 30 fps.
FRAME_ID_BITS: Final = 24
_MAX_VIDEO_ID: Final = (1 << (63 - FRAME_ID_BITS)) - 1


class VideoVerdict(Enum):
    """What the two percentages say about a query and a compared video."""

    SAME_VIDEO = "same-video"  # both sides at or over their thresholds
    QUERY_IN_COMPARED = "query-in-compared"  # the query is a clip of the compared video
    COMPARED_IN_QUERY = "compared-in-query"  # the query contains the compared video
    NO_MATCH = "no-match"


class VideoRule(Enum):
    """Which verdicts count as a match, per use case."""

    SAME_VIDEO = "same-video"  # re-uploads of the same video (re-encoded, resized, ...)
    PART_OF_BANKED = "part-of-banked"  # the upload is part of a banked video; Meta's default
    CONTAINS_BANKED = "contains-banked"  # the upload holds a whole banked video (compilations)
    ANY = "any"  # any of the above: the widest net, for support workers' scans

    def accepts(self, verdict: VideoVerdict) -> bool:
        return verdict in _ACCEPTED[self]


_ACCEPTED: Final = {
    VideoRule.SAME_VIDEO: {VideoVerdict.SAME_VIDEO},
    VideoRule.PART_OF_BANKED: {VideoVerdict.SAME_VIDEO, VideoVerdict.QUERY_IN_COMPARED},
    VideoRule.CONTAINS_BANKED: {VideoVerdict.SAME_VIDEO, VideoVerdict.COMPARED_IN_QUERY},
    VideoRule.ANY: {
        VideoVerdict.SAME_VIDEO,
        VideoVerdict.QUERY_IN_COMPARED,
        VideoVerdict.COMPARED_IN_QUERY,
    },
}


@dataclass(frozen=True, slots=True)
class VideoMatchSettings:
    """The thresholds of video matching, each with Meta's reference value as default."""

    rule: VideoRule = VideoRule.PART_OF_BANKED
    query_percent: float = VIDEO_MATCH_PERCENT
    compared_percent: float = VIDEO_MATCH_PERCENT
    frame_distance: int = PDQ_MATCH_DISTANCE  # bits: two frames match at or below this
    min_quality: int = PDQ_MIN_QUALITY  # frames below this quality are ignored
    # The ordered rule (query side): frames within ``sequence_distance`` bits of enrolled
    # frames *in order* also count, when at least ``min_sequence_frames`` of them do.
    sequence_distance: int = SEQUENCE_DISTANCE
    min_sequence_frames: int = MIN_SEQUENCE_FRAMES

    def __post_init__(self) -> None:
        if not (0 < self.query_percent <= 100 and 0 < self.compared_percent <= 100):
            raise ValueError("match percentages must be in (0, 100]")
        if not 0 <= self.frame_distance <= 256 or not 0 <= self.min_quality <= 100:
            raise ValueError("frame_distance must be 0-256 and min_quality 0-100")
        if not self.frame_distance <= self.sequence_distance <= 256:
            raise ValueError("sequence_distance must be frame_distance-256")
        if self.min_sequence_frames < 1:
            raise ValueError("min_sequence_frames must be at least 1")

    @property
    def search_distance(self) -> int:
        """The radius to search at: the wider of the two rules'."""
        return self.sequence_distance


DEFAULT_SETTINGS: Final = VideoMatchSettings()


@dataclass(frozen=True, slots=True)
class VideoComparison:
    """One query against one compared video: frame counts and both percentages."""

    video_id: int
    query_frames: int  # distinct usable query frames
    compared_frames: int  # distinct usable frames of the compared video
    query_matched: int
    compared_matched: int
    ordered_matched: int = 0  # query frames within the sequence radius, in enrolled order

    @property
    def query_percent(self) -> float:
        return 100.0 * self.query_matched / self.query_frames if self.query_frames else 0.0

    def ordered_ok(self, settings: VideoMatchSettings) -> bool:
        """The ordered rule: enough query frames matched in order, and the percent of them."""
        if self.ordered_matched < settings.min_sequence_frames or not self.query_frames:
            return False
        return 100.0 * self.ordered_matched / self.query_frames >= settings.query_percent

    @property
    def compared_percent(self) -> float:
        return 100.0 * self.compared_matched / self.compared_frames if self.compared_frames else 0.0

    def verdict(self, settings: VideoMatchSettings = DEFAULT_SETTINGS) -> VideoVerdict:
        query_ok = self.query_frames > 0 and self.query_percent >= settings.query_percent
        query_ok = query_ok or self.ordered_ok(settings)
        compared_ok = (
            self.compared_frames > 0 and self.compared_percent >= settings.compared_percent
        )
        if query_ok and compared_ok:
            return VideoVerdict.SAME_VIDEO
        if query_ok:
            return VideoVerdict.QUERY_IN_COMPARED
        if compared_ok:
            return VideoVerdict.COMPARED_IN_QUERY
        return VideoVerdict.NO_MATCH

    def is_match(self, settings: VideoMatchSettings = DEFAULT_SETTINGS) -> bool:
        return settings.rule.accepts(self.verdict(settings))


def ordered_matches(candidates: Sequence[Iterable[int]]) -> int:
    """The most query frames (taken in order) that can each be paired with one of its
    candidate enrolled positions, every position later than the previous frame's: a longest
    strictly increasing chain, one position per frame (patience sorting, O(n log n))."""
    tails: list[int] = []  # tails[k]: the smallest last position of a chain of k + 1 frames
    for positions in candidates:
        for position in sorted(set(positions), reverse=True):  # one position per frame
            k = bisect.bisect_left(tails, position)
            if k == len(tails):
                tails.append(position)
            else:
                tails[k] = position
    return len(tails)


def frame_views(
    frames: Iterable[FrameHash], min_quality: int = PDQ_MIN_QUALITY
) -> list[tuple[PdqHash, ...]]:
    """Each frame's distinct usable hashes (records sharing a frame number: the views of the
    robust modes), frames with the same hashes counted once, in frame order."""
    by_frame: dict[int, list[PdqHash]] = defaultdict(list)
    for f in frames:
        if f.quality >= min_quality:
            by_frame[f.frame].append(f.pdq)
    groups = (tuple(dict.fromkeys(by_frame[n])) for n in sorted(by_frame))
    return list(dict.fromkeys(groups))


def distinct_frames(
    frames: Iterable[FrameHash], min_quality: int = PDQ_MIN_QUALITY
) -> list[PdqHash]:
    """The distinct hashes of frames at or over ``min_quality``, in first-seen order."""
    return list(dict.fromkeys(f.pdq for f in frames if f.quality >= min_quality))


class VideoBank:
    """Banked videos' frames in a :class:`HashIndex`, queried with a whole video.

    ``index_factory`` makes the index (default: the brute-force oracle); pass
    :class:`~stopspread.matching.MihIndex` (or a factory) for production sizes.
    """

    def __init__(
        self,
        index_factory: Callable[[], HashIndex] = BruteForceIndex,
        settings: VideoMatchSettings = DEFAULT_SETTINGS,
    ) -> None:
        self.settings = settings
        self._index = index_factory()
        self._frames: dict[int, int] = {}  # video id -> distinct usable frames

    def __len__(self) -> int:
        return len(self._frames)

    def __contains__(self, video_id: object) -> bool:
        return video_id in self._frames

    def frame_count(self, video_id: int) -> int:
        """Distinct usable frames banked for a video (``KeyError`` if not banked)."""
        return self._frames[video_id]

    def add(self, video_id: int, frames: Iterable[FrameHash]) -> int:
        """Bank a video's distinct usable frames; returns how many were stored."""
        if not 0 <= video_id <= _MAX_VIDEO_ID:
            raise ValueError(f"video id must be in 0..{_MAX_VIDEO_ID}")
        if video_id in self._frames:
            raise ValueError(f"video {video_id} is already banked; remove it first")
        hashes = distinct_frames(frames, self.settings.min_quality)
        if len(hashes) >= 1 << FRAME_ID_BITS:
            raise ValueError(f"a video may bank at most {(1 << FRAME_ID_BITS) - 1:,} frames")
        ids = (np.int64(video_id) << FRAME_ID_BITS) + np.arange(len(hashes), dtype=np.int64)
        if hashes:
            self._index.add(as_hash_array(hashes), ids)
        self._frames[video_id] = len(hashes)
        return len(hashes)

    def remove(self, video_id: int) -> bool:
        """Withdraw a video and every one of its frames; False if it was not banked."""
        count = self._frames.pop(video_id, None)
        if count is None:
            return False
        base = video_id << FRAME_ID_BITS
        self._index.remove(np.arange(base, base + count, dtype=np.int64))
        return True

    def compare(self, frames: Iterable[FrameHash]) -> list[VideoComparison]:
        """Every banked video sharing at least one frame with the query, best first."""
        query = distinct_frames(frames, self.settings.min_quality)
        if not query:
            return []
        hits = self._index.search_batch(as_hash_array(query), self.settings.frame_distance)
        query_hits: dict[int, set[int]] = defaultdict(set)
        banked_hits: dict[int, set[int]] = defaultdict(set)
        for slot, matches in enumerate(hits):
            for match in matches:
                video = match.id >> FRAME_ID_BITS
                query_hits[video].add(slot)
                banked_hits[video].add(match.id & ((1 << FRAME_ID_BITS) - 1))
        results = [
            VideoComparison(v, len(query), self._frames[v], len(query_hits[v]), len(banked_hits[v]))
            for v in query_hits
            if v in self._frames
        ]
        return sorted(results, key=lambda c: (-c.query_percent, -c.compared_percent, c.video_id))

    def match(self, frames: Iterable[FrameHash]) -> list[VideoComparison]:
        """The comparisons that the bank's rule accepts as matches."""
        return [c for c in self.compare(frames) if c.is_match(self.settings)]


def compare_videos(
    query: Sequence[FrameHash],
    compared: Sequence[FrameHash],
    settings: VideoMatchSettings = DEFAULT_SETTINGS,
    index_factory: Callable[[], HashIndex] = BruteForceIndex,
) -> VideoComparison:
    """Compare two videos (either may be a single image's one 'frame')."""
    bank = VideoBank(index_factory, settings)
    bank.add(0, compared)
    found = bank.compare(query)
    if found:
        return found[0]
    query_frames = len(distinct_frames(query, settings.min_quality))
    return VideoComparison(0, query_frames, bank.frame_count(0), 0, 0)
