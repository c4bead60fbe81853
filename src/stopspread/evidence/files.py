"""Encrypted evidence files on disk: one AES-GCM sealed WARC file each, under one folder.

Files are written to a temporary name, fsynced and renamed into place, mode 0600, in folders
of mode 0700. The associated data binds each file to its case, WARC record id and plaintext
digest (:mod:`stopspread.evidence.crypto`). Which file belongs to which record is kept by the
services (``services/custody``); this module only seals, writes, reads and opens files.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from stopspread.config import Settings
from stopspread.errors import ConfigError, EvidenceError
from stopspread.evidence import crypto

__all__ = ["EVIDENCE_DIR", "EvidenceFiles", "SealedFile", "remove_case"]

EVIDENCE_DIR: Final = "evidence"


@dataclass(frozen=True, slots=True)
class SealedFile:
    """A file as written: its name under the root, the nonce (hex), the ciphertext's SHA-256."""

    file_name: str
    nonce: str
    cipher_sha256: str


class EvidenceFiles:
    """AES-GCM sealed WARC files under ``root`` (``<data_dir>/evidence``)."""

    def __init__(self, root: Path, key: bytes) -> None:
        self.root = root
        self._key = key

    @classmethod
    def from_settings(cls, settings: Settings, *, create_key: bool = True) -> EvidenceFiles:
        """The folder and key of ``settings``; refuses to make a new key beside old evidence."""
        root = Path(settings.data_dir) / EVIDENCE_DIR
        key_file = Path(settings.data_dir) / crypto.KEY_FILE
        lost = settings.evidence_key is None and not key_file.exists() and root.is_dir()
        if lost and next(root.rglob("*.warc.aes"), None) is not None:
            raise ConfigError(
                f"evidence exists in {root} but its key file {key_file} is missing:"
                " restore it (or set evidence_key); a new key could read none of it"
            )
        return cls(root, crypto.load_key(settings, create=create_key))

    def new_case_key(self, case_id: int) -> tuple[bytes, bytes, bytes]:
        """``(key, nonce, wrapped)``: a fresh case key and its form wrapped by the master key."""
        key = crypto.new_data_key()
        nonce, wrapped = crypto.wrap_key(self._key, case_id, key)
        return key, nonce, wrapped

    def case_key(self, case_id: int, nonce: bytes, wrapped: bytes) -> bytes:
        """A case key unwrapped by the master key."""
        return crypto.unwrap_key(self._key, case_id, nonce, wrapped)

    def write(
        self, case_id: int, record_id: str, sha256: str, plain: bytes, key: bytes | None = None
    ) -> SealedFile:
        """Seal ``plain`` (whose SHA-256 is ``sha256``) with ``key`` (the case key; the master
        key if None) and write it under a fresh name."""
        aad = crypto.associated_data(case_id, record_id, sha256)
        nonce, sealed = crypto.seal(key or self._key, plain, aad)
        file_name = f"{case_id}/{uuid.uuid4().hex}.warc.aes"
        self._write(file_name, sealed)
        return SealedFile(file_name, nonce.hex(), hashlib.sha256(sealed).hexdigest())

    def _write(self, file_name: str, data: bytes) -> None:
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
        self,
        case_id: int,
        record_id: str,
        sha256: str,
        nonce_hex: str,
        sealed: bytes,
        key: bytes | None = None,
    ) -> bytes:
        """A file's WARC plaintext; AES-GCM checks it was not changed nor moved.

        ``key``: the case key; None for files sealed with the master key (before case keys).
        """
        aad = crypto.associated_data(case_id, record_id, sha256)
        try:
            nonce = bytes.fromhex(nonce_hex)
        except ValueError as exc:
            raise EvidenceError("the nonce is not hex") from exc
        return crypto.open_sealed(key or self._key, nonce, sealed, aad)

    def read(self, file_name: str) -> bytes:
        """A sealed file's bytes; a name that leaves the folder is refused."""
        path = (self.root / file_name).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise EvidenceError(f"{file_name}: not under the evidence folder")
        try:
            return path.read_bytes()
        except OSError as exc:
            raise EvidenceError(f"{file_name}: cannot be read ({exc.strerror})") from exc

    def unreferenced(self, names: set[str]) -> list[str]:
        """Files under the folder whose names are not in ``names``, sorted."""
        if not self.root.is_dir():
            return []
        found = {p.relative_to(self.root).as_posix() for p in self.root.rglob("*.warc.aes")}
        return sorted(found - names)


def remove_case(root: Path, case_id: int) -> int:
    """Delete every file of one case under ``root`` (after its key was destroyed); needs no
    key. Returns how many files were removed."""
    folder = root / str(case_id)
    if not folder.is_dir():
        return 0
    removed = 0
    for path in sorted(folder.iterdir()):
        path.unlink(missing_ok=True)
        removed += 1
    folder.rmdir()
    return removed
