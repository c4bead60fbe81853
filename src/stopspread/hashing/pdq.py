"""PDQ: Meta's 256-bit perceptual image hash, bit-exact with the reference C++.

The numeric work (luma, Jarosz tent filter, 64x64 decimation, quality, DCT)
is done by the small C extension ``_pdqcore`` in float32, in the reference's
operation order; this module turns its 16x16 DCT into hashes. See
``docs/hashing.md`` for the pipeline and ``dihedral.py`` for rotations/flips.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from stopspread.errors import HashFormatError
from stopspread.hashing import _pdqcore

__all__ = [
    "PDQ_HASH_BITS",
    "PDQ_MATCH_DISTANCE",
    "PDQ_MIN_QUALITY",
    "PdqHash",
    "PdqResult",
    "dct_from_pixels",
    "hash_from_dct",
    "hash_pixels",
]

PDQ_HASH_BITS: Final = 256
PDQ_MATCH_DISTANCE: Final = 31  # Meta's recommended match threshold (Hamming distance, bits)
PDQ_MIN_QUALITY: Final = 50  # Meta: below this quality a hash is unreliable

Dct16 = npt.NDArray[np.float32]
Pixels = npt.NDArray[np.uint8]

# Popcount of every byte value, for distances without Python big-int bit tricks.
_POPCOUNT: Final = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


@dataclass(frozen=True, slots=True)
class PdqHash:
    """A 256-bit PDQ hash. ``value`` is 32 bytes, most significant first (hex order).

    Bit ``k`` (``k = 16 i + j`` for DCT row ``i``, column ``j``) is bit ``k`` of
    the 256-bit integer whose big-endian hex is Meta's text form.
    """

    value: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.value, bytes) or len(self.value) != PDQ_HASH_BITS // 8:
            raise HashFormatError("a PDQ hash is exactly 32 bytes")

    @classmethod
    def from_hex(cls, text: str) -> PdqHash:
        """Parse Meta's 64-hex-digit text form (either case)."""
        if len(text) != 64:
            raise HashFormatError(f"a PDQ hash is 64 hex digits, got {len(text)} characters")
        try:
            return cls(bytes.fromhex(text))
        except ValueError:
            raise HashFormatError("a PDQ hash has only hex digits 0-9, a-f") from None

    @classmethod
    def from_bits(cls, bits: npt.NDArray[np.bool_]) -> PdqHash:
        """Build from 256 booleans indexed by bit number ``k``."""
        if bits.shape != (PDQ_HASH_BITS,):
            raise HashFormatError("a PDQ hash has exactly 256 bits")
        return cls(np.packbits(bits[::-1].astype(np.uint8), bitorder="big").tobytes())

    def bits(self) -> npt.NDArray[np.bool_]:
        """The 256 bits indexed by bit number ``k``."""
        raw = np.frombuffer(self.value, dtype=np.uint8)
        return np.unpackbits(raw, bitorder="big")[::-1].astype(bool)

    @property
    def hex(self) -> str:
        return self.value.hex()

    def __str__(self) -> str:
        return self.hex

    def __repr__(self) -> str:
        # Hashes are sensitive: keep them out of reprs that end up in logs.
        return "PdqHash(<redacted>)"

    def distance(self, other: PdqHash) -> int:
        """Hamming distance in bits."""
        a = np.frombuffer(self.value, dtype=np.uint8)
        b = np.frombuffer(other.value, dtype=np.uint8)
        return int(_POPCOUNT[a ^ b].sum())

    @property
    def popcount(self) -> int:
        return int(_POPCOUNT[np.frombuffer(self.value, dtype=np.uint8)].sum())


@dataclass(frozen=True, slots=True)
class PdqResult:
    """A hash with its quality (0-100). Quality below 50 means "don't trust it"."""

    hash: PdqHash
    quality: int

    @property
    def low_quality(self) -> bool:
        return self.quality < PDQ_MIN_QUALITY


def dct_from_pixels(pixels: Pixels, resample_side: int = 0) -> tuple[Dct16, int]:
    """The 16x16 DCT and quality of an ``HxWx3`` (RGB) or ``HxW`` (grey) uint8 array.

    By default the pixels are hashed as given. With ``resample_side`` (the
    reference uses 512), an array larger than that on either axis is first
    resampled to exactly ``side x side`` by nearest neighbour, taking source
    index ``floor(x * W / side)`` - done inside the C core, fused with luma.
    """
    if pixels.dtype != np.uint8:
        raise TypeError(f"pixels must be uint8, got {pixels.dtype}")
    if pixels.ndim == 2:
        channels = 1
    elif pixels.ndim == 3 and pixels.shape[2] == 3:
        channels = 3
    else:
        raise ValueError(f"pixels must be HxW or HxWx3, got shape {pixels.shape}")
    rows, cols = int(pixels.shape[0]), int(pixels.shape[1])
    if resample_side < 0:
        raise ValueError("resample_side must be >= 0")
    buffer = np.ascontiguousarray(pixels).data
    raw, quality = _pdqcore.dct16(buffer, rows, cols, channels, resample_side)
    return np.frombuffer(raw, dtype=np.float32).reshape(16, 16), quality


def hash_from_dct(dct: Dct16) -> PdqHash:
    """Threshold a 16x16 DCT at its median (the 128th smallest value, as Torben's
    algorithm picks it): bit ``16 i + j`` is 1 iff ``dct[i, j]`` is strictly greater."""
    flat = dct.reshape(-1)
    median = np.partition(flat, 127)[127]
    return PdqHash.from_bits(flat > median)


def hash_pixels(pixels: Pixels) -> PdqResult:
    """PDQ of raw pixels, exactly as the reference C++ computes it for that buffer.

    Images smaller than 5 pixels on a side hash to all zeros with quality 0,
    as in the reference.
    """
    dct, quality = dct_from_pixels(pixels)
    if pixels.shape[0] < 5 or pixels.shape[1] < 5:
        return PdqResult(PdqHash(bytes(32)), 0)
    return PdqResult(hash_from_dct(dct), quality)
