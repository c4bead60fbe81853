"""Matching: which banked hashes are within a Hamming radius of a query.

A pure library (no database, no network). Every index implements
:class:`HashIndex`; :class:`BruteForceIndex` is the slow, obviously-correct
oracle that every fast index is tested against. :class:`MihIndex` is the fast
exact index (multi-index hashing, see docs/matching.md); ``save_snapshot`` and
``load_snapshot`` write and read it without pickle. ``SIGNAL_TYPES`` holds one
:class:`SignalKind` per signal type (PDQ, MD5): its parsing, its index, its match rule;
:class:`MatchPolicy` holds the thresholds every match decision of the service uses.
"""

from __future__ import annotations

from stopspread.matching.base import DEFAULT_RADIUS, HashIndex, Match, as_hash_array
from stopspread.matching.brute import BruteForceIndex
from stopspread.matching.index import IndexStats, MihIndex
from stopspread.matching.policy import DEFAULT_POLICY, KindRule, MatchPolicy
from stopspread.matching.signal_types import SIGNAL_TYPES, SignalKind
from stopspread.matching.snapshot import load as load_snapshot
from stopspread.matching.snapshot import save as save_snapshot
from stopspread.matching.video import (
    VideoBank,
    VideoComparison,
    VideoMatchSettings,
    VideoRule,
    VideoVerdict,
    compare_videos,
)

__all__ = [
    "DEFAULT_POLICY",
    "DEFAULT_RADIUS",
    "SIGNAL_TYPES",
    "BruteForceIndex",
    "HashIndex",
    "IndexStats",
    "KindRule",
    "Match",
    "MatchPolicy",
    "MihIndex",
    "SignalKind",
    "VideoBank",
    "VideoComparison",
    "VideoMatchSettings",
    "VideoRule",
    "VideoVerdict",
    "as_hash_array",
    "compare_videos",
    "load_snapshot",
    "save_snapshot",
]
