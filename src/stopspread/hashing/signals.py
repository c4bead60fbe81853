"""Signal sets: which PDQ hashes are computed from one image, at enrolment and at query.

One PDQ of the whole image misses copies that were framed, padded, captioned, flipped
or slightly rotated (see ``docs/robustness.md``). A signal set closes much of that gap
while staying plain PDQ: at enrolment the survivor's device decodes the photo once and
hashes a bounded list of *variants* (the whole image and its 7 turns/flips, a smoothed
copy, the image without flat borders, windows, small rotations); at query time a
platform hashes a few variants of the upload (the whole image, smoothed, without flat
borders, the photo inside a screenshot, the same windows). :func:`is_match` is the
decision rule; the enrolled hashes go into any PDQ index unchanged.

A signal set is versioned: hashes made under ``"ss-img-1"`` are only comparable
with query hashes made under the same recipe. Change the recipe, change the version."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final

import numpy as np
from PIL import Image

from stopspread.hashing import _regions
from stopspread.hashing._shared_image import SharedImage, decode_query
from stopspread.hashing.decode import (
    DEFAULT_LIMITS,
    DecodeLimits,
    ImageSource,
    load,
    open_source,
    to_rgb,
)
from stopspread.hashing.dihedral import Dihedral, dihedral_hashes
from stopspread.hashing.pdq import (
    PDQ_MIN_QUALITY,
    PdqHash,
    Pixels,
    dct_from_pixels,
    hash_from_dct,
)

__all__ = [
    "DEFAULT_SIGNAL_SET",
    "SHARED_WINDOWS",
    "SS_IMG_1",
    "Anchor",
    "Dihedrals",
    "Rotation",
    "SignalHash",
    "SignalSet",
    "Variant",
    "VariantKind",
    "compute_variants",
    "enrolment_hashes",
    "is_match",
    "query_hashes",
]

# PDQ ignores anything under 5 pixels a side (it hashes such images to zeros).
_MIN_SIDE_PX: Final = 5
PDQ_MAX_QUALITY: Final = 100


class VariantKind(Enum):
    """What region of the decoded image a variant hashes."""

    FULL = "full"  # the whole image, as plain PDQ sees it
    SMOOTH = "smooth"  # the whole image area-averaged to 512 px: no aliasing of fine detail
    TRIMMED = "trim"  # flat borders removed from every edge (letterbox, padding)
    CONTENT = "content"  # the largest non-flat block (a photo inside a screenshot)
    CROP = "crop"  # a window keeping ``keep`` of each side at ``anchor``
    ROTATED = "rot"  # rotated by ``degrees``, the new corners handled as ``rotation`` says


class Rotation(Enum):
    """What a rotated variant does with the corners a rotation uncovers (tag prefix)."""

    STRAIGHTEN = "rot"  # crop to the largest window without them (phone editors)
    CORNERS = "rotc"  # keep the size, corners black (most desktop tools)
    EXPAND = "rote"  # grow the canvas to hold the whole image, corners black


class Dihedrals(Enum):
    """Whether a variant also yields its 7 rotations by 90 degrees and mirror images."""

    NONE = "none"
    FROM_DCT = "dct"  # free (sign flips of one DCT); a few bits off the real thing
    FROM_PIXELS = "pixels"  # 7 more PDQs of the really turned pixels: what a query sees


# The Pillow operation that turns an image the way each dihedral variant says
# (checked against the DCT variants in tests/hashing/test_signals.py).
_TRANSPOSE: Final = {
    Dihedral.ROTATE_90: Image.Transpose.ROTATE_90,
    Dihedral.ROTATE_180: Image.Transpose.ROTATE_180,
    Dihedral.ROTATE_270: Image.Transpose.ROTATE_270,
    Dihedral.FLIP_X: Image.Transpose.FLIP_TOP_BOTTOM,
    Dihedral.FLIP_Y: Image.Transpose.FLIP_LEFT_RIGHT,
    Dihedral.FLIP_PLUS_1: Image.Transpose.TRANSPOSE,
    Dihedral.FLIP_MINUS_1: Image.Transpose.TRANSVERSE,
}


class Anchor(Enum):
    """Where a crop window sits. The value is the short name used in tags."""

    CENTER = "c"
    TOP_LEFT = "tl"
    TOP = "t"
    TOP_RIGHT = "tr"
    LEFT = "l"
    RIGHT = "r"
    BOTTOM_LEFT = "bl"
    BOTTOM = "b"
    BOTTOM_RIGHT = "br"

    @property
    def xy(self) -> tuple[float, float]:
        """0 = left/top, 1 = right/bottom."""
        x = 0.0 if self.value.endswith("l") else 1.0 if self.value.endswith("r") else 0.5
        y = 0.0 if self.value.startswith("t") else 1.0 if self.value.startswith("b") else 0.5
        return (x, y)


@dataclass(frozen=True, slots=True)
class Variant:
    """One region to hash, and whether its 7 rotations/flips are hashed too."""

    kind: VariantKind
    keep: float = 1.0
    anchor: Anchor = Anchor.CENTER
    degrees: float = 0.0
    rotation: Rotation = Rotation.STRAIGHTEN
    dihedral: Dihedrals = Dihedrals.NONE

    def __post_init__(self) -> None:
        if not 0.0 < self.keep <= 1.0:
            raise ValueError("keep must be in (0, 1]")
        if abs(self.degrees) >= 45.0:
            raise ValueError("rotated variants are for small angles (< 45 degrees)")

    @property
    def tag(self) -> str:
        """Short stable name: ``full``, ``trim``, ``crop80-tl``, ``rot-3.5``, ``rotc+2.5``."""
        if self.kind is VariantKind.CROP:
            return f"crop{round(self.keep * 100)}-{self.anchor.value}"
        if self.kind is VariantKind.ROTATED:
            return f"{self.rotation.value}{self.degrees:+g}"
        return str(self.kind.value)


@dataclass(frozen=True, slots=True)
class SignalSet:
    """A versioned recipe: the variants hashed at enrolment and at query time, and the
    decision rule (see :func:`is_match`).

    Variants other than the whole image are dropped when their PDQ quality is under the
    side's minimum (flat regions collide easily). The whole image's hash is always kept,
    so that it can be shared with plain-PDQ systems, but an enrolled one under
    ``min_enrolled_quality`` never matches: tell the survivor that photo is too dark or
    flat to be protected reliably.
    """

    version: str
    enrolment: tuple[Variant, ...]
    query: tuple[Variant, ...]
    match_distance: int
    min_enrolled_quality: int = PDQ_MIN_QUALITY
    min_query_quality: int = PDQ_MIN_QUALITY

    @property
    def max_enrolment_pdqs(self) -> int:
        """PDQ computations at enrolment, at most (DCT dihedral variants are free)."""
        return sum(_pdq_count(v) for v in self.enrolment)

    @property
    def max_query_pdqs(self) -> int:
        """PDQ computations at query time, at most."""
        return sum(_pdq_count(v) for v in self.query)


def _pdq_count(variant: Variant) -> int:
    return 8 if variant.dihedral is Dihedrals.FROM_PIXELS else 1


@dataclass(frozen=True, slots=True)
class SignalHash:
    """One hash of a signal set, tagged with the variant that made it."""

    hash: PdqHash
    quality: int
    variant: Variant
    dihedral: Dihedral = Dihedral.ORIGINAL

    @property
    def tag(self) -> str:
        """``crop80-tl``, or ``full:flipx`` for a rotated/flipped copy."""
        if self.dihedral is Dihedral.ORIGINAL:
            return self.variant.tag
        return f"{self.variant.tag}:{self.dihedral.value}"


def _rotations(rotation: Rotation, degrees: tuple[float, ...]) -> tuple[Variant, ...]:
    return tuple(
        Variant(VariantKind.ROTATED, degrees=sign * d, rotation=rotation)
        for d in degrees
        for sign in (-1.0, 1.0)
    )


# Windows hashed on BOTH sides, at the same relative place: an overlay (caption, sticker)
# that misses one of them leaves that window's pixels, and so its hash, unchanged.
# Top band, bottom band, middle band (a meme caption sits in the top or bottom ~15 %).
SHARED_WINDOWS: Final = (
    Variant(VariantKind.CROP, keep=0.8, anchor=Anchor.TOP),
    Variant(VariantKind.CROP, keep=0.8, anchor=Anchor.BOTTOM),
    Variant(VariantKind.CROP, keep=0.7, anchor=Anchor.CENTER),
)
# PDQ stays within 31 bits for about +-0.5..0.7 degrees of rotation (measured on the
# everyday photos), so a 1-degree grid covers the 2..5 degree band of casual tilts.
SMALL_ANGLES_DEG: Final = (2.5, 3.5, 4.5)
LARGER_ANGLES_DEG: Final = (6.0, 7.5, 9.0)

# The default recipe, chosen by bench/robustness.py (docs/robustness.md has the numbers).
SS_IMG_1: Final = SignalSet(
    version="ss-img-1",
    enrolment=(
        Variant(VariantKind.FULL, dihedral=Dihedrals.FROM_PIXELS),
        Variant(VariantKind.SMOOTH),
        Variant(VariantKind.TRIMMED),
        *SHARED_WINDOWS,
        *_rotations(Rotation.STRAIGHTEN, SMALL_ANGLES_DEG + LARGER_ANGLES_DEG),
        *_rotations(Rotation.CORNERS, SMALL_ANGLES_DEG),
        *_rotations(Rotation.EXPAND, SMALL_ANGLES_DEG),
    ),
    query=(
        Variant(VariantKind.FULL),
        Variant(VariantKind.SMOOTH),
        Variant(VariantKind.TRIMMED),
        Variant(VariantKind.CONTENT),
        *SHARED_WINDOWS,
    ),
    # The zero-false-match threshold measured on the photo corpus (the first false match,
    # an edited dark galaxy photo against another galaxy, sits at 30 bits).
    match_distance=29,
    # Dark, sparse photos (galaxies on black) of quality 50-69 collide with each other's
    # edited copies at 18-28 bits; from 70 up there were none (docs/robustness.md).
    min_enrolled_quality=70,
    min_query_quality=PDQ_MIN_QUALITY,
)
DEFAULT_SIGNAL_SET: Final = SS_IMG_1


def _region(shared: SharedImage, variant: Variant) -> _regions.Box | Pixels | None:
    """The box of the decoded image that ``variant`` hashes, or the pixels it hashes when
    they are not a box of it, or ``None`` when it does not apply to this image."""
    kind, rgb = variant.kind, shared.image
    if kind is VariantKind.FULL:
        return (0, 0, *rgb.size)
    if kind is VariantKind.SMOOTH:
        return np.asarray(shared.smooth)
    if kind is VariantKind.TRIMMED:
        return shared.trim
    if kind is VariantKind.CONTENT:
        return shared.content
    if kind is VariantKind.CROP:
        return _regions.crop_window(rgb.size, variant.keep, variant.anchor.xy)
    if variant.rotation is Rotation.STRAIGHTEN:
        return np.asarray(_regions.rotate_fill(shared.work, variant.degrees))
    expand = variant.rotation is Rotation.EXPAND
    return np.asarray(_regions.rotate(shared.work, variant.degrees, expand=expand))


def _min_side(region: _regions.Box | Pixels) -> int:
    if isinstance(region, tuple):
        left, upper, right, lower = region
        return min(right - left, lower - upper)
    return int(min(region.shape[:2]))


def _hash_region(
    shared: SharedImage, region: _regions.Box | Pixels, variant: Variant
) -> tuple[dict[Dihedral, PdqHash], int]:
    if isinstance(region, tuple):
        sampled = _regions.sample_box(shared.image, region)
    else:
        sampled = _regions.pdq_pixels(region)
    dct, quality = dct_from_pixels(sampled)
    if variant.dihedral is Dihedrals.FROM_DCT:
        return dihedral_hashes(dct), quality
    hashes = {Dihedral.ORIGINAL: hash_from_dct(dct)}
    if variant.dihedral is Dihedrals.FROM_PIXELS:
        pixels = _box_pixels(shared, region)
        for dihedral in _TRANSPOSE:
            turned, _ = dct_from_pixels(_regions.pdq_pixels(pixels, dihedral))
            hashes[dihedral] = hash_from_dct(turned)
    return hashes, quality


def _box_pixels(shared: SharedImage, region: _regions.Box | Pixels) -> Pixels:
    """The pixels of ``region`` as an array (a view of the full-size array for a box)."""
    if not isinstance(region, tuple):
        return region
    left, upper, right, lower = region
    return shared.pixels[upper:lower, left:right]


def compute_variants(
    image: Image.Image | SharedImage,
    variants: tuple[Variant, ...],
    min_quality: int = PDQ_MIN_QUALITY,
) -> list[SignalHash]:
    """Hash every variant of one decoded image; duplicates (same hash) are kept once.

    Variants other than the whole image are dropped when their quality is under
    ``min_quality``, and rotations also when the whole image's quality is. A Pillow image
    is decoded and converted to RGB; a :class:`SharedImage` (e.g. a query's
    ``_shared_image.decode_query``) is hashed as it is and keeps the copies made.
    """
    shared = image if isinstance(image, SharedImage) else SharedImage(to_rgb(load(image)))
    out: list[SignalHash] = []
    seen: set[bytes] = set()
    full_quality = PDQ_MAX_QUALITY
    for variant in variants:
        if variant.kind is VariantKind.ROTATED and full_quality < min_quality:
            continue  # the black corners alone would make a confident, meaningless hash
        region = _region(shared, variant)
        if region is None or _min_side(region) < _MIN_SIDE_PX:
            if variant.kind is VariantKind.FULL:  # as plain PDQ: zeros, quality 0
                out.append(SignalHash(PdqHash(bytes(32)), 0, variant))
            continue
        hashes, quality = _hash_region(shared, region, variant)
        if variant.kind is VariantKind.FULL:
            full_quality = quality
        elif quality < min_quality:
            continue
        for dihedral, value in hashes.items():
            if value.value not in seen:
                seen.add(value.value)
                out.append(SignalHash(value, quality, variant, dihedral))
    return out


def _decode(source: ImageSource, limits: DecodeLimits) -> Image.Image:
    return open_source(source, limits)[0]


def enrolment_hashes(
    source: ImageSource,
    signal_set: SignalSet = DEFAULT_SIGNAL_SET,
    *,
    limits: DecodeLimits = DEFAULT_LIMITS,
) -> list[SignalHash]:
    """The hashes to enrol for one image (decoded once). The first is plain PDQ."""
    image = _decode(source, limits)
    return compute_variants(image, signal_set.enrolment, signal_set.min_enrolled_quality)


def query_hashes(
    source: ImageSource | SharedImage,
    signal_set: SignalSet = DEFAULT_SIGNAL_SET,
    *,
    limits: DecodeLimits = DEFAULT_LIMITS,
) -> list[SignalHash]:
    """The hashes to look up for one image (decoded once; a colour JPEG straight to grey,
    see ``_shared_image``). The first is plain PDQ."""
    image = source if isinstance(source, SharedImage) else decode_query(_decode(source, limits))
    return compute_variants(image, signal_set.query, signal_set.min_query_quality)


def is_match(
    query: list[SignalHash],
    enrolled: list[SignalHash],
    signal_set: SignalSet = DEFAULT_SIGNAL_SET,
) -> bool:
    """The decision rule: some query hash within ``match_distance`` of some enrolled hash,
    counting only hashes of at least the side's minimum quality."""
    good_q = [h.hash for h in query if h.quality >= signal_set.min_query_quality]
    good_e = [h.hash for h in enrolled if h.quality >= signal_set.min_enrolled_quality]
    return any(q.distance(e) <= signal_set.match_distance for q in good_q for e in good_e)
