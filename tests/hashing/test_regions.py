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
