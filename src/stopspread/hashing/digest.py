"""Cryptographic digests of file bytes: MD5 (what StopNCII shares for videos) and SHA-256."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = ["FileDigests", "digest_bytes", "digest_file"]

_CHUNK: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class FileDigests:
    """Lower-case hex digests of the exact file bytes."""

    md5: str
    sha256: str


def digest_bytes(data: bytes | bytearray | memoryview) -> FileDigests:
    return FileDigests(
        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def digest_file(path: Path) -> FileDigests:
    """Digest a file of any size without holding it in memory (for videos)."""
    md5 = hashlib.md5(usedforsecurity=False)
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            md5.update(chunk)
            sha.update(chunk)
    return FileDigests(md5=md5.hexdigest(), sha256=sha.hexdigest())
