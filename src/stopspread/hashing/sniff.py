"""Is a file a video or an image? Decided from its first bytes, the suffix only as a fallback.

Sniffing the container signature means a video named ``.jpg`` is still hashed
as a video, and a HEIC/AVIF photo (which shares MP4's ``ftyp`` box) as an image.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Final

__all__ = ["VIDEO_SUFFIXES", "MediaKind", "sniff_bytes", "sniff_media"]

VIDEO_SUFFIXES: Final = frozenset(
    {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".wmv", ".asf", ".flv", ".ts", ".mts"}
    | {".m2ts", ".mpg", ".mpeg", ".3gp", ".3g2"}
)
# ISO-BMFF major brands of still images (HEIF/HEIC, AVIF): the same box layout as MP4.
_IMAGE_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
)
_ASF_GUID: Final = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
_TS_PACKET: Final = 188  # MPEG-TS packets are 188 bytes, each starting with 0x47
_SNIFF_BYTES: Final = 2 * _TS_PACKET + 1


class MediaKind(Enum):
    IMAGE = "image"
    VIDEO = "video"


def _is_video_signature(head: bytes) -> bool:
    if head[4:8] == b"ftyp":
        return head[8:12] not in _IMAGE_BRANDS
    if head.startswith((b"\x1a\x45\xdf\xa3", b"FLV\x01", _ASF_GUID, b"\x00\x00\x01\xba")):
        return True
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return True
    return len(head) > 2 * _TS_PACKET and all(head[i] == 0x47 for i in (0, 188, 376))


def sniff_bytes(head: bytes) -> MediaKind | None:
    """``VIDEO`` for a known video container signature, else ``None`` (unknown)."""
    return MediaKind.VIDEO if _is_video_signature(head) else None


def sniff_media(path: Path) -> MediaKind:
    """Video if the file starts like a video container or has a video suffix; else image."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError:
        head = b""
    if sniff_bytes(head) or path.suffix.lower() in VIDEO_SUFFIXES:
        return MediaKind.VIDEO
    return MediaKind.IMAGE
