"""tx signal files and dataset CSVs: what tx writes reads back; bad rows are counted, never fatal."""

from __future__ import annotations

import io
import json

import numpy as np

from stopspread.hashing import PdqHash
from stopspread.hashing.vpdq import FrameHash
from stopspread.services.exchange.txfile import (
    read_dataset_csv,
    read_signal_lines,
    read_text,
    vpdq_line,
    write_dataset_csv,
)
from tests.conftest import random_pdq


def test_signal_lines_good_bad_and_other_types() -> None:
    rng = np.random.default_rng(1)
    pdq, md5 = random_pdq(rng), "d" * 32
    frames = [FrameHash(i, 80 + i, PdqHash.from_hex(random_pdq(rng)), i * 1.0) for i in range(3)]
    text = "\n".join([
        "# a comment", "", f"pdq {pdq}", f"video_md5 {md5.upper()}", vpdq_line(frames),
        "url https://example.org/x", "pdq", "pdq 12", f"video_md5 {pdq}", "vpdq [\"x\"]",
        "vpdq {not json", "vpdq []", "!! weird", f"pdq {pdq} 100 /some/path.jpg",
    ])  # fmt: skip
    result = read_signal_lines(text.splitlines())
    kinds = [(s.kind, s.value, s.from_video) for s in result.signals]
    assert kinds[:2] == [("pdq", pdq, False), ("md5", md5, True)]
    assert [(s.value, s.quality) for s in result.signals[2:]] == [
        (f.pdq.hex, f.quality) for f in frames
    ]
    assert result.unsupported == 1
    assert [m.line for m in result.malformed] == [7, 8, 9, 10, 11, 12, 13, 14]
    assert all(pdq not in m.reason for m in result.malformed)  # reasons never echo a hash
    assert "redacted" in repr(result.signals[0])


def test_vpdq_line_is_txs_json_list() -> None:
    frame = FrameHash(0, 90, PdqHash.from_hex("f" * 64), 1.5)
    kind, _, body = vpdq_line([frame]).partition(" ")
    assert kind == "vpdq"
    assert json.loads(body) == ["f" * 64 + ",90,1.500"]


def test_dataset_csv_round_trip_and_damage() -> None:
    rng = np.random.default_rng(2)
    values = [random_pdq(rng) for _ in range(3)]
    out = io.StringIO()
    assert write_dataset_csv(out, [("pdq", v) for v in values], "Center") == 3
    text = out.getvalue()
    assert text.splitlines()[0] == "signal_type,signal_str,collab,category,tags"
    back = read_text(text)
    assert [s.value for s in back.signals] == values and not back.malformed
    damaged = text + "pdq,zz,Center,POSITIVE_CLASS,\n,,,,\n"
    bad = read_dataset_csv(io.StringIO(damaged))
    assert len(bad.signals) == 3 and [m.line for m in bad.malformed] == [5, 6]
    headerless = read_dataset_csv(io.StringIO("a,b\n1,2\n"))
    assert headerless.signals == [] and len(headerless.malformed) == 1
