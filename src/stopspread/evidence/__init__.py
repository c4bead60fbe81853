"""Evidence: responses kept as WARC records, encrypted at rest, in a hash-chained log.

Above ``storage``; below ``services``. See ``docs/evidence.md``.
"""

from __future__ import annotations

from stopspread.evidence.capture import EvidenceRef, HttpCapture
from stopspread.evidence.store import EvidenceStore
from stopspread.evidence.verify import EvidenceReport, Problem, verify_evidence

__all__ = [
    "EvidenceRef",
    "EvidenceReport",
    "EvidenceStore",
    "HttpCapture",
    "Problem",
    "verify_evidence",
]
