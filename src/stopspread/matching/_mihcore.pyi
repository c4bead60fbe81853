from typing import Any

import numpy as np

Buffer = bytes | bytearray | memoryview | np.ndarray[Any, Any]

def search(
    hashes: Buffer,
    offsets: Buffer,
    rows: Buffer,
    widths: Buffer,
    row_bytes: int,
    dead: Buffer,
    queries: Buffer,
    radius: int,
    mode: int,
    /,
) -> bytes:
    """Every (query, row, distance) within radius as uint32 triples; empty offsets: scan."""

def build(
    hashes: Buffer, widths: Buffer, row_bytes: int, offsets_out: Buffer, rows_out: Buffer, /
) -> None:
    """Fill a segment's CSR tables (row numbers ascending within each key)."""

def validate(n: int, offsets: Buffer, rows: Buffer, widths: Buffer, row_bytes: int, /) -> bool:
    """True when every table is in bounds for n rows."""
