"""Follow-up: is a requested item gone, still there, or changed? One re-fetch, one answer.

The fetch itself sits behind :class:`Refetcher` (a callable ``url -> FetchOutcome``), so the
services plug in the scan fetcher (SSRF checks, caps, the same politeness) and tests plug in a
local site. :func:`classify` turns the outcome into a :class:`FollowUpResult`:

- **gone** — 404, 410 or 451; the host name no longer resolves; the connection is refused;
- **still_there_same** — 2xx with the same SHA-256 as the capture, or content that still
  matches the sighting's signals (the ``matches`` callable: PDQ within the match radius,
  or the video rule) — a re-encoded copy is still the same item;
- **changed** — 2xx whose content no longer matches (a placeholder image, a "removed" page);
- **error** — anything else (timeouts, 5xx, 401/403, too large, refused by our SSRF rules):
  nothing can be said; check again later.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol

from stopspread.errors import MediaError
from stopspread.hashing import hash_image
from stopspread.hashing.pdq import PDQ_MATCH_DISTANCE, PdqHash

__all__ = [
    "GONE_STATUSES",
    "FetchFailure",
    "FetchOutcome",
    "FollowUp",
    "FollowUpResult",
    "Refetcher",
    "classify",
    "pdq_matcher",
]

GONE_STATUSES: Final = frozenset({404, 410, 451})  # not found, gone, unavailable for legal reasons


class FetchFailure(enum.StrEnum):
    """Why a re-fetch got no HTTP answer."""

    DNS = "dns"  # the host name does not resolve (any more)
    REFUSED = "refused"  # nothing listens: connection refused
    TIMEOUT = "timeout"
    TOO_LARGE = "too_large"
    BLOCKED = "blocked"  # our own rules refused the target (private address, scheme)
    OTHER = "other"


class FollowUp(enum.StrEnum):
    GONE = "gone"
    STILL_THERE_SAME = "still_there_same"
    CHANGED = "changed"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    """An HTTP answer (``status`` and ``body``) or a ``failure`` with a short ``detail``."""

    status: int | None = None
    body: bytes = b""
    failure: FetchFailure | None = None
    detail: str = ""


class Refetcher(Protocol):
    def __call__(self, url: str) -> FetchOutcome: ...


@dataclass(frozen=True, slots=True)
class FollowUpResult:
    outcome: FollowUp
    reason: str  # short, for the history shown to workers (never a hash)
    http_status: int | None = None
    sha256: str | None = None  # of the body, when there was one


def pdq_matcher(
    previous: PdqHash,
    radius: int = PDQ_MATCH_DISTANCE,
    *,
    min_quality: int = 0,
    max_bytes: int = 50 * 1024 * 1024,
) -> Callable[[bytes], bool]:
    """A ``matches`` callable: does an image body hash within ``radius`` bits of ``previous``,
    with a quality of at least ``min_quality`` (the service passes its match policy's)?

    A body that is not a decodable image does not match (a "removed" page is a change).
    """

    def matches(body: bytes) -> bool:
        if len(body) > max_bytes:
            return False
        try:
            result = hash_image(body, digests=False)
        except MediaError:
            return False
        return result.quality >= min_quality and result.pdq.distance(previous) <= radius

    return matches


def classify(
    outcome: FetchOutcome,
    previous_sha256: str,
    matches: Callable[[bytes], bool] | None = None,
) -> FollowUpResult:
    """Classify one re-fetch against the capture it follows up."""
    if outcome.failure is not None or outcome.status is None:
        failure = outcome.failure or FetchFailure.OTHER
        if failure in (FetchFailure.DNS, FetchFailure.REFUSED):
            return FollowUpResult(FollowUp.GONE, f"{failure.value}: {outcome.detail}".strip())
        return FollowUpResult(FollowUp.ERROR, f"{failure.value}: {outcome.detail}".strip())
    status = outcome.status
    if status in GONE_STATUSES:
        return FollowUpResult(FollowUp.GONE, f"HTTP {status}", http_status=status)
    if not 200 <= status < 300:
        return FollowUpResult(FollowUp.ERROR, f"HTTP {status}", http_status=status)
    digest = hashlib.sha256(outcome.body).hexdigest()
    if digest == previous_sha256.lower():
        return FollowUpResult(FollowUp.STILL_THERE_SAME, "same file", status, digest)
    if matches is not None and matches(outcome.body):
        return FollowUpResult(
            FollowUp.STILL_THERE_SAME, "same content, different file", status, digest
        )
    return FollowUpResult(FollowUp.CHANGED, "different content", status, digest)
