"""Does a downloaded image or video show one of a case's enrolled images or videos?

The thresholds are the service's one :class:`~stopspread.matching.policy.MatchPolicy`
(``services.match_policy.build_policy``; defaults in brackets, ``docs/robustness.md``,
``docs/video.md``):

- **MD5** of the exact bytes against the case's ``md5`` signals: a hit at distance 0.
- **Images**: decoded with the fast pipeline (a large JPEG at a reduced size by libjpeg's DCT
  scaling, ``docs/hashing.md``); the ``ss-img-1`` *query* hashes of the download (whole,
  smoothed, trimmed, content box, three shared windows; quality >= the query floor [50])
  against the case's ``pdq`` signals of quality >= the enrolled floor [70], within the
  policy's radius [29 bits]. A signal sent without a quality (plain-PDQ clients) is compared
  too.
- **Videos**: robust frame views (``VideoMode.ROBUST_QUERY``: keyframes, each frame whole,
  bars trimmed and a ladder of centre crops, through the warm sandbox) against the case's
  ``pdq`` signals (a video's enrolled frames and views, or photos) of quality >= 50; a frame
  matches when any of its views is within the video frame radius [31 bits] of an enrolled
  hash; a hit when at least the video percent [80 %] of the distinct usable frames match
  (Meta's query-side rule), or by the ordered rule (at least [3] frames within [48 bits] of
  enrolled hashes in enrolment order, and the percent of them). When the keyframes are
  inconclusive (some near, no hit), the video is hashed again at one frame a second
  (``ROBUST_QUERY_DENSE``) and the rules applied to that. ``docs/video.md``.

- **Shape points** (``ss-kp-1``, issue 14): a downloaded image that ``ss-img-1`` did not
  match is checked against the keypoints of the case's enrolled photos
  (``services.keypoint_records``, at most :data:`MAX_KEYPOINT_PHOTOS`, the first enrolled):
  its own keypoints, its mirror's and those of its content and photo blocks (a photo inside
  a screenshot; ``hashing.keypoints.query_keypoint_sets``) vote, each
  for the photo holding its nearest enrolled descriptor when that is within
  :data:`VOTE_BITS` (one exact search of all of them in a ``MihIndex``), and the
  :data:`KEYPOINT_SHORTLIST` photos with the most votes, at least :data:`MIN_VOTES`, are
  verified by ``matching.keypoint_verify`` (its :data:`DEFAULT_VERIFY_RULE`; 3-5 ms a
  photo). A verified one is a hit of signal type ``ss-kp-1``, its ``distance`` the number of
  agreeing points; like every hit it waits for a person's review, and the review page says
  it is less certain.

Distances come from the brute-force index (``matching.brute``, the oracle: a case has at most a
few thousand signals) and the video rule is ``matching.video``'s, not copies of them.

Hashes stay in memory; nothing here logs or stores them.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from stopspread.hashing import (
    FrameHash,
    PdqHash,
    Pipeline,
    VideoMode,
    VideoSandbox,
    digest_bytes,
    hash_video,
    query_hashes,
)
from stopspread.hashing.decode import open_image
from stopspread.hashing.keypoints import (
    DESCRIPTOR_BYTES,
    KEYPOINT_VERSION,
    KeypointSet,
    query_keypoint_sets,
)
from stopspread.hashing.query import SharedImage, decode_query
from stopspread.matching import BruteForceIndex, Match, MihIndex, as_hash_array
from stopspread.matching.keypoint_verify import DEFAULT_VERIFY_RULE, verify_any
from stopspread.matching.policy import MatchPolicy
from stopspread.matching.signal_types import MD5, PDQ
from stopspread.matching.video import VideoComparison, frame_views, ordered_matches
from stopspread.services.keypoint_records import EnrolledKeypoints
from stopspread.storage.models_scan import MatchKind

__all__ = [
    "KEYPOINT_SHORTLIST",
    "MAX_KEYPOINT_PHOTOS",
    "MIN_VOTES",
    "VOTE_BITS",
    "CaseMatcher",
    "EnrolledSignal",
    "Hit",
]

_INCONCLUSIVE: Final = 1  # keyframes: this many near an enrolled frame, but under the rule
# enrolled photos a download's keypoints vote among: a case of more has only its first
# ones checked (docs/sources-and-scans.md)
MAX_KEYPOINT_PHOTOS: Final = 100
VOTE_BITS: Final = 24  # a query descriptor votes when its nearest enrolled one is this close
# photos verified (3-5 ms each, both of the download's sets), the most voted first, and the
# votes a photo needs: every verified copy in a probe of 8 DEV photos x 39 edit families was
# ranked first or second, with at least 5 votes (docs/robustness.md, "In the product")
KEYPOINT_SHORTLIST: Final = 3
MIN_VOTES: Final = 4  # one under the fewest a verified copy had in that probe (5)


@dataclass(frozen=True, slots=True)
class EnrolledSignal:
    id: int
    type: str  # "pdq" or "md5"
    value: str
    quality: int | None

    def __repr__(self) -> str:  # never a hash in a log or traceback
        return f"EnrolledSignal(id={self.id}, type={self.type}, value=<redacted>)"


@dataclass(frozen=True, slots=True)
class Hit:
    kind: MatchKind
    signal_type: str  # pdq, md5, vpdq, ss-kp-1
    signal_id: int | None  # None: an ss-kp-1 record enrolled without its photo's PDQ signal
    distance: int  # bits; for ss-kp-1 the number of agreeing shape points
    detail: str = ""  # e.g. "12/14 frames", "37 shape points"


class CaseMatcher:
    """One case's signals, ready to compare downloads against."""

    def __init__(
        self,
        signals: Sequence[EnrolledSignal],
        sandbox: VideoSandbox | None = None,
        *,
        policy: MatchPolicy,
        keypoints: Sequence[EnrolledKeypoints] = (),
    ):
        self._policy = policy
        self._keypoints = tuple(keypoints[:MAX_KEYPOINT_PHOTOS])
        self._descriptors, self._owners = _stacked(self._keypoints)
        self._votes: MihIndex | None = None  # built on first use (not pickled to workers)
        self._md5 = {s.value: s.id for s in signals if s.type == MD5.name}
        pdq = [s for s in signals if s.type == PDQ.name]
        image_ok = [s for s in pdq if policy.pdq.enrolled_ok(s.quality)]
        min_frame = policy.video.min_quality
        video_ok = [s for s in pdq if s.quality is None or s.quality >= min_frame]
        self._image_ids, self._image = _index(image_ok)
        self._video_ids, self._video = _index(video_ok)
        self._sandbox = sandbox

    def with_sandbox(self, sandbox: VideoSandbox | None) -> CaseMatcher:
        """The same signals, using ``sandbox`` for videos (a matcher shipped to a worker
        arrives without one)."""
        other = copy.copy(self)
        other._sandbox = sandbox
        return other

    def __getstate__(self) -> dict[str, object]:  # pickled to Dask workers: no sandbox
        state = dict(self.__dict__)
        state["_sandbox"] = None
        state["_votes"] = None
        return state

    def match_image(self, body: bytes) -> Hit | None:
        """Raises :class:`~stopspread.errors.MediaError` for a body that does not decode."""
        exact = self._exact(body, MatchKind.IMAGE)
        if exact is not None:
            return exact
        rule = self._policy.pdq
        # header and pixel caps, then one decode for every signal: a large JPEG at a
        # reduced size, a colour JPEG straight to grey (hashing/_shared_image.py)
        image = decode_query(open_image(body), Pipeline.FAST)
        hashes = [h.hash for h in query_hashes(image) if rule.query_ok(h.quality)]
        hits = self._image.search_batch(as_hash_array(hashes), rule.radius) if hashes else []
        best = _nearest(hits)
        if best is None or not self._policy.is_match(PDQ, best.distance):
            return self._shape_points(image)
        return Hit(MatchKind.IMAGE, PDQ.name, self._image_ids[best.id], best.distance)

    def _shape_points(self, image: SharedImage) -> Hit | None:
        """The first enrolled photo whose keypoints verify against the download's (or its
        mirror's); None when the case has none or none verifies."""
        if not self._keypoints:
            return None
        queries = query_keypoint_sets(image)
        for photo in self._shortlist(queries):
            enrolled = self._keypoints[photo]
            check = verify_any(queries, enrolled.keypoints, DEFAULT_VERIFY_RULE)
            if check.verified:
                detail = f"{check.inliers} shape points"
                return Hit(
                    MatchKind.IMAGE, KEYPOINT_VERSION, enrolled.signal_id, check.inliers, detail
                )
        return None

    def _shortlist(self, queries: Sequence[KeypointSet]) -> list[int]:
        """The enrolled photos worth verifying, most votes first (see the module docstring)."""
        votes = np.zeros(len(self._keypoints), np.int64)
        if self._votes is None:
            rows = np.arange(len(self._owners), dtype=np.int64)
            self._votes = MihIndex.from_arrays(self._descriptors, rows)
        for query in queries:
            if len(query) == 0:
                continue
            q_rows, ids, bits = self._votes.search_arrays(query.descriptors, VOTE_BITS)
            order = np.lexsort((bits, q_rows))  # each query descriptor's nearest first
            q_rows, ids = q_rows[order], ids[order]
            nearest = np.ones(len(q_rows), bool)
            nearest[1:] = q_rows[1:] != q_rows[:-1]
            np.add.at(votes, self._owners[ids[nearest]], 1)
        ranked = np.argsort(-votes, kind="stable")[:KEYPOINT_SHORTLIST]
        return [int(i) for i in ranked if votes[i] >= MIN_VOTES]

    def match_video(self, body: bytes) -> Hit | None:
        """Raises :class:`~stopspread.errors.MediaError` for a video that does not decode."""
        exact = self._exact(body, MatchKind.VIDEO)
        if exact is not None or len(self._video_ids) == 0:
            return exact
        with _video_file(body) as path:
            fast = hash_video(path, mode=VideoMode.ROBUST_QUERY, sandbox=self._sandbox)
            hit, near = self._video_rule(fast.usable_frames)
            if hit is None and near >= _INCONCLUSIVE:
                full = hash_video(path, mode=VideoMode.ROBUST_QUERY_DENSE, sandbox=self._sandbox)
                hit, _ = self._video_rule(full.usable_frames)
        return hit

    def _exact(self, body: bytes, kind: MatchKind) -> Hit | None:
        signal_id = self._md5.get(digest_bytes(body).md5)
        return None if signal_id is None else Hit(kind, MD5.name, signal_id, 0)

    def _video_rule(self, frames: Sequence[FrameHash]) -> tuple[Hit | None, int]:
        """Meta's query-side rule over the distinct usable frames (a frame: all its views), a
        hit when enough of them have an enrolled frame within the policy's frame radius, or
        the ordered rule (``matching.video``); also how many frames had any enrolled frame
        within the sequence radius (a second, denser look is worth it)."""
        settings = self._policy.video
        views = frame_views(frames, settings.min_quality)
        if not views:
            return None, 0
        flat = [h for group in views for h in group]
        hits = self._video.search_batch(as_hash_array(flat), settings.search_distance)
        starts = np.cumsum([0] + [len(group) for group in views])
        rows = [hits[a:b] for a, b in itertools.pairwise(starts)]
        close = settings.frame_distance
        matched = sum(1 for row in rows if any(m.distance <= close for ms in row for m in ms))
        ordered = ordered_matches([{m.id for ms in row for m in ms} for row in rows])
        signals = len({m.id for row in hits for m in row if m.distance <= close})
        comparison = VideoComparison(
            0, len(views), len(self._video), matched, signals, ordered_matched=ordered
        )
        best = _nearest(hits)
        near = sum(1 for row in rows if any(row))  # within the sequence radius
        if best is None or not comparison.is_match(settings):
            return None, near
        detail = f"{max(matched, ordered)}/{len(views)} frames"
        signal_id = self._video_ids[best.id]
        return Hit(MatchKind.VIDEO, "vpdq", signal_id, best.distance, detail), near


