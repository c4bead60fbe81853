"""Every query signal of one upload from one decode (issue 14: <= 60 ms per upload).

A platform's ``/v1/hash``, the CLI's ``/v1/match`` body and a scan look an image up with
the default signal set's query hashes and the ``ss-kp-1`` query keypoint sets. Both are
computed here from one :class:`SharedImage`: one decode (a colour JPEG straight to grey,
and a JPEG of 2560 px or more a side at 1/2 scale, ``_shared_image.decode_query``), one
512 px box resize (PDQ's smoothed variant and the border detection of the content block
and the photo blocks), one grey array of the decoded size (the keypoints' 640 px
copies). ``docs/hashing.md`` (*Query signal set speed*) has the figures."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from stopspread.hashing._shared_image import SharedImage, decode_query
from stopspread.hashing.decode import DEFAULT_LIMITS, DecodeLimits, ImageSource, open_source
from stopspread.hashing.image import Pipeline
from stopspread.hashing.keypoints import KeypointSet, query_keypoint_sets
from stopspread.hashing.signals import DEFAULT_SIGNAL_SET, SignalHash, SignalSet, query_hashes

__all__ = ["QuerySignals", "SharedImage", "decode_query", "query_signals"]


@dataclass(frozen=True, slots=True)
class QuerySignals:
    """The query hashes (the first is plain PDQ) and keypoint sets of one image."""

    hashes: list[SignalHash]
    keypoints: list[KeypointSet]


def query_signals(
    source: ImageSource | SharedImage,
    signal_set: SignalSet = DEFAULT_SIGNAL_SET,
    *,
    limits: DecodeLimits = DEFAULT_LIMITS,
    pipeline: Pipeline = Pipeline.REFERENCE,
    keypoints: bool = True,
) -> QuerySignals:
    """The query signals of one image, decoded once (``keypoints=False``: hashes only)."""
    if isinstance(source, SharedImage):
        shared = source
    else:
        image = source if isinstance(source, Image.Image) else open_source(source, limits)[0]
        shared = decode_query(image, pipeline)
    hashes = query_hashes(shared, signal_set, limits=limits)
    return QuerySignals(hashes, query_keypoint_sets(shared) if keypoints else [])
