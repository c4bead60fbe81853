"""Evidence, the pure half: responses as WARC records, AES-GCM sealed files, blurred previews.

No database: which file belongs to which record, and the hash-chained evidence log, are the
services' (:mod:`stopspread.services.custody`). See ``docs/evidence.md``.
"""

from __future__ import annotations

from stopspread.evidence.capture import EvidenceRef, HttpCapture
from stopspread.evidence.files import EvidenceFiles, SealedFile

__all__ = ["EvidenceFiles", "EvidenceRef", "HttpCapture", "SealedFile"]
