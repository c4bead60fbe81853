"""One exception tree for StopSpread.

::

    StopSpreadError
    ├── MediaError                 a file could not be turned into a hash
    │   ├── MediaTooLargeError     over the byte cap or the pixel cap (decompression bomb)
    │   ├── UnsupportedMediaError  not an image we can decode (unknown or non-image format)
    │   └── CorruptMediaError      a recognised format whose data is truncated or broken
    ├── HashFormatError            a hash string that is not a valid signal value
    └── IndexFormatError           an index snapshot file that is not one we wrote (or is damaged)

Callers catch ``StopSpreadError`` for "anything we raise on purpose"; anything
else escaping is a bug.
"""

from __future__ import annotations

__all__ = [
    "CorruptMediaError",
    "HashFormatError",
    "IndexFormatError",
    "MediaError",
    "MediaTooLargeError",
    "StopSpreadError",
    "UnsupportedMediaError",
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


class IndexFormatError(StopSpreadError, ValueError):
    """An index snapshot is truncated, damaged, of another version, or not a snapshot at all."""
