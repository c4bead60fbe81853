"""Sources for scans: safe fetching, page parsing, crawling, URL lists and folders.

Above ``hashing``; below ``services``. No database here: a source yields what it found
(pages and media with their responses) and the scan service decides what to keep.
"""

from __future__ import annotations

from stopspread.sources.fetch import Fetched, Fetcher, FetchLimits, HostPacer, check_address
from stopspread.sources.media import BodyKind, classify

__all__ = [
    "BodyKind",
    "FetchLimits",
    "Fetched",
    "Fetcher",
    "HostPacer",
    "check_address",
    "classify",
]
