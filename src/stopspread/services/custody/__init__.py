"""Custody of evidence: each encrypted WARC file tied to its row and its evidence log entry.

The database-bound half of evidence (the pure half is :mod:`stopspread.evidence`): the store
(:mod:`.store`), the hash-chained evidence log (:mod:`.log`) and the check of all of it
(:mod:`.verify`). See ``docs/evidence.md``.
"""

from __future__ import annotations

from stopspread.services.custody.store import EvidenceStore
from stopspread.services.custody.verify import EvidenceCheck, Problem, verify_evidence

__all__ = ["EvidenceCheck", "EvidenceStore", "Problem", "verify_evidence"]
