from typing import Any

import numpy as np

Buffer = bytes | bytearray | memoryview | np.ndarray[Any, Any]

def quantise(centres: Buffer, branching: int, depth: int, rows: Buffer, out: Buffer, /) -> None:
    """The word of each 32-byte row (int64 into out): nearest child, level by level."""

def score(
    offsets: Buffer,
    postings: Buffer,
    weights: Buffer,
    words: Buffer,
    qweights: Buffer,
    scratch: Buffer,
    block: int,
    top: int,
    pos_out: Buffer,
    score_out: Buffer,
    /,
) -> int:
    """Scores over the posting lists of words into scratch (left all 0), the top into the outs."""

def probe(
    bits: Buffer,
    n_bits: int,
    rows: Buffer,
    words: Buffer,
    owner: Buffer,
    masks: Buffer,
    offsets: Buffer,
    out_lists: Buffer,
    out_owner: Buffer,
    /,
) -> int:
    """The non-empty sub-lists a query set's rows (sorted by word) probe, and their owners."""
