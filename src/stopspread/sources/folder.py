"""A folder source: every image and video under a folder on this machine, recursively.

Files are read as they are (no network); each becomes a ``file://`` "response" with
status 200 so evidence is captured the same way as for a download. Symbolic links to
folders are not followed (no loops); files over the byte cap are reported, not read.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from stopspread.errors import FetchError, FetchTooLargeError
from stopspread.sources.crawl import Event, ItemFailed, MediaFound
from stopspread.sources.fetch import Fetched
from stopspread.sources.media import BodyKind, classify

__all__ = ["folder_media", "read_file"]


def read_file(path: Path, max_bytes: int) -> Fetched:
    """One file as a ``file://`` response (raises :class:`FetchError` subclasses)."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise FetchTooLargeError(f"file is over the {max_bytes:,}-byte cap")
        body = path.read_bytes()
    except OSError as exc:
        raise FetchError(exc.strerror or str(exc)) from None
    ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Fetched(
        url=path.resolve().as_uri(),
        status=200,
        headers=(("content-type", ctype), ("content-length", str(len(body)))),
        body=body,
        fetched_at=datetime.now(UTC),
        peer="",
    )


def folder_media(root: Path, max_bytes: int) -> Iterator[Event]:
    """Media files under ``root`` in a stable (sorted) order; other files are skipped."""
    if not root.is_dir():
        yield ItemFailed(root.as_uri() if root.is_absolute() else str(root),
                         FetchError("not a folder"))  # fmt: skip
        return
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            try:
                got = read_file(path, max_bytes)
            except FetchError as exc:
                yield ItemFailed(path.as_uri(), exc)
                continue
            if classify(got.body, got.content_type, got.url) in (BodyKind.IMAGE, BodyKind.VIDEO):
                yield MediaFound(got.url, None, got)
