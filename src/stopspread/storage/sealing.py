"""Hash values sealed at rest (issue 18, finding 10): a stolen database file yields no hash.

With ``seal_hashes`` on, ``signals.value`` and ``feed_records.value`` hold each hash value
encrypted with AES-SIV (RFC 5297, deterministic: the same value always seals to the same
text, so exact look-ups, ``IN`` lists and unique constraints keep working) under a key kept
outside the database: the ``hash_key`` setting, or the key file ``hash_key_file``
(``<data_dir>/hash.key`` by default; created 0600 in a 0700 folder on first start).
The column type :class:`SealedHex` seals on the way in and opens on the way out, so services
see plain hex as before. The key is the engine dialect's (one per :class:`Database`), never a
global. A value stored plain (before sealing was turned on) still reads as it is;
:func:`seal_existing` seals those rows once. Sealing is on by default (``seal_hashes``);
``storage/sealing_check.py`` checks at start that the key is the database's.

Sealed text: base64url without padding of ``SIV tag || ciphertext`` of the value's bytes
(a PDQ hash: 32 + 16 bytes → 64 characters; an MD5: 43), never all hexadecimal.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import String, Table, text, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from stopspread.config import Settings
from stopspread.errors import ConfigError

__all__ = [
    "HASH_KEY_FILE",
    "KEY_CHECK_NAME",
    "HashSealer",
    "SealedHex",
    "attach",
    "is_plain",
    "load_hash_sealer",
    "seal_existing",
    "sealer_of",
]

HASH_KEY_FILE: Final = "hash.key"
KEY_BYTES: Final = 64  # AES-256-SIV
_AAD: Final = [b"stopspread-hash-v1"]
_HEX: Final = re.compile(r"[0-9a-f]+")
_DIALECT_ATTR: Final = "stopspread_hash_sealer"
KEY_CHECK_NAME: Final = "hash_key_check"  # the ``meta`` row telling which key sealed the values
_CHECK_PLAIN: Final = "5354" * 16  # a fixed value whose sealed text identifies the key


class HashSealer:
    """Seals and opens hash values (lowercase hex) with one AES-SIV key."""

    def __init__(self, key: bytes, source: str = "", created: Path | None = None) -> None:
        """``source``: where the key came from (a path or a setting's name), for messages;
        ``created``: the key file this process has just made, if it did."""
        if len(key) != KEY_BYTES:
            raise ConfigError(f"the hash key must be {KEY_BYTES} bytes")
        self._siv = AESSIV(key)
        self._key = key
        self.source, self.created = source, created

    def key_check(self) -> str:
        """A value identifying this key (a fixed value sealed): kept in the database, it tells a
        wrong key at start-up; it tells nothing about any hash value nor the key itself."""
        return self.seal(_CHECK_PLAIN)

    def derive(self, purpose: bytes) -> bytes:
        """A 32-byte secret for one ``purpose`` (HKDF-SHA-256 of the hash key): the index
        cloak's (``matching/cloak.py``). It tells nothing about the key or other purposes'."""
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose)
        return hkdf.derive(self._key)

    def seal(self, value: str) -> str:
        if len(value) % 2 or not _HEX.fullmatch(value):
            return value  # not a canonical hash value: the services refuse those anyway
        sealed = self._siv.encrypt(bytes.fromhex(value), _AAD)
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")

    def open(self, stored: str) -> str:
        if _HEX.fullmatch(stored):
            return stored  # stored before sealing was turned on
        try:
            raw = base64.urlsafe_b64decode(stored + "=" * (-len(stored) % 4))
            return self._siv.decrypt(raw, _AAD).hex()
        except (binascii.Error, ValueError, InvalidTag) as exc:
            message = "a sealed hash value does not open: is this the right hash key?"
            raise ConfigError(message) from exc


def sealer_of(dialect: Dialect) -> HashSealer | None:
    found: HashSealer | None = getattr(dialect, _DIALECT_ATTR, None)
    return found


def attach(dialect: Dialect, sealer: HashSealer | None) -> None:
    setattr(dialect, _DIALECT_ATTR, sealer)


class SealedHex(TypeDecorator[str]):
    """A hash value column: sealed at rest when the engine has a :class:`HashSealer`."""

    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        sealer = sealer_of(dialect)
        return value if value is None or sealer is None else sealer.seal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        sealer = sealer_of(dialect)
        return value if value is None or sealer is None else sealer.open(str(value))


def _decode(text_key: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text_key.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"{source}: the hash key is not base64") from exc
    if len(key) != KEY_BYTES:
        raise ConfigError(f"{source}: the hash key must be {KEY_BYTES} bytes")
    return key


def load_hash_sealer(settings: Settings) -> HashSealer | None:
    """None unless ``seal_hashes``; else the key from ``hash_key`` or the key file
    (``hash_key_file``, ``<data_dir>/hash.key``): created with mode 0600 in a folder of mode
    0700 when missing, never inside the database, never logged."""
    if not settings.seal_hashes:
        return None
    if settings.hash_key is not None:
        return HashSealer(_decode(settings.hash_key, "setting hash_key"), "setting hash_key")
    path = settings.hash_key_path
    created = None if path.exists() else _create_key_file(path)
    try:
        key = _decode(path.read_text(encoding="ascii"), str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the hash key file {path}: {exc}") from exc
    return HashSealer(key, str(path), created)


def _create_key_file(path: Path) -> Path | None:
    """A new random key in ``path`` (0600; a new folder 0700); None if another process won."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.parent.chmod(0o700)  # the umask may have taken bits off, never added: exact now
    line = base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii") + "\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return None  # another process made it first
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(line)
        out.flush()
        os.fsync(out.fileno())
    return path


def is_plain(stored: str) -> bool:
    """Whether a stored value is a hash value in the clear (not sealed)."""
    return _HEX.fullmatch(stored) is not None


def seal_existing(session: Session, table: Table) -> int:
    """Seal the rows of ``table`` (``signals`` or ``feed_records``) still holding a plain value,
    once, after sealing was turned on; inside a write transaction. Returns how many."""
    raw = session.execute(text(f"SELECT id, value FROM {table.name}")).all()  # noqa: S608
    plain = [(row_id, str(value)) for row_id, value in raw if is_plain(str(value))]
    for row_id, value in plain:  # written back through SealedHex: sealed
        session.execute(update(table).where(table.c.id == row_id).values(value=value))
    return len(plain)
