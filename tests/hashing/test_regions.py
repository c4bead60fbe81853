"""Region sampling: Pillow's reading of a box gives exactly the reference's pixels.

``sample_box`` replaced "copy the whole image into an array, slice, pick every
``floor(i * n / 512)``-th row and column" (``pdq_pixels``); these tests hold the two equal,
pixel for pixel, on random pixels (every wrong index shows) over many sizes and boxes.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from stopspread.hashing import _regions as regions


def _random_image(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def _boxes(rng: np.random.Generator, width: int, height: int) -> list[regions.Box]:
    boxes: list[regions.Box] = [(0, 0, width, height)]
    for _ in range(6):
        left = int(rng.integers(0, width - 1))
        upper = int(rng.integers(0, height - 1))
        right = int(rng.integers(left + 1, width + 1))
        lower = int(rng.integers(upper + 1, height + 1))
        boxes.append((left, upper, right, lower))
    return boxes


@pytest.mark.parametrize(
    "size",
    [(5, 5), (511, 512), (512, 513), (513, 512), (1023, 7), (9, 1500), (1537, 923), (2000, 1999)],
)
def test_sample_box_equals_the_reference_sampling(size: tuple[int, int]) -> None:
    rng = np.random.default_rng(size[0] * 10_007 + size[1])
    image = _random_image(rng, *size)
    pixels = np.asarray(image)
    for left, upper, right, lower in _boxes(rng, *size):
        expected = regions.pdq_pixels(pixels[upper:lower, left:right])
        got = regions.sample_box(image, (left, upper, right, lower))
        assert got.dtype == np.uint8
        assert np.array_equal(got, expected), (size, (left, upper, right, lower))


def test_sample_box_on_random_sizes_up_to_12_megapixels() -> None:
    rng = np.random.default_rng(14)
    for width, height in [(4032, 3024), (3024, 4032), (4000, 517), (2999, 2001)]:
        image = _random_image(rng, width, height)
        pixels = np.asarray(image)
        for left, upper, right, lower in _boxes(rng, width, height):
            expected = regions.pdq_pixels(pixels[upper:lower, left:right])
            assert np.array_equal(regions.sample_box(image, (left, upper, right, lower)), expected)


def test_border_luma_from_the_shared_copy_equals_its_own_resize() -> None:
    image = _random_image(np.random.default_rng(3), 1999, 1201)
    copy = regions.working_copy(image, regions.DETECT_SIDE_PX)
    assert np.array_equal(regions.small_from_copy(copy), regions.small_array(image))


def _trim_all_lines(arr: np.ndarray) -> regions.Box | None:
    """trim_box before it stopped at the first non-flat line: every row and column."""
    height, width = arr.shape
    rows = regions._flat_share(arr) >= regions.BORDER_SHARE
    cols = regions._flat_share(arr.T) >= regions.BORDER_SHARE
    top, bottom = regions._edge_run(rows), regions._edge_run(rows[::-1])
    left, right = regions._edge_run(cols), regions._edge_run(cols[::-1])
    if top + bottom >= height or left + right >= width:
        return None
    return (left, top, width - right, height - bottom)


def _content_two_passes(arr: np.ndarray) -> regions.Box | None:
    """content_box before it stopped early: always two passes."""
    height, width = arr.shape
    top, bottom, left, right = 0, height, 0, width
    tolerance = regions.UI_TOLERANCE_LEVELS
    for _ in range(2):
        block = arr[top:bottom, left:right]
        flags = regions._flat_share(block, tolerance) < regions.BORDER_SHARE
        r0, r1 = regions._longest_run(flags)
        top, bottom = top + r0, top + r1
        block = arr[top:bottom, left:right]
        flags = regions._flat_share(block.T, tolerance) < regions.BORDER_SHARE
        c0, c1 = regions._longest_run(flags)
        left, right = left + c0, left + c1
        if bottom <= top or right <= left:
            return None
    return (left, top, right, bottom)


def _layout(rng: np.random.Generator) -> np.ndarray:
    """Luma of a random layout: textured blocks on flat bands, separators, borders."""
    height, width = int(rng.integers(6, 200)), int(rng.integers(6, 200))
    arr = np.full((height, width), int(rng.integers(0, 256)), dtype=np.int16)
    for _ in range(int(rng.integers(0, 4))):
        top, left = int(rng.integers(0, height)), int(rng.integers(0, width))
        bottom = int(rng.integers(top, height + 1))
        right = int(rng.integers(left, width + 1))
        spread = int(rng.choice([0, 3, 10, 60]))
        base = int(rng.integers(0, 256))
        patch = base + rng.integers(-spread, spread + 1, (bottom - top, right - left))
        arr[top:bottom, left:right] = np.clip(patch, 0, 255)
    return arr


class _Sized:
    """Stands in for the image: the boxes only read its size (scaled 1:1 here)."""

    def __init__(self, arr: np.ndarray) -> None:
        self.size = (arr.shape[1], arr.shape[0])


def _unscaled(arr: np.ndarray, box: regions.Box | None) -> regions.Box | None:
    """What the box functions return for ``box`` found on ``arr`` (same scale)."""
    if box is None:
        return None
    height, width = arr.shape
    return regions._scaled_box(box, (width, height), (width, height))


def test_early_stopping_border_boxes_equal_the_full_computation() -> None:
    rng = np.random.default_rng(2026)
    for _ in range(3000):
        arr = _layout(rng)
        image = _Sized(arr)
        assert regions.trim_box(image, arr) == _unscaled(arr, _trim_all_lines(arr))  # type: ignore[arg-type]
        assert regions.content_box(image, arr) == _unscaled(arr, _content_two_passes(arr))  # type: ignore[arg-type]
