"""Hash values cloaked in the index a process matches against, and so in its snapshots
(issue 18, finding 10): a stolen snapshot alone shows no enrolled hash.

- PDQ: each value XOR a 256-bit mask. Hamming distance is preserved under XOR with a constant
  (``d(a ^ m, b ^ m) = d(a, b)``), so the index (MIH tables, segments, snapshots, memory
  maps) works unchanged on cloaked values; a query is cloaked with the same mask first.
- MD5: a keyed HMAC-SHA-256 of the digest, its first 16 bytes as 32 hex digits (exact match
  only, as before; not reversible).

The mask and the HMAC key come from a secret derived from the hash key (kept outside the
database, ``storage/sealing.py``); :attr:`IndexCloak.fingerprint` names the secret (a snapshot
records it, so one written under another key is never read as this one's).

Its limit, honestly: the mask is one constant. Anyone holding a snapshot and ONE enrolled PDQ
value in the clear (hers, or any hash they enrolled themselves and can find in the file by id)
gets the mask by XOR and with it every PDQ value in that snapshot; MD5 entries stay keyed. A
new hash key makes a new mask: every snapshot is rebuilt then (its fingerprint no longer
matches). A pure module: no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Final

import numpy as np

from stopspread.matching.base import HASH_BYTES, HashArray

__all__ = ["SECRET_BYTES", "IndexCloak"]

SECRET_BYTES: Final = 32
_LABEL: Final = b"stopspread index cloak v1 "
_PDQ: Final = "pdq"
_MD5: Final = "md5"

Row = tuple[int, str]


def _prf(secret: bytes, label: bytes) -> bytes:
    return hmac.new(secret, _LABEL + label, hashlib.sha256).digest()


class IndexCloak:
    """Cloaks signal values (canonical lower-case hex) for the in-memory index."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < SECRET_BYTES:
            raise ValueError(f"an index cloak needs a secret of at least {SECRET_BYTES} bytes")
        mask = _prf(secret, b"pdq mask")
        assert len(mask) == HASH_BYTES  # SHA-256: 256 bits, one PDQ hash
        self._mask = np.frombuffer(mask, dtype=np.uint8)
        self._mask_int = int.from_bytes(mask, "big")
        self._md5_key = _prf(secret, b"md5 key")
        self.fingerprint: Final = _prf(secret, b"fingerprint")[:12].hex()

    def pdq_array(self, hashes: HashArray) -> HashArray:
        """Rows of PDQ bytes XOR the mask (cloaking and uncloaking are the same step)."""
        return np.bitwise_xor(hashes, self._mask)

    def value(self, kind: str, value: str) -> str:
        """One value cloaked: a PDQ hash XOR the mask, an MD5 digest keyed; others as they are."""
        if kind == _PDQ:
            return (int(value, 16) ^ self._mask_int).to_bytes(HASH_BYTES, "big").hex()
        if kind == _MD5:
            return hmac.new(self._md5_key, bytes.fromhex(value), hashlib.sha256).digest()[:16].hex()
        return value

    def rows(self, kind: str, rows: Sequence[Row]) -> list[Row]:
        """(id, value) rows cloaked; PDQ rows in one vectorised step."""
        if kind != _PDQ or not rows:
            return [(sid, self.value(kind, value)) for sid, value in rows]
        raw = np.frombuffer(bytes.fromhex("".join(v for _, v in rows)), dtype=np.uint8)
        text = self.pdq_array(raw.reshape(-1, HASH_BYTES)).tobytes().hex()
        width = 2 * HASH_BYTES
        return [(sid, text[i * width : (i + 1) * width]) for i, (sid, _) in enumerate(rows)]
