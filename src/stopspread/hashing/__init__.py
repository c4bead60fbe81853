"""Hashing: PDQ (bit-exact with Meta's reference), dihedral variants, signal sets,
vPDQ video, digests.

A pure library: no database, no web framework, no network.

>>> from stopspread.hashing import hash_image            # doctest: +SKIP
>>> h = hash_image("photo.jpg", dihedral=True)          # doctest: +SKIP
>>> h.pdq.hex, h.quality, h.digests.md5                 # doctest: +SKIP
"""

from __future__ import annotations

from stopspread.hashing.api import BatchItem, ImageHashes, hash_image, hash_many
from stopspread.hashing.budget import DecodeBudget
from stopspread.hashing.decode import DEFAULT_LIMITS, DecodeLimits, ImageSource
from stopspread.hashing.digest import FileDigests, digest_bytes, digest_file
from stopspread.hashing.dihedral import Dihedral, dihedral_dct, dihedral_hashes
from stopspread.hashing.image import Pipeline
from stopspread.hashing.pdq import (
    PDQ_MATCH_DISTANCE,
    PDQ_MIN_QUALITY,
    PdqHash,
    PdqResult,
    dct_from_pixels,
    hash_from_dct,
    hash_pixels,
)
from stopspread.hashing.signals import (
    DEFAULT_SIGNAL_SET,
    SignalHash,
    SignalSet,
    Variant,
    enrolment_hashes,
    is_match,
    query_hashes,
)
from stopspread.hashing.video import VideoHashes, VideoSandbox, hash_video
from stopspread.hashing.vpdq import (
    DEFAULT_VIDEO_LIMITS,
    FrameHash,
    VideoLimits,
    VideoMode,
    format_vpdq,
    parse_vpdq,
)

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_SIGNAL_SET",
    "DEFAULT_VIDEO_LIMITS",
    "PDQ_MATCH_DISTANCE",
    "PDQ_MIN_QUALITY",
    "BatchItem",
    "DecodeBudget",
    "DecodeLimits",
    "Dihedral",
    "FileDigests",
    "FrameHash",
    "ImageHashes",
    "ImageSource",
    "PdqHash",
    "PdqResult",
    "Pipeline",
    "SignalHash",
    "SignalSet",
    "Variant",
    "VideoHashes",
    "VideoLimits",
    "VideoMode",
    "VideoSandbox",
    "dct_from_pixels",
    "digest_bytes",
    "digest_file",
    "dihedral_dct",
    "dihedral_hashes",
    "enrolment_hashes",
    "format_vpdq",
    "hash_from_dct",
    "hash_image",
    "hash_many",
    "hash_pixels",
    "hash_video",
    "is_match",
    "parse_vpdq",
    "query_hashes",
]
