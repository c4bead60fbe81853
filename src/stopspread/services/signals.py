"""Signals as the API receives them: validated, normalised, never logged."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from sqlalchemy.orm import Session

from stopspread.errors import HashFormatError, InvalidRequestError
from stopspread.hashing import PdqHash
from stopspread.services.exchange.feed_log import on_signal_change
from stopspread.storage.models import ChainHead, ChangeOp, IndexChange, Signal, SignalType

__all__ = ["SignalIn", "parse_signal", "record_change"]

_MD5: Final = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class SignalIn:
    """A validated signal: its type, its canonical lower-case hex value, its quality."""

    type: SignalType
    value: str
    quality: int | None = None
    from_video: bool = False  # an MD5 of a video file (the hash feed's VideoMD5)

    def __repr__(self) -> str:  # hashes never reach logs or tracebacks by accident
        return f"SignalIn(type={self.type.value}, value=<redacted>, quality={self.quality})"


def parse_signal(
    kind: str, value: str, quality: int | None = None, from_video: bool = False
) -> SignalIn:
    """Validate one signal; raises :class:`InvalidRequestError` (never echoing the value)."""
    try:
        signal_type = SignalType(kind)
    except ValueError as exc:
        raise InvalidRequestError(f"unknown signal type {kind[:16]!r}") from exc
    text = value.strip().lower()
    if signal_type is SignalType.PDQ:
        try:
            text = PdqHash.from_hex(text).hex
        except HashFormatError as exc:
            raise InvalidRequestError("a pdq value must be 64 hex characters") from exc
    elif not _MD5.fullmatch(text):
        raise InvalidRequestError("an md5 value must be 32 hex characters")
    if quality is not None and not 0 <= quality <= 100:
        raise InvalidRequestError("quality must be between 0 and 100")
    return SignalIn(signal_type, text, quality, from_video and signal_type is SignalType.MD5)


def record_change(session: Session, head: ChainHead, op: ChangeOp, signal: Signal) -> None:
    """Append to the change log the API processes poll (inside the locked write)."""
    head.change_seq += 1
    change = IndexChange(seq=head.change_seq, op=op, signal_id=signal.id, signal_type=signal.type)
    session.add(change)
    on_signal_change(session, head.change_seq, op, signal)  # the hash feed, same order
