"""Signal files in the formats python-threatexchange (``tx``) and HMA read and write.

- A **signal file** has one ``<signal_type> <signal>`` line per signal, as ``tx hash`` prints
  and tx's local-file collaboration reads: ``pdq <64 hex>``, ``video_md5 <32 hex>``,
  ``vpdq <JSON list of "hex,quality,timestamp">`` (the vPDQ signal's string form).
- A **dataset CSV** has the columns ``tx dataset -P --csv`` writes:
  ``signal_type,signal_str,collab,category,tags``.

Reading never raises on a bad row: each one is counted with its line number and reason (never
its content: it may be a hash), and the good rows are kept. This module needs no database,
so ``stopspread hash`` can use it without loading one.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final, TextIO

from stopspread.hashing.vpdq import FrameHash

__all__ = [
    "CSV_COLUMNS",
    "MAX_LINE_CHARS",
    "TX_PDQ",
    "TX_VIDEO_MD5",
    "TX_VPDQ",
    "Malformed",
    "TxReadResult",
    "TxSignal",
    "read_dataset_csv",
    "read_signal_lines",
    "read_text",
    "signal_line",
    "vpdq_line",
    "write_dataset_csv",
]

TX_PDQ: Final = "pdq"  # tx's PdqSignal name
TX_VIDEO_MD5: Final = "video_md5"  # tx's VideoMD5Signal name
TX_VPDQ: Final = "vpdq"  # tx's vPDQ signal name (a JSON list of frames)
CSV_COLUMNS: Final = ("signal_type", "signal_str", "collab", "category", "tags")
MAX_LINE_CHARS: Final = 4_000_000  # a 3-hour video at one frame a second is about 900 kB
VPDQ_TIMESTAMP_DECIMALS: Final = 3  # as tx writes them

_HEX64: Final = re.compile(r"[0-9a-f]{64}")
_HEX32: Final = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class TxSignal:
    """One signal read from a file: ``kind`` is StopSpread's signal type (pdq or md5)."""

    kind: str
    value: str
    quality: int | None = None
    from_video: bool = False

    def __repr__(self) -> str:  # hashes never reach logs or tracebacks by accident
        return f"TxSignal(kind={self.kind}, value=<redacted>, quality={self.quality})"


@dataclass(frozen=True, slots=True)
class Malformed:
    line: int  # 1-based line (or CSV row) number
    reason: str  # never the row's content


@dataclass(slots=True)
class TxReadResult:
    signals: list[TxSignal] = field(default_factory=list)
    malformed: list[Malformed] = field(default_factory=list)
    unsupported: int = 0  # well-formed rows of signal types we do not keep (url, text …)


class _RowError(ValueError):
    pass


def signal_line(tx_type: str, value: str) -> str:
    """One signal-file line: ``<signal_type> <signal>``."""
    return f"{tx_type} {value}"


def _frame_str(frame: FrameHash) -> str:
    return f"{frame.pdq.hex},{frame.quality},{frame.timestamp:.{VPDQ_TIMESTAMP_DECIMALS}f}"


def vpdq_line(frames: Sequence[FrameHash]) -> str:
    """A video's frames as tx's vPDQ signal: ``vpdq ["hex,quality,timestamp", …]``."""
    return signal_line(TX_VPDQ, json.dumps([_frame_str(f) for f in frames]))


def _hex(value: str, pattern: re.Pattern[str], what: str) -> str:
    text = value.strip().lower()
    if not pattern.fullmatch(text):
        size = 64 if pattern is _HEX64 else 32
        raise _RowError(f"a {what} value must be {size} hex characters")
    return text


