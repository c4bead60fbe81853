"""Times as the worker pages show them: Korea time first, UTC beside it (presentation only)."""

from __future__ import annotations

from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

__all__ = ["KST", "fmt_iso", "fmt_kst", "fmt_kst_minute", "fmt_utc"]

KST: Final = ZoneInfo("Asia/Seoul")


def fmt_utc(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def fmt_kst(value: datetime | None) -> str:
    return value.astimezone(KST).strftime("%Y-%m-%d %H:%M:%S KST") if value else ""


def fmt_kst_minute(value: datetime | None) -> str:
    """A deadline: to the minute (seconds say nothing a host or a worker acts on)."""
    return value.astimezone(KST).strftime("%Y-%m-%d %H:%M KST") if value else ""


def fmt_iso(text: str) -> str:
    """An ISO 8601 capture time as shown on a card (seconds, with its zone)."""
    value = datetime.fromisoformat(text)
    return fmt_kst(value) if value.utcoffset() else fmt_utc(value)
