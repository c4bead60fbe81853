"""Hash a video file with vPDQ: frame hashes in Meta's format, plus MD5 and SHA-256.

>>> from stopspread.hashing import hash_video, VideoMode          # doctest: +SKIP
>>> v = hash_video("clip.mp4")                                    # doctest: +SKIP
>>> print(format_vpdq(v.frames), v.digests.md5)                   # doctest: +SKIP

Decoding runs in a child process with time and memory limits (``_sandbox``),
so a hostile file ends with a typed error, never a crash or a hang of the
caller. The pipeline, the fast mode's drift and the measured agreement with
Meta's reference hashes are in ``docs/video.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from stopspread.errors import MediaError, MediaTooLargeError, UnsupportedMediaError
from stopspread.hashing._sandbox import decode_in_child, frames_from_reply
from stopspread.hashing._warm import VideoSandbox
from stopspread.hashing.digest import FileDigests, digest_file
from stopspread.hashing.vpdq import (
    DEFAULT_SECONDS_PER_HASH,
    DEFAULT_VIDEO_LIMITS,
    FrameHash,
    VideoLimits,
    VideoMode,
)

__all__ = ["VideoHashes", "VideoSandbox", "hash_video"]


@dataclass(frozen=True, slots=True)
class VideoHashes:
    """Everything computed for one video: its frame hashes (in frame order) and digests."""

    frames: tuple[FrameHash, ...]
    digests: FileDigests
    mode: VideoMode
    seconds_per_hash: float
    width: int
    height: int
    fps: float
    container: str
    codec: str

    @property
    def usable_frames(self) -> tuple[FrameHash, ...]:
        """Frames of quality >= 50, the ones vPDQ matching uses."""
        return tuple(f for f in self.frames if not f.low_quality)


def _check_file(path: Path, limits: VideoLimits) -> None:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise MediaError("no such file") from None
    except OSError as exc:
        raise MediaError(exc.strerror or str(exc)) from None
    if not path.is_file():
        raise UnsupportedMediaError("not a regular file")
    if size == 0:
        raise UnsupportedMediaError("file is empty")
    if size > limits.max_bytes:
        raise MediaTooLargeError(
            f"file is {size:,} bytes, over the {limits.max_bytes:,}-byte limit"
        )


def hash_video(
    path: str | Path,
    *,
    mode: VideoMode = VideoMode.REFERENCE,
    seconds_per_hash: float = DEFAULT_SECONDS_PER_HASH,
    limits: VideoLimits = DEFAULT_VIDEO_LIMITS,
    sandbox: VideoSandbox | None = None,
) -> VideoHashes:
    """vPDQ frame hashes of one video file, with its MD5 and SHA-256.

    Each call starts a fresh sandboxed decoder process (~0.35 s of imports); to
    scan many files, pass one warm :class:`VideoSandbox` (same limits, per file).

    ``seconds_per_hash`` picks one frame per that many seconds (Meta's default
    1 s); ``0`` hashes every frame, as Meta's reference sample files do.
    Raises :class:`~stopspread.errors.MediaError` subclasses: ``MediaTimeoutError``
    past ``limits.max_seconds``, ``MediaTooLargeError`` over a cap,
    ``VideoDecodeError`` for damaged data or a crashed decoder,
    ``UnsupportedMediaError`` for a file with no video in a container we open.
    """
    if not math.isfinite(seconds_per_hash) or seconds_per_hash < 0:
        raise ValueError("seconds_per_hash must be a finite number >= 0")
    file = Path(path)
    _check_file(file, limits)
    if sandbox is None:
        reply = decode_in_child(str(file), mode, seconds_per_hash, limits)
    else:
        reply = sandbox.decode(str(file), mode, seconds_per_hash, limits)
    frames = frames_from_reply(reply)
    try:
        digests = digest_file(file)
    except OSError as exc:
        raise MediaError(exc.strerror or str(exc)) from None
    return VideoHashes(
        frames=frames,
        digests=digests,
        mode=mode,
        seconds_per_hash=seconds_per_hash,
        width=int(reply.get("width", 0)),
        height=int(reply.get("height", 0)),
        fps=float(reply.get("fps", 0.0)),
        container=str(reply.get("container", "")),
        codec=str(reply.get("codec", "")),
    )
