"""The vPDQ text format: Meta's ``frame,quality,hex,timestamp`` lines."""

from __future__ import annotations

import pytest

from stopspread.errors import HashFormatError
from stopspread.hashing import FrameHash, PdqHash, format_vpdq, parse_vpdq
from stopspread.hashing.vpdq import VideoLimits, parse_vpdq_line

HEX = "e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c"


def test_round_trip() -> None:
    frames = [
        FrameHash(0, 100, PdqHash.from_hex(HEX), 0.0),
        FrameHash(30, 49, PdqHash(bytes(32)), 1.0),
    ]
    text = format_vpdq(frames)
    assert text.splitlines()[0] == f"0,100,{HEX},0.000"
    assert list(parse_vpdq(text.splitlines())) == frames
    assert frames[1].low_quality
    assert not frames[0].low_quality


def test_comments_blank_lines_and_missing_timestamp() -> None:
    lines = ["# made by stopspread", "", f"7,88,{HEX}"]
    (frame,) = parse_vpdq(lines)
    assert (frame.frame, frame.quality, frame.timestamp) == (7, 88, 0.0)


@pytest.mark.parametrize(
    "line",
    [
        "1,2",
        f"x,100,{HEX},0.1",
        f"1,101,{HEX},0.1",
        f"-1,100,{HEX},0.1",
        "1,100,abc,0.1",
        f"1,100,{HEX},nan",
        f"1,100,{HEX},0.1,extra",
    ],
)
def test_malformed_lines(line: str) -> None:
    with pytest.raises(HashFormatError):
        parse_vpdq_line(line)


def test_errors_name_the_line() -> None:
    with pytest.raises(HashFormatError, match="line 2"):
        list(parse_vpdq([f"0,100,{HEX},0", "oops"]))


def test_repr_hides_the_hash() -> None:
    assert HEX not in repr(FrameHash(0, 100, PdqHash.from_hex(HEX), 0.0))


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        VideoLimits(max_seconds=0)
