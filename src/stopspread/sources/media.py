"""What a fetched body or a file is: a page, an image, a video, or something we skip.

The first bytes decide where they can (``hashing.sniff`` for video containers, magic
numbers for images); the declared ``Content-Type`` and the URL's suffix are fallbacks.
"""

from __future__ import annotations

import enum
from pathlib import PurePosixPath
from typing import Final
from urllib.parse import urlsplit

from stopspread.hashing.sniff import VIDEO_SUFFIXES, sniff_bytes

__all__ = ["IMAGE_SUFFIXES", "BodyKind", "classify", "looks_like_media_url"]

IMAGE_SUFFIXES: Final = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".avif"}
    | {".heic", ".heif", ".ppm"}
)
_IMAGE_MAGIC: Final = (
    b"\xff\xd8\xff",  # JPEG
    b"\x89PNG\r\n\x1a\n",
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",  # TIFF, little-endian
    b"MM\x00*",  # TIFF, big-endian
    b"P6",  # PPM
)
_HTML_START: Final = (b"<!doctype html", b"<html", b"<head", b"<body", b"<meta", b"<title")


class BodyKind(enum.StrEnum):
    HTML = "html"
    IMAGE = "image"
    VIDEO = "video"
    OTHER = "other"


def _suffix(url: str) -> str:
    try:
        return PurePosixPath(urlsplit(url).path).suffix.lower()
    except ValueError:
        return ""


def looks_like_media_url(url: str) -> bool:
    """A link to an image or video by its path's suffix (``<a href="clip.mp4">``)."""
    suffix = _suffix(url)
    return suffix in IMAGE_SUFFIXES or suffix in VIDEO_SUFFIXES


def _is_image(head: bytes) -> bool:
    if head.startswith(_IMAGE_MAGIC):
        return True
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return True
    return head[4:8] == b"ftyp" and sniff_bytes(head) is None  # HEIC/AVIF


def classify(body: bytes, content_type: str = "", url: str = "") -> BodyKind:
    """Decide from the bytes first, then the declared type, then the URL's suffix."""
    head = body[:512]
    if sniff_bytes(head) is not None:
        return BodyKind.VIDEO
    if _is_image(head):
        return BodyKind.IMAGE
    ctype = content_type.split(";", 1)[0].strip().lower()
    if ctype in ("text/html", "application/xhtml+xml"):
        return BodyKind.HTML
    if head.lstrip()[:20].lower().startswith(_HTML_START):
        return BodyKind.HTML
    if ctype.startswith("video/") or _suffix(url) in VIDEO_SUFFIXES:
        return BodyKind.VIDEO  # a container we did not recognise: the decoder decides
    if ctype.startswith("image/") or _suffix(url) in IMAGE_SUFFIXES:
        return BodyKind.IMAGE
    return BodyKind.OTHER
