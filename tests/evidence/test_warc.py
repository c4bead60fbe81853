"""Reading WARC files back: damaged or hostile WARC data is an EvidenceError, never a crash."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stopspread.errors import EvidenceError
from stopspread.evidence.capture import HttpCapture
from stopspread.evidence.warc import build_warc, read_warc


def _warc() -> bytes:
    capture = HttpCapture(
        url="https://example.org/a.jpg",
        status=200,
        headers=[("Content-Type", "image/jpeg")],
        body=b"\xff\xd8\xff\xe0ab",
        fetched_at=datetime(2026, 1, 2, tzinfo=UTC),
    )
    return build_warc(capture).data


def test_round_trip() -> None:
    content = read_warc(_warc())
    assert (content.url, content.status, content.body) == (
        "https://example.org/a.jpg",
        200,
        b"\xff\xd8\xff\xe0ab",
    )


def test_a_response_without_its_target_uri_is_refused() -> None:
    """Found by the fuzzer (tests/fuzz): warcio raised AttributeError on a missing URI."""
    damaged = _warc().replace(b"WARC-Target-URI", b"WARC-Target-XRI")
    with pytest.raises(EvidenceError):
        read_warc(damaged)


def test_a_digest_with_a_damaged_algorithm_name_is_refused() -> None:
    """Found by the fuzzer: hashlib.new() got a non-string name inside warcio (TypeError)."""
    data = (
        b"WARC/1.1\r\nWARC-Type: resource\r\nWARC-Target-URI: file:///srv/x.png\r\n"
        b"WARC-Block-Digest: \x00ha1:J375UEWCMEPC4T7LN4GTIL7LNBOM3AS3\r\n"
        b"Content-Length: 4\r\n\r\n\x89PNG\r\n\r\n"
    )
    with pytest.raises(EvidenceError):
        read_warc(data)
