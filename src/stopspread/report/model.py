"""What an evidence report says, as plain dataclasses (no database, no I/O).

Times are timezone-aware; the report prints them in Korea time and UTC. Digests are
lowercase hex SHA-256. Nothing here holds an image except :attr:`ReportSighting.preview_png`,
which a caller sets only when a worker explicitly chose to include a blurred preview.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from stopspread.languages import Language

__all__ = [
    "EvidenceReport",
    "ReportCapture",
    "ReportCase",
    "ReportCounts",
    "ReportProof",
    "ReportRoomCheck",
    "ReportRoomDevice",
    "ReportSighting",
    "ReportTakedown",
    "ReportTakedownEvent",
    "ReportWarc",
]


@dataclass(frozen=True, slots=True)
class ReportCase:
    code: str
    center: str
    opened_at: datetime
    worker: str = ""  # who produced the report
    survivor_name: str | None = None  # printed only when a worker entered it
    notes: str = ""


@dataclass(frozen=True, slots=True)
class ReportCapture:
    """One capture of a sighting: what was stored, and its place in the evidence log."""

    captured_at: datetime
    media_sha256: str
    page_sha256: str | None = None
    warc_file: str = ""
    log_seq: int | None = None
    log_entry_hash: str | None = None


@dataclass(frozen=True, slots=True)
class ReportSighting:
    url: str
    page_url: str
    first_seen: datetime
    last_seen: datetime
    match_type: str  # e.g. "PDQ (image), 12 bits" or "vPDQ (video), 41 % of frames"
    review: str = ""  # the review decision, e.g. "confirmed"
    captures: Sequence[ReportCapture] = ()
    reupload_of: str = ""  # the reference of an earlier request, when this is a re-upload
    preview_png: bytes | None = None  # a blurred preview, only when a worker chose to include it


@dataclass(frozen=True, slots=True)
class ReportTakedownEvent:
    at: datetime
    status: str  # a RequestStatus value or a follow-up outcome
    note: str = ""


@dataclass(frozen=True, slots=True)
class ReportTakedown:
    reference: str
    url: str
    host: str
    recipient: str  # e-mail address or "web form: <url>"
    language: str
    events: Sequence[ReportTakedownEvent] = ()


@dataclass(frozen=True, slots=True)
class ReportProof:
    """The evidence log's verification, as run just before the report was made."""

    verified: bool
    verified_at: datetime
    chain_head: str
    entries: int
    detail: str = ""  # what failed, when it failed


@dataclass(frozen=True, slots=True)
class ReportWarc:
    name: str
    sha256: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class ReportRoomDevice:
    """A device a room check flagged; ``verdict`` and ``reasons`` are in the report's language."""

    address: str
    label: str  # maker, names
    verdict: str
    reasons: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class ReportRoomCheck:
    """A room check kept under the case (hidden cameras on a room's network)."""

    checked_at: datetime
    network: str
    likely: int
    check: int
    unlikely: int
    flagged: Sequence[ReportRoomDevice] = ()  # likely cameras and those needing a closer look
    payload_sha256: str = ""
    warc_file: str = ""
    log_seq: int | None = None
    log_entry_hash: str | None = None


@dataclass(frozen=True, slots=True)
class ReportCounts:
    """The case's numbers as the worker's dashboard and the survivor see them (one timeline):
    ``found == under_review + confirmed``; platform matches are part of ``found``."""

    found: int
    under_review: int
    confirmed: int
    requests_sent: int  # items a removal request was sent about
    removed: int
    reuploads: int  # came back after a removal or a sent notice
    platform_matches: int


@dataclass(frozen=True, slots=True)
class EvidenceReport:
    case: ReportCase
    proof: ReportProof
    generated_at: datetime
    language: Language = Language.KO
    sightings: Sequence[ReportSighting] = ()
    takedowns: Sequence[ReportTakedown] = ()
    warc_files: Sequence[ReportWarc] = field(default=())
    room_checks: Sequence[ReportRoomCheck] = ()
    counts: ReportCounts | None = None  # None: counted from the lists above
