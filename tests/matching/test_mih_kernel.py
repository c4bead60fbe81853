"""The segment layer and C kernel: chunk layouts, table validation, the import boundary."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from matching_helpers import random_hashes

from stopspread.matching import _mihcore
from stopspread.matching._segment import build_segment, chunk_widths, default_chunks


@pytest.mark.parametrize("n", [1, 100, 10_000, 1_000_000, 10_000_000, 10**9])
def test_default_layouts_cover_256_bits(n: int) -> None:
    widths = chunk_widths(n)
    assert sum(widths) == 256
    assert max(widths) - min(widths) <= 1
    assert len(widths) == default_chunks(n)


def test_layout_rejects_silly_chunk_counts() -> None:
    with pytest.raises(ValueError, match="chunks"):
        chunk_widths(1000, 3)


def test_validate_accepts_built_tables_and_rejects_out_of_bounds_rows() -> None:
    seg = build_segment(random_hashes(np.random.default_rng(1), 500), np.arange(500))
    args = (seg.n_rows, seg.offsets, seg.rows, bytes(seg.widths), seg.row_bytes)
    assert _mihcore.validate(*args)
    bad = seg.rows.copy()
    bad[:3] = 255
    assert not _mihcore.validate(seg.n_rows, seg.offsets, bad, bytes(seg.widths), seg.row_bytes)


def test_kernel_rejects_mismatched_buffers() -> None:
    seg = build_segment(random_hashes(np.random.default_rng(2), 50), np.arange(50))
    q = np.zeros(32, dtype=np.uint8)
    with pytest.raises(ValueError, match="layout"):
        _mihcore.search(seg.hashes, seg.offsets[:-1], seg.rows, bytes(seg.widths), 3, b"", q, 31, 0)
    with pytest.raises(ValueError, match="radius"):
        _mihcore.search(seg.hashes, seg.offsets, seg.rows, bytes(seg.widths), 3, b"", q, -1, 0)


def test_matching_imports_nothing_above_hashing() -> None:
    code = (
        "import sys, stopspread.matching; "
        "bad = [m for m in sys.modules if m.split('.')[0] in {'sqlalchemy', 'fastapi', 'faiss'}"
        " or m.startswith(('stopspread.storage', 'stopspread.services', 'stopspread.web'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
