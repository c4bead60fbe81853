"""Evidence: responses kept as WARC records, encrypted at rest, in a hash-chained log.

Above ``storage``; below ``services``.
"""

from __future__ import annotations

from stopspread.evidence.capture import EvidenceRef, HttpCapture
from stopspread.evidence.store import EvidenceStore

__all__ = ["EvidenceRef", "EvidenceStore", "HttpCapture"]
