"""What a fetcher hands to the evidence store, and what it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["EvidenceRef", "HttpCapture"]


@dataclass(frozen=True, slots=True)
class HttpCapture:
    """One fetched response, exactly as it arrived.

    ``url`` is ``file://...`` with ``status`` 200 for a file from a folder source (stored as a
    WARC ``resource`` record). ``fetched_at`` is timezone-aware UTC.
    """

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    peer: str | None = None


@dataclass(frozen=True, slots=True)
class EvidenceRef:
    """The stored evidence: row id, SHA-256 (hex) of the WARC record plaintext, capture time."""

    id: int
    sha256: str
    captured_at: datetime
