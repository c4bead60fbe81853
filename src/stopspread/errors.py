"""One exception tree for StopSpread.

::

    StopSpreadError
    ├── MediaError                 a file could not be turned into a hash
    │   ├── MediaTooLargeError     over a byte, pixel, frame or memory cap (decompression bomb)
    │   ├── UnsupportedMediaError  not a format we decode (unknown format, no video stream)
    │   ├── CorruptMediaError      a recognised format whose data is truncated or broken
    │   │   └── VideoDecodeError   FFmpeg could not demux/decode a video, or its decoder crashed
    │   └── MediaTimeoutError      decoding ran past its wall-time limit (endless or hostile stream)
    └── HashFormatError            a hash string that is not a valid signal value

Callers catch ``StopSpreadError`` for "anything we raise on purpose"; anything
else escaping is a bug.
"""

from __future__ import annotations

__all__ = [
    "CorruptMediaError",
    "HashFormatError",
    "MediaError",
    "MediaTimeoutError",
    "MediaTooLargeError",
    "StopSpreadError",
    "UnsupportedMediaError",
    "VideoDecodeError",
]


class StopSpreadError(Exception):
    """Base class of every error StopSpread raises on purpose."""


class MediaError(StopSpreadError):
    """A file or buffer could not be hashed."""


class MediaTooLargeError(MediaError):
    """The input is over the byte cap or its pixel count is over the pixel cap."""


class UnsupportedMediaError(MediaError):
    """The input is not in an image format we decode."""


class CorruptMediaError(MediaError):
    """The format was recognised but the data is truncated or malformed."""


class HashFormatError(StopSpreadError, ValueError):
    """A hash value (hex text, bytes) is malformed."""


class VideoDecodeError(CorruptMediaError):
    """A video could not be demuxed or decoded, or the decoding child process died."""


class MediaTimeoutError(MediaError):
    """Decoding took longer than its wall-time limit and was stopped."""