def _vpdq_frames(text: str) -> list[TxSignal]:
    try:
        items = json.loads(text)
    except ValueError:
        raise _RowError('a vpdq signal is a JSON list of "hex,quality,timestamp"') from None
    if not isinstance(items, list) or not items:
        raise _RowError("a vpdq signal is a non-empty JSON list")
    frames = []
    for item in items:
        parts = item.split(",") if isinstance(item, str) else []
        if len(parts) != 3:
            raise _RowError('a vpdq frame is "hex,quality,timestamp"')
        try:
            quality, timestamp = int(parts[1]), float(parts[2])
        except ValueError:
            raise _RowError("a vpdq frame's quality and timestamp are numbers") from None
        if not 0 <= quality <= 100 or not math.isfinite(timestamp) or timestamp < 0:
            raise _RowError("a vpdq frame's quality is 0-100, its timestamp >= 0")
        value = _hex(parts[0], _HEX64, "pdq")
        frames.append(TxSignal("pdq", value, quality, from_video=True))
    return frames


def _parse(tx_type: str, text: str) -> list[TxSignal] | None:
    """The signals of one row; ``None`` for a signal type we do not keep."""
    if tx_type == TX_PDQ:
        return [TxSignal("pdq", _hex(text, _HEX64, "pdq"))]
    if tx_type == TX_VIDEO_MD5:
        return [TxSignal("md5", _hex(text, _HEX32, "video_md5"), from_video=True)]
    if tx_type == TX_VPDQ:
        return _vpdq_frames(text)
    if not tx_type or not re.fullmatch(r"[a-z0-9_]{1,32}", tx_type):
        raise _RowError("the signal type is missing or not a name")
    return None


def _take(result: TxReadResult, number: int, tx_type: str, text: str) -> None:
    try:
        if len(text) > MAX_LINE_CHARS:
            raise _RowError(f"longer than {MAX_LINE_CHARS} characters")
        parsed = _parse(tx_type.strip().lower(), text.strip())
    except _RowError as exc:
        result.malformed.append(Malformed(number, str(exc)))
        return
    if parsed is None:
        result.unsupported += 1
    else:
        result.signals.extend(parsed)


def read_signal_lines(lines: Iterable[str]) -> TxReadResult:
    """Read a signal file's lines; blank lines and ``#`` comments are skipped."""
    result = TxReadResult()
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        tx_type, _, text = line.partition(" ")
        if not text.strip():
            result.malformed.append(Malformed(number, "no signal after the signal type"))
            continue
        _take(result, number, tx_type, text)
    return result


def read_dataset_csv(source: TextIO) -> TxReadResult:
    """Read ``signal_type,signal_str,collab,category,tags`` rows (a header row first)."""
    result = TxReadResult()
    csv.field_size_limit(MAX_LINE_CHARS + 1)
    try:
        reader = csv.DictReader(source)
        header = reader.fieldnames or []
        if not {"signal_type", "signal_str"} <= set(header):
            result.malformed.append(Malformed(1, "the header lacks signal_type,signal_str"))
            return result
        for row in reader:
            number = reader.line_num
            kind, text = row.get("signal_type"), row.get("signal_str")
            if not isinstance(kind, str) or not isinstance(text, str) or not text.strip():
                result.malformed.append(Malformed(number, "a row without signal_type/signal_str"))
                continue
            _take(result, number, kind, text)
    except csv.Error as exc:
        result.malformed.append(Malformed(-1, f"the CSV stops parsing: {exc}"))
    return result


def write_dataset_csv(
    out: TextIO,
    rows: Iterable[tuple[str, str]],
    collab: str,
    category: str = "POSITIVE_CLASS",
    tags: str = "",
) -> int:
    """Write ``(tx_type, signal)`` rows with tx's dataset columns; returns the row count."""
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for tx_type, value in rows:
        writer.writerow(
            {"signal_type": tx_type, "signal_str": value, "collab": collab,
             "category": category, "tags": tags}
        )  # fmt: skip
        count += 1
    return count


def read_text(text: str) -> TxReadResult:
    """A file's text in either format: a CSV when its first line is tx's header."""
    first = text.lstrip().split("\n", 1)[0].strip()
    if first.startswith("signal_type,"):
        return read_dataset_csv(io.StringIO(text))
    return read_signal_lines(text.splitlines())
