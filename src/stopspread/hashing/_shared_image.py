"""One decoded image and its reduced copies, shared by every signal computed from it.

A signal set's PDQ variants, the ``ss-kp-1`` keypoint sets and the photo-block search all
start from the same decode, the same 512 px box-resized copy (PDQ's smoothed variant and
the border detection's luma) and the same full-size grey array (the keypoints' 640 px
copy is made from it): nothing is decoded, resized or converted to grey twice.

**Queries decode a colour JPEG straight to grey** (:func:`decode_query`): PDQ and ORB use
luma only, and JFIF's Y is the luma PDQ computes (0.299, 0.587, 0.114), so libjpeg is
asked for Y alone and skips the chroma's inverse DCT, upsampling and colour conversion
(a 12 MP JPEG: about a third of the CPU time of the RGB decode). The hashes then differ
from those of the RGB decode by rounding only (``docs/hashing.md``, *Query signal set
speed*, has the bits measured). A grey image stays grey for queries too; enrolment keeps
RGB.

**A large JPEG is decoded at a reduced size** (libjpeg's DCT scaling, ``Image.draft``):
every query signal is made from at most 640 px (the keypoints' copy) or 512 px (PDQ's
sampling, the border luma), so a 12 MP photo is decoded at 1/2 scale, its short side kept
at least :data:`QUERY_DRAFT_SIDE`; a scan (``Pipeline.FAST``) goes down to the fast
pipeline's 512. Bits and inliers moved are measured in ``docs/hashing.md`` (*Query
signal set speed*, "Reduced decode")."""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image

from stopspread.hashing import _regions
from stopspread.hashing.decode import load, to_rgb
from stopspread.hashing.image import FAST_DRAFT_SIDE, PREDOWNSAMPLE_SIDE, Pipeline, draft_size
from stopspread.hashing.pdq import Pixels

__all__ = ["QUERY_DRAFT_SIDE", "SharedImage", "decode_query"]

_JPEG_FORMATS: Final = ("JPEG", "MPO")
# A query JPEG is decoded reduced while its short side stays at least this: twice the
# keypoints' 640 px working copy, so that copy is still an area average of several decoded
# pixels and PDQ's 512 px sampling still only drops pixels (measured on 200 DEV photos as
# 12 MP JPEGs, bench/query_draft_decode.py). Only JPEGs of 2560 px a side or more shrink.
QUERY_DRAFT_SIDE: Final = 1280
_DRAFT_MODES: Final = ("RGB", "L")


class SharedImage:
    """Reduced copies of one decoded image, made once and shared by its signals.

    ``image`` is RGB, or L for a query decoded straight to grey. The full-size pixel array
    is only made for variants that need every pixel (the enrolment's really turned
    copies); every other variant reads the rows and columns it samples straight from the
    decoded image (:func:`_regions.sample_box`), and the border detection reuses the
    smoothed copy, so a large upload is resized once."""

    def __init__(self, image: Image.Image) -> None:
        self.image = image
        self._small: npt.NDArray[np.int16] | None = None
        self._work: Image.Image | None = None
        self._smooth: Image.Image | None = None
        self._pixels: Pixels | None = None
        self._grey: npt.NDArray[np.uint8] | None = None
        self._boxes: dict[str, _regions.Box | None] = {}

    @property
    def small(self) -> npt.NDArray[np.int16]:
        """The border detection's luma (``_regions.small_array``)."""
        if self._small is None:
            if _regions.DETECT_SIDE_PX == PREDOWNSAMPLE_SIDE:  # the same box resize
                self._small = _regions.small_from_copy(self.smooth)
            else:
                self._small = _regions.small_array(self.image)
        return self._small

    @property
    def trim(self) -> _regions.Box | None:
        """``_regions.trim_box`` of the image (found once)."""
        if "trim" not in self._boxes:
            self._boxes["trim"] = _regions.trim_box(self.image, self.small)
        return self._boxes["trim"]

    @property
    def content(self) -> _regions.Box | None:
        """``_regions.content_box`` of the image (found once: the content variant's PDQ and
        the content block's keypoint set use the same box)."""
        if "content" not in self._boxes:
            self._boxes["content"] = _regions.content_box(self.image, self.small)
        return self._boxes["content"]

    @property
    def pixels(self) -> Pixels:
        """The full-size pixel array."""
        if self._pixels is None:
            self._pixels = np.asarray(self.image, dtype=np.uint8)
        return self._pixels

    @property
    def grey(self) -> npt.NDArray[np.uint8]:
        """The full-size grey array (Pillow's luma of RGB; the decoded Y of a grey decode)."""
        if self._grey is None:
            grey = self.image if self.image.mode == "L" else self.image.convert("L")
            self._grey = np.asarray(grey, dtype=np.uint8)
        return self._grey

    @property
    def smooth(self) -> Image.Image:
        """The image box-resized to at most ``PREDOWNSAMPLE_SIDE`` px a side."""
        if self._smooth is None:
            self._smooth = _regions.working_copy(self.image, PREDOWNSAMPLE_SIDE)
        return self._smooth

    @property
    def work(self) -> Image.Image:
        """The copy rotated variants are made on (``_regions.WORK_SIDE_PX``)."""
        if self._work is None:
            same = _regions.WORK_SIDE_PX == PREDOWNSAMPLE_SIDE  # one resize serves both
            self._work = self.smooth if same else _regions.working_copy(self.image)
        return self._work


def decode_query(
    image: Image.Image | SharedImage,
    pipeline: Pipeline = Pipeline.REFERENCE,
    *,
    draft_side: int | None = QUERY_DRAFT_SIDE,
) -> SharedImage:
    """``image`` decoded for the query signals: a colour JPEG not yet decoded is decoded
    straight to grey, and at a reduced size when it is large (short side kept at least
    ``draft_side``, or the fast pipeline's 512 px when ``pipeline`` is the fast one;
    ``draft_side=None``: full size), a grey image stays grey, any other becomes RGB. A
    :class:`SharedImage` is returned as it is."""
    if isinstance(image, SharedImage):
        return image
    if getattr(image, "tile", None) and image.format in _JPEG_FORMATS:
        side = FAST_DRAFT_SIDE if pipeline is Pipeline.FAST else draft_side
        size = draft_size(image.size, side) if side is not None else None
        if image.mode in _DRAFT_MODES and (size is not None or image.mode == "RGB"):
            image.draft("L", size)
    loaded = load(image)
    return SharedImage(loaded if loaded.mode == "L" else to_rgb(loaded))
