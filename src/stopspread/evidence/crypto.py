"""The evidence key and AES-GCM sealing of evidence files.

The key is 32 random bytes: from the ``evidence_key`` setting (base64), or else from
``<data_dir>/evidence.key``, created with mode 0600 on first use. Back that file up: without
it the evidence cannot be read. Each file gets a fresh 96-bit nonce; the associated data binds
the ciphertext to its case, WARC record id and plaintext digest, so a file moved or swapped to
another row does not decrypt.

Each case has its own random data key, wrapped (AES-GCM) by that key and bound to the case id
(:func:`wrap_key`); files are sealed with the case's key. Destroying the wrapped case key
makes every file of the case unreadable, copies in backups included (crypto-shredding).
Files sealed before case keys existed open with the master key itself.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from stopspread.config import Settings
from stopspread.errors import ConfigError, EvidenceError

__all__ = [
    "KEY_BYTES",
    "KEY_FILE",
    "NONCE_BYTES",
    "associated_data",
    "load_key",
    "new_data_key",
    "open_sealed",
    "seal",
    "unwrap_key",
    "wrap_key",
]

KEY_BYTES: Final = 32  # AES-256
NONCE_BYTES: Final = 12  # 96-bit nonces, fresh for every file
KEY_FILE: Final = "evidence.key"


def _decode(text: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"{source}: the evidence key is not base64") from exc
    if len(key) != KEY_BYTES:
        raise ConfigError(f"{source}: the evidence key must be {KEY_BYTES} bytes")
    return key


def load_key(settings: Settings, *, create: bool = True) -> bytes:
    """The evidence key: the setting, else the key file (created 0600 on first use).

    ``create=False`` (verifying) refuses to make a new key: it could read nothing.
    """
    if settings.evidence_key is not None:
        return _decode(settings.evidence_key, "setting evidence_key")
    path = Path(settings.data_dir) / KEY_FILE
    if not path.exists() and not create:
        raise ConfigError(f"no evidence key: set evidence_key or restore {path}")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        text = base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii") + "\n"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: read theirs
        else:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
    try:
        return _decode(path.read_text(encoding="ascii"), str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the evidence key file {path}: {exc}") from exc


def associated_data(case_id: int, record_id: str, sha256: str) -> bytes:
    return f"stopspread-evidence-v1\n{case_id}\n{record_id}\n{sha256}".encode()


def seal(key: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    """``(nonce, ciphertext)`` with a fresh random nonce."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce, AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except (InvalidTag, ValueError) as exc:
        raise EvidenceError("the file does not decrypt (damaged, swapped or another key)") from exc


def _key_aad(case_id: int) -> bytes:
    return f"stopspread-case-key-v1\n{case_id}".encode()


def new_data_key() -> bytes:
    """A fresh random 256-bit key (one per case)."""
    return os.urandom(KEY_BYTES)


def wrap_key(master: bytes, case_id: int, key: bytes) -> tuple[bytes, bytes]:
    """``(nonce, wrapped)``: ``key`` sealed by ``master``, bound to ``case_id``."""
    return seal(master, key, _key_aad(case_id))


def unwrap_key(master: bytes, case_id: int, nonce: bytes, wrapped: bytes) -> bytes:
    """The case key; :class:`EvidenceError` if it was wrapped by another key or for another case."""
    key = open_sealed(master, nonce, wrapped, _key_aad(case_id))
    if len(key) != KEY_BYTES:
        raise EvidenceError("the case key has the wrong length")
    return key
