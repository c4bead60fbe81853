"""The evidence store: encrypted WARC files on disk, one row and one log entry each.

The files themselves are :class:`stopspread.evidence.files.EvidenceFiles` (pure library);
this module ties each to its ``evidence_records`` row and evidence log entry.
:meth:`EvidenceStore.capture` runs inside the caller's write transaction, before anything
else is done with what was found: it writes each encrypted file (fsynced, then renamed into
place), adds its ``evidence_records`` row and appends its ``evidence_log`` entry. If the
transaction rolls back, the file stays behind unreferenced; ``verify`` lists such files.

Each case's files are sealed with its own key (``case_keys``, wrapped by the master key);
:mod:`.erase` destroys it when she withdraws and asks for the evidence to be
deleted, so no copy of those files, backups included, can be read again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from stopspread.config import Settings
from stopspread.errors import EvidenceErasedError, EvidenceError, NotFoundError
from stopspread.evidence.capture import EvidenceRef, HttpCapture
from stopspread.evidence.files import EvidenceFiles
from stopspread.evidence.warc import WarcType, build_warc, read_warc
from stopspread.services.custody import log
from stopspread.services.custody.erase import evidence_erased
from stopspread.storage.db import Database
from stopspread.storage.models import Case
from stopspread.storage.models_worker import CaseKey, EvidenceKind, EvidenceRecord

__all__ = ["KST", "EvidenceStore", "logged_fields"]

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

    def __init__(self, files: EvidenceFiles, db: Database) -> None:
        self.files = files
        self.root = files.root
        self._db = db

    @classmethod
    def from_settings(
        cls, settings: Settings, db: Database | None = None, *, create_key: bool = True
    ) -> EvidenceStore:
        files = EvidenceFiles.from_settings(settings, create_key=create_key)
        return cls(files, db or Database.from_settings(settings))

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
        key = self._case_key(session, case_id, create=True)
        sealed = self.files.write(case_id, warc.record_id, digest, warc.data, key)
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
            cipher_sha256=sealed.cipher_sha256,
            nonce=sealed.nonce,
            file_name=sealed.file_name,
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

    def case_key(self, session: Session, case_id: int, *, create: bool = True) -> bytes:
        """The case's own key (made on first use when ``create``), for other personal data
        sealed with it (keypoint records); :class:`EvidenceError` when it has none."""
        key = self._case_key(session, case_id, create=create)
        if key is None:
            raise EvidenceError(f"case {case_id} has no case key")
        return key

    def _case_key(self, session: Session, case_id: int, *, create: bool) -> bytes | None:
        """The case's key; a new one if it has none and ``create``; None: files of this case
        were sealed with the master key (before case keys). Refused once it was destroyed."""
        row = session.get(CaseKey, case_id)
        if row is not None:
            nonce, wrapped = bytes.fromhex(row.nonce), bytes.fromhex(row.wrapped)
            return self.files.case_key(case_id, nonce, wrapped)
        case = session.get(Case, case_id)
        if case is not None and evidence_erased(case):
            raise EvidenceErasedError("the case was withdrawn and its evidence deleted")
        if not create:
            return None
        key, nonce, wrapped = self.files.new_case_key(case_id)
        session.add(CaseKey(case_id=case_id, nonce=nonce.hex(), wrapped=wrapped.hex()))
        session.flush()
        return key

    def decrypt(
        self,
        case_id: int,
        record_id: str,
        sha256: str,
        nonce_hex: str,
        sealed: bytes,
        session: Session | None = None,
    ) -> bytes:
        """A file's WARC plaintext; AES-GCM checks it was not changed nor moved.

        Sealed with the case key, or with the master key if the file is older than case keys.
        """
        if session is None:
            with self._db.read() as own:
                return self.decrypt(case_id, record_id, sha256, nonce_hex, sealed, own)
        try:
            key = self._case_key(session, case_id, create=False)
        except EvidenceErasedError as exc:
            raise EvidenceError(str(exc)) from exc
        if key is not None:
            try:
                return self.files.decrypt(case_id, record_id, sha256, nonce_hex, sealed, key)
            except EvidenceError:
                pass  # sealed before the case had a key: the master key's
        return self.files.decrypt(case_id, record_id, sha256, nonce_hex, sealed)

    def read_file(self, file_name: str) -> bytes:
        return self.files.read(file_name)

    def open_warc(self, row: EvidenceRecord, session: Session | None = None) -> bytes:
        sealed = self.read_file(row.file_name)
        plain = self.decrypt(
            row.case_id, row.warc_record_id, row.sha256, row.nonce, sealed, session
        )
        if hashlib.sha256(plain).hexdigest() != row.sha256:
            raise EvidenceError(f"evidence {row.id}: the WARC digest does not match")
        return plain

    def open_payload(self, evidence_id: int) -> bytes:
        """The decrypted HTTP body (or file) of one evidence record, digests checked."""
        with self._db.read() as session:
            row = session.get(EvidenceRecord, evidence_id)
            if row is None:
                raise NotFoundError(f"no evidence {evidence_id}")
            body = read_warc(self.open_warc(row, session)).body
        if hashlib.sha256(body).hexdigest() != row.payload_sha256:
            raise EvidenceError(f"evidence {evidence_id}: the body digest does not match")
        return body
