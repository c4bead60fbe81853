"""Reveal tickets: short-lived links to one revealed original, good only for the worker who asked.

A ticket is ``worker.evidence.expiry.signature`` with an HMAC-SHA256 signature under a key
derived from the server key (kept in the database), so every server process can check it:
no state to share, nothing to clean up. The reveal itself (and its audit event) is
:func:`stopspread.services.workers.review.reveal`.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Final

from stopspread.errors import NotFoundError

__all__ = ["REVEAL_TTL_S", "RevealTickets"]

REVEAL_TTL_S: Final = 120.0  # how long a revealed original can be loaded by its page


class RevealTickets:
    """Issues and checks reveal tickets under one server key."""

    def __init__(self, server_key: str, ttl_s: float = REVEAL_TTL_S) -> None:
        self._key = hmac.new(server_key.encode(), b"reveal-ticket-v1", hashlib.sha256).digest()
        self._ttl = ttl_s

    def _sign(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, worker_id: int, evidence_id: int) -> str:
        body = f"{worker_id}.{evidence_id}.{int(time.time() + self._ttl)}"
        return f"{body}.{self._sign(body)}"

    def evidence_id(self, ticket: str, worker_id: int) -> int:
        """The ticket's evidence id; :class:`NotFoundError` if forged, expired or not hers."""
        body, _, signature = ticket.rpartition(".")
        parts = body.split(".")
        valid = (
            len(parts) == 3
            and all(p.isdigit() for p in parts)
            and hmac.compare_digest(signature, self._sign(body))
        )
        if not valid or int(parts[0]) != worker_id or int(parts[2]) <= time.time():
            raise NotFoundError("this view has ended; reveal again")
        return int(parts[1])
