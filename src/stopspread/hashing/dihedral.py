"""The eight rotations and flips of an image, from one DCT (no re-hashing).

A rotation or flip of the image permutes and negates PDQ's DCT coefficients:
transposing the image transposes the DCT, and mirroring along an axis negates
the coefficients of even index (odd frequency) along that axis. Each variant
gets its own median. The signs follow Meta's reference and are checked in the
tests against photos that were really rotated and flipped.
"""

from __future__ import annotations

from enum import Enum

import numpy as np

from stopspread.hashing.pdq import Dct16, PdqHash, hash_from_dct

__all__ = ["Dihedral", "dihedral_dct", "dihedral_hashes"]


class Dihedral(Enum):
    """What was done to the image. The value is the name used in CLI and JSON output."""

    ORIGINAL = "original"
    ROTATE_90 = "rotate90"
    ROTATE_180 = "rotate180"
    ROTATE_270 = "rotate270"
    FLIP_X = "flipx"
    FLIP_Y = "flipy"
    FLIP_PLUS_1 = "flipplus1"
    FLIP_MINUS_1 = "flipminus1"


_I, _J = np.indices((16, 16))
_EVEN_I = (_I % 2) == 0
_EVEN_J = (_J % 2) == 0
_ODD_SUM = ((_I + _J) % 2) == 1


def dihedral_dct(dct: Dct16, variant: Dihedral) -> Dct16:
    """The DCT of the image after ``variant``, computed from the original's DCT."""
    if variant is Dihedral.ORIGINAL:
        return dct
    if variant is Dihedral.ROTATE_90:
        return np.where(_EVEN_J, -dct, dct).T
    if variant is Dihedral.ROTATE_180:
        return np.where(_ODD_SUM, -dct, dct)
    if variant is Dihedral.ROTATE_270:
        return np.where(_EVEN_I, -dct, dct).T
    if variant is Dihedral.FLIP_X:
        return np.where(_EVEN_I, -dct, dct)
    if variant is Dihedral.FLIP_Y:
        return np.where(_EVEN_J, -dct, dct)
    if variant is Dihedral.FLIP_PLUS_1:
        return dct.T
    return np.where(_ODD_SUM, -dct, dct).T  # FLIP_MINUS_1


def dihedral_hashes(dct: Dct16) -> dict[Dihedral, PdqHash]:
    """All eight variants' hashes, original first."""
    return {v: hash_from_dct(np.ascontiguousarray(dihedral_dct(dct, v))) for v in Dihedral}
