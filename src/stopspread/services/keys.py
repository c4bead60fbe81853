"""Secrets and keys: case codes and secrets, API keys, opaque match references.

- A case secret has 140 random bits from a Crockford-style alphabet with no look-alikes
  (no I, L, O or U; no ``_``), grouped for reading: ``XXXX-XXXX-…`` (7 groups of 4). It is
  stored only as an argon2id hash of its canonical form (upper case, no dashes), slow on
  purpose: a stolen database does not give the secrets away. Input is normalised before it
  is checked (case, spaces, dashes; ``O``→``0``, ``I``/``L``→``1`` as Crockford reads them).
  Secrets made before issue 16 (``token_urlsafe``: 32 characters, case-sensitive) still
  verify as typed: their stored hashes are never rewritten.
- An API key has 256 random bits; a fast SHA-256 is enough to store it (nobody can search
  a 256-bit space), and it lets us look a key up by its hash on every request.
- A match reference is an HMAC of (client id, signal id) under the server's key: the same
  signal gives different, unlinkable references to different platforms.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "API_KEY_BYTES",
    "CASE_SECRET_ALPHABET",
    "CASE_SECRET_BYTES",
    "CASE_SECRET_CHARS",
    "SecretHasher",
    "hash_api_key",
    "match_ref",
    "new_api_key",
    "new_case_code",
    "new_case_secret",
    "new_server_key",
    "normalise_case_code",
    "normalise_case_secret",
    "secret_candidates",
]

CASE_SECRET_BYTES: Final = 24  # legacy secrets (before issue 16): 192 bits, token_urlsafe
CASE_SECRET_CHARS: Final = 28  # 28 × 5 bits = 140 bits: above the 128-bit floor
CASE_SECRET_GROUP: Final = 4  # shown as XXXX-XXXX-…: easy to read out and copy by hand
# Crockford's base32: digits and upper-case letters less I, L, O and U (no look-alikes)
CASE_SECRET_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # noqa: S105 (an alphabet)
_SECRET_READS_AS: Final = str.maketrans({"O": "0", "I": "1", "L": "1"})  # Crockford decoding
_SECRET_SEPARATORS: Final = str.maketrans("", "", " -\t\n\r\u00a0")
_LEGACY_SECRET: Final = re.compile(r"^[A-Za-z0-9_-]{32}$")  # token_urlsafe(24)
API_KEY_BYTES: Final = 32  # 256 bits
CASE_CODE_CHARS: Final = 12  # from a 32-letter alphabet: 60 bits, unique, not a secret
REF_BYTES: Final = 16  # 128-bit references: collisions are not a concern
_CODE_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud safely


def new_case_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(CASE_CODE_CHARS))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalise_case_code(code: str) -> str:
    """A case code as typed (any case, spaces, with or without dashes) as stored: ``ABCD-…``."""
    bare = code.translate(_SECRET_SEPARATORS).upper()
    if len(bare) == CASE_CODE_CHARS:
        return f"{bare[:4]}-{bare[4:8]}-{bare[8:]}"
    return code.strip().upper()


def new_case_secret() -> str:
    """A new secret as shown to her: ``XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX``."""
    raw = "".join(secrets.choice(CASE_SECRET_ALPHABET) for _ in range(CASE_SECRET_CHARS))
    groups = range(0, CASE_SECRET_CHARS, CASE_SECRET_GROUP)
    return "-".join(raw[i : i + CASE_SECRET_GROUP] for i in groups)


def normalise_case_secret(secret: str) -> str | None:
    """A new-format secret as typed → its canonical form (what is hashed); ``None`` otherwise.

    Case, spaces and dashes do not matter; ``O`` reads as ``0`` and ``I``/``L`` as ``1``.
    """
    text = secret.translate(_SECRET_SEPARATORS).upper().translate(_SECRET_READS_AS)
    if len(text) != CASE_SECRET_CHARS or any(c not in CASE_SECRET_ALPHABET for c in text):
        return None
    return text


def secret_candidates(secret: str) -> tuple[str, ...]:
    """The forms of a typed secret that may match a stored hash, most likely first.

    A new-format secret is hashed in its canonical form; a legacy one exactly as it was
    issued (case-sensitive, may hold ``-`` and ``_``), so it is tried as typed, trimmed.
    At most two forms: a wrong answer costs at most two argon2 checks.
    """
    out: list[str] = []
    canonical = normalise_case_secret(secret)
    if canonical is not None:
        out.append(canonical)
    legacy = secret.strip()
    if _LEGACY_SECRET.match(legacy) and legacy not in out:
        out.append(legacy)
    return tuple(out)


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

    def hash_case_secret(self, secret: str) -> str:
        """The stored hash of a new case secret: of its canonical form, so typing varies freely."""
        canonical = normalise_case_secret(secret)
        if canonical is None:
            raise ValueError("not a case secret of the current format")
        return self._hasher.hash(canonical)

    def verify_case_secret(self, stored: str | None, secret: str) -> bool:
        """Whether a typed case secret (new or legacy format) opens ``stored``.

        Input that fits neither format is still checked once (against its trimmed text),
        so it costs the same time as a wrong secret.
        """
        forms = secret_candidates(secret) or (secret.strip(),)
        return any([self.verify(stored, form) for form in forms])
