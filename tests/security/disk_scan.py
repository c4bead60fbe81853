"""Scanning files for hash values in every form they could take on disk (issue 18).

A hash value is looked for as lower- and upper-case hex, its raw bytes, and base64 of the
raw bytes (standard and URL-safe, without padding), in every file under a folder.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DiskScan", "forms", "scan"]


def forms(value: str) -> list[bytes]:
    """The byte strings a hash value (hex) is found as."""
    raw = bytes.fromhex(value)
    return [
        value.lower().encode(),
        value.upper().encode(),
        raw,
        base64.b64encode(raw).rstrip(b"="),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
    ]


@dataclass(slots=True)
class DiskScan:
    """What a scan saw: files and bytes read, and which values each file held."""

    files: int = 0
    bytes: int = 0
    hits: dict[str, set[str]] = field(default_factory=dict)  # relative path -> values

    def found(self) -> set[str]:
        return set().union(*self.hits.values()) if self.hits else set()

    def in_files(self, names: set[str]) -> set[str]:
        """The values found in the files whose name is one of ``names``."""
        found: set[str] = set()
        for path, values in self.hits.items():
            if Path(path).name in names:
                found |= values
        return found


def scan(root: Path, values: list[str]) -> DiskScan:
    """Every regular file under ``root``, read whole, searched for every form of ``values``."""
    result = DiskScan()
    wanted = [(value, forms(value)) for value in values]
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue  # removed while we looked (a database's temporary file)
        result.files += 1
        result.bytes += len(data)
        held = {value for value, shapes in wanted if any(s in data for s in shapes)}
        if held:
            result.hits[str(path.relative_to(root))] = held
    return result
