"""Signals as the API receives them: validated, normalised, never logged."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from stopspread.errors import HashFormatError, InvalidRequestError
from stopspread.matching.signal_types import SIGNAL_TYPES
from stopspread.services.exchange.feed_log import on_signal_change
from stopspread.storage.models import ChainHead, ChangeOp, IndexChange, Signal, SignalType

__all__ = ["SignalIn", "SignalType", "parse_signal", "record_change"]


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
    signal_type = SIGNAL_TYPES.get(kind)
    if signal_type is None:
        raise InvalidRequestError(f"unknown signal type {kind[:16]!r}")
    try:
        text = signal_type.validate(value)
    except HashFormatError as exc:
        raise InvalidRequestError(signal_type.format_hint) from exc
    if quality is not None and not 0 <= quality <= 100:
        raise InvalidRequestError("quality must be between 0 and 100")
    stored = SignalType(signal_type.name)
    return SignalIn(stored, text, quality, from_video and stored is SignalType.MD5)


def record_change(session: Session, head: ChainHead, op: ChangeOp, signal: Signal) -> None:
    """Append to the change log the API processes poll (inside the locked write)."""
    head.change_seq += 1
    change = IndexChange(seq=head.change_seq, op=op, signal_id=signal.id, signal_type=signal.type)
    session.add(change)
    on_signal_change(session, head.change_seq, op, signal)  # the hash feed, same order
