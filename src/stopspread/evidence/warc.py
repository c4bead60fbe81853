"""Turn one :class:`HttpCapture` into a WARC file's bytes, and read such bytes back.

An HTTP response becomes a ``response`` record (preceded by a ``request`` record when the
request headers are known); a file from a folder (``file:``) or a record StopSpread made itself
(``urn:``, e.g. a room check's results) becomes a ``resource`` record. warcio adds
``WARC-Block-Digest`` and ``WARC-Payload-Digest`` (SHA-1, base32, as the format expects); the
store adds its own SHA-256 of the whole file. The body we are given is already decoded
(no chunking, no gzip), so the framing headers that described the wire form are kept under
``X-Archive-Orig-`` names and ``Content-Length`` is set to the body we store.
"""

from __future__ import annotations

import enum
import io
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from stopspread.errors import EvidenceError
from stopspread.evidence.capture import HttpCapture

__all__ = ["FRAMING_HEADERS", "WarcContent", "WarcFile", "WarcType", "build_warc", "read_warc"]

# Headers describing the bytes on the wire, not the decoded body we store.
FRAMING_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding"})


class WarcType(enum.StrEnum):
    RESPONSE = "response"
    RESOURCE = "resource"


@dataclass(frozen=True, slots=True)
class WarcFile:
    """A WARC file's bytes and the id and type of its main (response or resource) record."""

    data: bytes
    record_id: str
    record_type: WarcType
    content_type: str


def _content_type(headers: list[tuple[str, str]]) -> str:
    for name, value in headers:
        if name.lower() == "content-type":
            return value[:200]
    return "application/octet-stream"


def _stored_headers(capture: HttpCapture) -> list[tuple[str, str]]:
    kept: list[tuple[str, str]] = []
    for name, value in capture.headers:
        if name.lower() in FRAMING_HEADERS:
            kept.append(("X-Archive-Orig-" + name, value))
        else:
            kept.append((name, value))
    kept.append(("Content-Length", str(len(capture.body))))
    return kept


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _request_target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def build_warc(capture: HttpCapture) -> WarcFile:
    """The uncompressed WARC 1.1 bytes for one capture."""
    if capture.fetched_at.tzinfo is None:
        raise ValueError("fetched_at must be timezone-aware")  # a caller bug
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=False, warc_version="1.1")
    date = datetime_to_iso_date(capture.fetched_at.replace(tzinfo=None), use_micros=True)
    content_type = _content_type(capture.headers)
    base = {"WARC-Date": date}
    if capture.peer:
        base["WARC-IP-Address"] = capture.peer
    if capture.url.startswith(("file:", "urn:")):  # a folder file, or a record we made
        record = writer.create_warc_record(
            capture.url,
            WarcType.RESOURCE.value,
            payload=io.BytesIO(capture.body),
            length=len(capture.body),
            warc_content_type=content_type,
            warc_headers_dict=base,
        )
        writer.write_record(record)
        rtype = WarcType.RESOURCE
    else:
        http = StatusAndHeaders(
            _status_line(capture.status), _stored_headers(capture), protocol="HTTP/1.1"
        )
        record = writer.create_warc_record(
            capture.url,
            WarcType.RESPONSE.value,
            payload=io.BytesIO(capture.body),
            length=len(capture.body),
            http_headers=http,
            warc_headers_dict=base,
        )
        if capture.request_headers:
            _write_request(writer, capture, record.rec_headers.get_header("WARC-Record-ID"), date)
        writer.write_record(record)
        rtype = WarcType.RESPONSE
    record_id = str(record.rec_headers.get_header("WARC-Record-ID"))
    return WarcFile(out.getvalue(), record_id, rtype, content_type)


def _write_request(writer: WARCWriter, capture: HttpCapture, concurrent: str, date: str) -> None:
    http = StatusAndHeaders(
        f"GET {_request_target(capture.url)} HTTP/1.1",
        list(capture.request_headers),
        protocol="HTTP/1.1",
        is_http_request=True,
    )
    request = writer.create_warc_record(
        capture.url,
        "request",
        http_headers=http,
        warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": concurrent},
    )
    writer.write_record(request)


@dataclass(frozen=True, slots=True)
class WarcContent:
    """What :func:`read_warc` found: the main record's id, type, URL, status and body."""

    record_id: str
    record_type: WarcType
    url: str
    status: int
    body: bytes


# What warcio raises on damaged input: besides its own and ValueError/OSError, it reaches
# None.startswith() on a record without a WARC-Target-URI (AttributeError) and hashlib.new()
# with a digest name it could not decode (TypeError); found by tests/fuzz.
_WARCIO_FAILURES = (ArchiveLoadFailed, ValueError, OSError, AttributeError, TypeError)


def read_warc(data: bytes) -> WarcContent:
    """Parse WARC bytes, checking warcio's block and payload digests; the main record."""
    found: WarcContent | None = None
    try:
        for record in ArchiveIterator(io.BytesIO(data), check_digests="raise"):
            if record.rec_type not in (WarcType.RESPONSE.value, WarcType.RESOURCE.value):
                record.content_stream().read()
                continue
            body = record.content_stream().read()
            status = int(record.http_headers.get_statuscode()) if record.http_headers else 200
            found = WarcContent(
                record_id=str(record.rec_headers.get_header("WARC-Record-ID")),
                record_type=WarcType(record.rec_type),
                url=str(record.rec_headers.get_header("WARC-Target-URI")),
                status=status,
                body=body,
            )
    except _WARCIO_FAILURES as exc:
        raise EvidenceError(f"the WARC data does not parse: {exc}") from exc
    if found is None:
        raise EvidenceError("the WARC data holds no response or resource record")
    return found
