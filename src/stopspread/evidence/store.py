"""The evidence store: encrypted WARC files on disk, one row and one log entry each.

:meth:`EvidenceStore.capture` runs inside the caller's write transaction, before anything
else is done with what was found: it writes each encrypted file (fsynced, then renamed into
place), adds its ``evidence_records`` row and appends its ``evidence_log`` entry. If the
transaction rolls back, the file stays behind unreferenced; ``verify`` lists such files.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Sequence
from datetime import UTC
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from stopspread.config import Settings
from stopspread.errors import ConfigError, EvidenceError, NotFoundError
from stopspread.evidence import crypto, log
from stopspread.evidence.capture import EvidenceRef, HttpCapture
from stopspread.evidence.warc import WarcType, build_warc, read_warc
from stopspread.storage.db import Database
from stopspread.storage.models_worker import EvidenceKind, EvidenceRecord

__all__ = ["EVIDENCE_DIR", "KST", "EvidenceStore", "logged_fields"]

EVIDENCE_DIR: Final = "evidence"
KST: Final = ZoneInfo("Asia/Seoul")
MEDIA_PREFIXES: Final = ("image/", "video/", "audio/")


def logged_fields(row: EvidenceRecord) -> dict[str, object]:
    """The row's columns as its log entry records them (verify compares the two)."""
    return {
        "evidence_id": row.id,
        "case_id": row.case_id,
        "kind": row.kind.value,
        "url": row.url,
        "http_status": row.http_status,
        "content_type": row.content_type,
        "warc_record_id": row.warc_record_id,
        "sha256": row.sha256,
        "payload_sha256": row.payload_sha256,
        "size": row.size,
        "cipher_sha256": row.cipher_sha256,
        "nonce": row.nonce,
        "file_name": row.file_name,
        "captured_at": row.captured_at,
        "captured_at_kst": row.captured_at_kst,
        "reason": row.reason,
    }


def _kind(rtype: WarcType, content_type: str) -> EvidenceKind:
    if rtype is WarcType.RESOURCE:
        return EvidenceKind.RESOURCE
    if content_type.lower().startswith(MEDIA_PREFIXES):
        return EvidenceKind.MEDIA
    return EvidenceKind.PAGE


class EvidenceStore:
    """Captures responses as AES-GCM encrypted WARC files under ``<data_dir>/evidence``."""

    def __init__(self, root: Path, key: bytes, db: Database) -> None:
        self.root = root
        self._key = key
        self._db = db

    @classmethod
    def from_settings(
        cls, settings: Settings, db: Database | None = None, *, create_key: bool = True
    ) -> EvidenceStore:
        root = Path(settings.data_dir) / EVIDENCE_DIR
        key_file = Path(settings.data_dir) / crypto.KEY_FILE
        lost = settings.evidence_key is None and not key_file.exists() and root.is_dir()
        if lost and next(root.rglob("*.warc.aes"), None) is not None:
            raise ConfigError(
                f"evidence exists in {root} but its key file {key_file} is missing:"
                " restore it (or set evidence_key); a new key could read none of it"
            )
        key = crypto.load_key(settings, create=create_key)
        return cls(root, key, db or Database(settings.url))

    def capture(
        self, session: Session, case_id: int, items: Sequence[HttpCapture], *, reason: str
    ) -> list[EvidenceRef]:
        """Store each item; call inside :meth:`Database.write` (the log needs the writer lock)."""
        return [self._capture_one(session, case_id, item, reason) for item in items]

    def _capture_one(
        self, session: Session, case_id: int, item: HttpCapture, reason: str
    ) -> EvidenceRef:
        warc = build_warc(item)
        digest = hashlib.sha256(warc.data).hexdigest()
        aad = crypto.associated_data(case_id, warc.record_id, digest)
        nonce, sealed = crypto.seal(self._key, warc.data, aad)
        file_name = f"{case_id}/{uuid.uuid4().hex}.warc.aes"
        self._write_file(file_name, sealed)
        at = item.fetched_at.astimezone(UTC)
        row = EvidenceRecord(
            case_id=case_id,
            kind=_kind(warc.record_type, warc.content_type),
            url=item.url,
            http_status=item.status,
            content_type=warc.content_type,
            warc_record_id=warc.record_id,
            sha256=digest,
            payload_sha256=hashlib.sha256(item.body).hexdigest(),
            size=len(warc.data),
            cipher_sha256=hashlib.sha256(sealed).hexdigest(),
            nonce=nonce.hex(),
            file_name=file_name,
            captured_at=at.isoformat(timespec="microseconds"),
            captured_at_kst=at.astimezone(KST).isoformat(timespec="microseconds"),
            reason=reason[:100],
            log_seq=0,
        )
        session.add(row)
        session.flush()  # the id goes into the log entry
        entry = log.append(session, log.LogKind.CAPTURED, logged_fields(row))
        row.log_seq = entry.seq
        session.flush()
        return EvidenceRef(id=row.id, sha256=digest, captured_at=at)

    def _write_file(self, file_name: str, data: bytes) -> None:
        path = self.root / file_name
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)  # private, not just its leaves
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)

    def decrypt(
        self, case_id: int, record_id: str, sha256: str, nonce_hex: str, sealed: bytes
    ) -> bytes:
        """A file's WARC plaintext; AES-GCM checks it was not changed nor moved."""
        aad = crypto.associated_data(case_id, record_id, sha256)
        try:
            nonce = bytes.fromhex(nonce_hex)
        except ValueError as exc:
            raise EvidenceError("the nonce is not hex") from exc
        return crypto.open_sealed(self._key, nonce, sealed, aad)

    def read_file(self, file_name: str) -> bytes:
        path = (self.root / file_name).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise EvidenceError(f"{file_name}: not under the evidence folder")
        try:
            return path.read_bytes()
        except OSError as exc:
            raise EvidenceError(f"{file_name}: cannot be read ({exc.strerror})") from exc

    def open_warc(self, row: EvidenceRecord) -> bytes:
        sealed = self.read_file(row.file_name)
        plain = self.decrypt(row.case_id, row.warc_record_id, row.sha256, row.nonce, sealed)
        if hashlib.sha256(plain).hexdigest() != row.sha256:
            raise EvidenceError(f"evidence {row.id}: the WARC digest does not match")
        return plain

    def open_payload(self, evidence_id: int) -> bytes:
        """The decrypted HTTP body (or file) of one evidence record, digests checked."""
        with self._db.read() as session:
            row = session.get(EvidenceRecord, evidence_id)
            if row is None:
                raise NotFoundError(f"no evidence {evidence_id}")
            body = read_warc(self.open_warc(row)).body
        if hashlib.sha256(body).hexdigest() != row.payload_sha256:
            raise EvidenceError(f"evidence {evidence_id}: the body digest does not match")
        return body
