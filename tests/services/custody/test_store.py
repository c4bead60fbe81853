"""Capture → encrypted WARC file + row + log entry; read back with warcio after decrypting."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from stopspread.config import Settings
from stopspread.errors import ConfigError, EvidenceError, NotFoundError
from stopspread.evidence import EvidenceFiles, HttpCapture
from stopspread.evidence.crypto import KEY_FILE, load_key
from stopspread.evidence.preview import blurred_preview
from stopspread.services.custody import EvidenceStore, verify_evidence
from stopspread.storage.models_worker import EvidenceKind, EvidenceLogEntry, EvidenceRecord
from tests.cli.conftest import write_video
from tests.services.custody.conftest import Stored, sample_captures


def test_round_trip_is_readable_by_warcio(stored: Stored) -> None:
    captures = sample_captures()
    with stored.svc.db.read() as session:
        rows = session.scalars(select(EvidenceRecord).order_by(EvidenceRecord.id)).all()
        for row, capture, ref in zip(rows, captures, stored.refs, strict=True):
            assert ref.id == row.id and ref.sha256 == row.sha256
            plain = stored.store.open_warc(row)
            assert hashlib.sha256(plain).hexdigest() == row.sha256 == ref.sha256
            records = list(_records(plain))
            main = records[-1]
            assert main[0] == ("resource" if capture.url.startswith("file:") else "response")
            assert main[1] == capture.url and main[2] == capture.body
            assert row.payload_sha256 == hashlib.sha256(capture.body).hexdigest()
            assert stored.store.open_payload(row.id) == capture.body
    assert [r[0] for r in _records(_plain(stored, 1))] == ["request", "response"]


def _plain(stored: Stored, evidence_id: int) -> bytes:
    with stored.svc.db.read() as session:
        row = session.get(EvidenceRecord, evidence_id)
        assert row is not None
        return stored.store.open_warc(row)


def _records(plain: bytes) -> list[tuple[str, str, bytes]]:
    out = []
    for record in ArchiveIterator(io.BytesIO(plain), check_digests="raise"):
        assert record.rec_headers.get_header("WARC-Block-Digest", "").startswith("sha1:")
        uri = record.rec_headers.get_header("WARC-Target-URI")
        out.append((record.rec_type, uri, record.content_stream().read()))
    return out


def test_rows_record_kinds_times_and_log_entries(stored: Stored) -> None:
    with stored.svc.db.read() as session:
        rows = session.scalars(select(EvidenceRecord).order_by(EvidenceRecord.id)).all()
        entries = session.scalars(select(EvidenceLogEntry).order_by(EvidenceLogEntry.seq)).all()
    assert [r.kind for r in rows] == [EvidenceKind.PAGE, EvidenceKind.MEDIA, EvidenceKind.RESOURCE]
    assert rows[0].captured_at == "2026-11-25T15:30:00.123456+00:00"
    assert rows[0].captured_at_kst == "2026-11-26T00:30:00.123456+09:00"
    assert [r.log_seq for r in rows] == [e.seq for e in entries] == [1, 2, 3]
    payload = json.loads(entries[1].payload)
    assert payload["evidence_id"] == rows[1].id and payload["sha256"] == rows[1].sha256
    assert payload["cipher_sha256"] == rows[1].cipher_sha256
    assert entries[1].prev_hash == entries[0].entry_hash


def test_files_are_encrypted_private_and_verify(stored: Stored) -> None:
    captures = sample_captures()
    files = sorted(stored.store.root.rglob("*.warc.aes"))
    assert len(files) == 3
    for path in files:
        data = path.read_bytes()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert b"WARC/1.1" not in data and all(c.body[:40] not in data for c in captures)
    key_file = Path(stored.svc.settings.data_dir) / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    report = verify_evidence(stored.svc.db, stored.store)
    assert report.ok, report.problems
    assert (report.records, report.entries, report.unreferenced_files) == (3, 3, [])


def test_swapped_files_do_not_decrypt(stored_sqlite: Stored) -> None:
    root = stored_sqlite.store.root
    with stored_sqlite.svc.db.read() as session:
        a, b = session.scalars(select(EvidenceRecord).order_by(EvidenceRecord.id).limit(2)).all()
    data_a, data_b = (root / a.file_name).read_bytes(), (root / b.file_name).read_bytes()
    (root / a.file_name).write_bytes(data_b)
    (root / b.file_name).write_bytes(data_a)
    with pytest.raises(EvidenceError):
        stored_sqlite.store.open_payload(a.id)
    problems = verify_evidence(stored_sqlite.svc.db, stored_sqlite.store).problems
    assert {p.item for p in problems} == {f"evidence {a.id}", f"evidence {b.id}"}


def test_another_key_cannot_read(stored_sqlite: Stored) -> None:
    other = EvidenceStore(
        EvidenceFiles(stored_sqlite.store.root, b"\x01" * 32), stored_sqlite.svc.db
    )
    with pytest.raises(EvidenceError, match="does not decrypt"):
        other.open_payload(stored_sqlite.refs[0].id)
    assert len(verify_evidence(stored_sqlite.svc.db, other).problems) == 3


def test_unknown_evidence_is_not_found(stored_sqlite: Stored) -> None:
    with pytest.raises(NotFoundError):
        stored_sqlite.store.open_payload(999)


def test_key_from_setting_and_file(tmp_path: Path) -> None:
    key = bytes(range(32))
    assert load_key(Settings(data_dir=tmp_path, evidence_key=base64.b64encode(key).decode())) == key
    assert not (tmp_path / KEY_FILE).exists()
    made = load_key(Settings(data_dir=tmp_path))
    assert len(made) == 32 and load_key(Settings(data_dir=tmp_path)) == made
    for bad in ("not base64!", base64.b64encode(b"short").decode()):
        with pytest.raises(ConfigError, match="evidence key"):
            load_key(Settings(data_dir=tmp_path, evidence_key=bad))


def test_rolled_back_capture_leaves_an_unreferenced_file(stored_sqlite: Stored) -> None:
    capture = HttpCapture("http://127.0.0.1:1/x", 200, [], b"x", datetime.now(UTC))

    def fail_after_capture() -> None:
        with stored_sqlite.svc.db.write() as (session, _head):
            stored_sqlite.store.capture(session, stored_sqlite.case_id, [capture], reason="t")
            raise RuntimeError("the scan failed after capturing")

    with pytest.raises(RuntimeError):
        fail_after_capture()
    report = verify_evidence(stored_sqlite.svc.db, stored_sqlite.store)
    assert report.ok and len(report.unreferenced_files) == 1


def test_a_lost_key_file_is_not_silently_replaced(stored_sqlite: Stored) -> None:
    settings = stored_sqlite.svc.settings
    (Path(settings.data_dir) / KEY_FILE).unlink()
    with pytest.raises(ConfigError, match=r"key file .* is missing"):
        EvidenceStore.from_settings(settings, stored_sqlite.svc.db)
    assert not (Path(settings.data_dir) / KEY_FILE).exists()


def test_video_previews_are_made_in_a_limited_child(tmp_path: Path) -> None:
    video = write_video(tmp_path / "v.mp4", seed=2, seconds=1).read_bytes()
    inside = blurred_preview(video, "video/mp4", sandboxed=False)
    assert blurred_preview(video, "video/mp4") == inside
    with pytest.raises(EvidenceError, match="no preview"):
        blurred_preview(b"\x00\x00\x00\x18ftypmp42 truncated", "video/mp4")
    with pytest.raises(EvidenceError, match="does not decode"):
        blurred_preview(b"not an image at all", "image/jpeg")