def _stacked(
    photos: Sequence[EnrolledKeypoints],
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """Every enrolled descriptor in one array, and the photo (its position) of each row."""
    if not photos:
        return np.zeros((0, DESCRIPTOR_BYTES), np.uint8), np.zeros(0, np.int64)
    descriptors = np.concatenate([p.keypoints.descriptors for p in photos]).astype(np.uint8)
    owners = np.concatenate([np.full(len(p.keypoints), i, np.int64) for i, p in enumerate(photos)])
    return np.ascontiguousarray(descriptors), owners


def _index(signals: Sequence[EnrolledSignal]) -> tuple[list[int], BruteForceIndex]:
    """The signals' hashes in the brute-force index, each under its position in the list."""
    index = BruteForceIndex()
    if signals:
        hashes = as_hash_array([PdqHash.from_hex(s.value) for s in signals])
        index.add(hashes, np.arange(len(signals), dtype=np.int64))
    return [s.id for s in signals], index


def _nearest(hits: Sequence[Sequence[Match]]) -> Match | None:
    """The closest match over all queries (ties: the earlier query, then the earlier signal),
    its id the signal's position; ``None`` when nothing is within the radius."""
    ranked = [(m.distance, query, m.id) for query, row in enumerate(hits) for m in row]
    if not ranked:
        return None
    distance, _query, position = min(ranked)
    return Match(position, distance)


@contextlib.contextmanager
def _video_file(body: bytes) -> Iterator[Path]:
    """The bytes as a file the video sandbox can open: an anonymous memory file where the
    system has one (nothing written to disk), else a private temporary file."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("stopspread-scan", 0)
        try:
            view = memoryview(body)
            while view:
                view = view[os.write(fd, view) :]
            yield Path(f"/proc/{os.getpid()}/fd/{fd}")
        finally:
            os.close(fd)
        return
    with tempfile.TemporaryDirectory(prefix="stopspread-scan-") as folder:
        path = Path(folder) / "media"
        path.write_bytes(body)
        yield path
