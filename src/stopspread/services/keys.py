"""Secrets and keys: case codes and secrets, API keys, opaque match references.

- A case secret has 192 random bits and is stored only as an argon2id hash (slow on
  purpose: a stolen database does not give the secrets away).
- An API key has 256 random bits; a fast SHA-256 is enough to store it (nobody can search
  a 256-bit space), and it lets us look a key up by its hash on every request.
- A match reference is an HMAC of (client id, signal id) under the server's key: the same
  signal gives different, unlinkable references to different platforms.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "API_KEY_BYTES",
    "CASE_SECRET_BYTES",
    "SecretHasher",
    "hash_api_key",
    "match_ref",
    "new_api_key",
    "new_case_code",
    "new_case_secret",
    "new_server_key",
    "normalise_case_code",
]

CASE_SECRET_BYTES: Final = 24  # 192 bits: far above the 128-bit floor
API_KEY_BYTES: Final = 32  # 256 bits
CASE_CODE_CHARS: Final = 12  # from a 32-letter alphabet: 60 bits, unique, not a secret
REF_BYTES: Final = 16  # 128-bit references: collisions are not a concern
_CODE_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud safely


def new_case_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(CASE_CODE_CHARS))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalise_case_code(code: str) -> str:
    """A case code as typed (spaces around it, any case) as stored: `` abcd-…`` → ``ABCD-…``."""
    return code.strip().upper()


def new_case_secret() -> str:
    return secrets.token_urlsafe(CASE_SECRET_BYTES)


def new_api_key() -> str:
    return "ssk_" + secrets.token_urlsafe(API_KEY_BYTES)


def new_server_key() -> str:
    return secrets.token_hex(32)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def match_ref(server_key: str, client_id: int, signal_id: int) -> str:
    msg = f"{client_id}:{signal_id}".encode("ascii")
    digest = hmac.new(server_key.encode("utf-8"), msg, hashlib.sha256).digest()
    return "r_" + digest[:REF_BYTES].hex()


class SecretHasher:
    """argon2id hashing of case secrets, with a dummy hash for unknown case codes."""

    def __init__(self, time_cost: int, memory_kib: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        # verified against for unknown codes, so a miss costs the same time as a wrong secret
        self._dummy = self._hasher.hash(secrets.token_urlsafe(CASE_SECRET_BYTES))

    def hash(self, secret: str) -> str:
        return self._hasher.hash(secret)

    def verify(self, stored: str | None, secret: str) -> bool:
        try:
            return self._hasher.verify(stored or self._dummy, secret) and stored is not None
        except (VerificationError, InvalidHashError):
            return False
