"""The evidence store: encrypted WARC files on disk, one row and one log entry each."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from stopspread.config import Settings
from stopspread.evidence.capture import EvidenceRef, HttpCapture

__all__ = ["EvidenceStore"]


class EvidenceStore:
    """Captures responses as encrypted WARC records (stub: the real store lands next)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> EvidenceStore:
        return cls()

    def capture(
        self, session: Session, case_id: int, items: Sequence[HttpCapture], *, reason: str
    ) -> list[EvidenceRef]:
        raise NotImplementedError

    def open_payload(self, evidence_id: int) -> bytes:
        raise NotImplementedError
