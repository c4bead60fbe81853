"""The reference image pipeline: pre-downsampling, pipelines, input kinds."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from stopspread.hashing import Pipeline, hash_image, hash_pixels
from stopspread.hashing.image import PREDOWNSAMPLE_SIDE, nearest_512, pixels_for_pdq

from ..conftest import encode, synthetic_rgb


@pytest.mark.parametrize(
    "size", [(513, 600), (1024, 768), (1600, 1004), (4000, 3000), (30000, 7), (8191, 513)]
)
def test_nearest_512_takes_floor_x_w_over_512(size: tuple[int, int]) -> None:
    width, height = size
    cols = np.arange(width, dtype=np.int32)
    rows = np.arange(height, dtype=np.int32)
    # encode each pixel's own column (R) and row (G) index, modulo 256
    grid = np.stack([cols[None, :] % 256 + 0 * rows[:, None], rows[:, None] % 256 + 0 * cols], -1)
    img = Image.fromarray(np.dstack([grid, np.zeros((height, width))]).astype(np.uint8))
    out = np.asarray(nearest_512(img))
    expect_cols = (np.arange(PREDOWNSAMPLE_SIDE) * width) // PREDOWNSAMPLE_SIDE
    expect_rows = (np.arange(PREDOWNSAMPLE_SIDE) * height) // PREDOWNSAMPLE_SIDE
    assert np.array_equal(out[0, :, 0], expect_cols % 256)
    assert np.array_equal(out[:, 0, 1], expect_rows % 256)


def test_small_images_are_not_resampled() -> None:
    img = Image.fromarray(synthetic_rgb(512, 300))
    assert pixels_for_pdq(img).shape == (300, 512, 3)


def test_large_images_become_512_square() -> None:
    img = Image.fromarray(synthetic_rgb(513, 300))
    assert pixels_for_pdq(img).shape == (512, 512, 3)


def test_path_bytes_and_pil_give_the_same_hash(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = encode(synthetic_rgb(900, 700, seed=5))
    path = tmp_path / "x.jpg"
    path.write_bytes(data)
    by_path = hash_image(path)
    by_str = hash_image(str(path))
    by_bytes = hash_image(data)
    by_pil = hash_image(Image.open(io.BytesIO(data)))
    assert by_path.pdq == by_str.pdq == by_bytes.pdq == by_pil.pdq
    assert by_path.digests == by_bytes.digests
    assert by_pil.digests is None


def test_pipeline_equals_hash_pixels_for_small_lossless_images() -> None:
    pixels = synthetic_rgb(320, 240, seed=9)
    assert hash_image(encode(pixels, "PNG")).pdq == hash_pixels(pixels).hash


def test_fast_pipeline_is_close_and_identical_below_its_threshold() -> None:
    small = encode(synthetic_rgb(800, 600, seed=1))
    assert hash_image(small, pipeline=Pipeline.FAST).pdq == hash_image(small).pdq
    big = encode(synthetic_rgb(2400, 1600, seed=2), quality=92)
    fast = hash_image(big, pipeline=Pipeline.FAST)
    assert fast.pipeline is Pipeline.FAST
    assert fast.pdq.distance(hash_image(big).pdq) <= 16
    assert (fast.width, fast.height) == (2400, 1600)  # original size is reported


def test_dihedral_variants_match_really_transformed_images() -> None:
    from stopspread.hashing import Dihedral

    rng = np.random.default_rng(4)
    coarse = Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8))
    pixels = np.asarray(coarse.resize((384, 384), Image.Resampling.BICUBIC))
    variants = hash_image(encode(pixels, "PNG"), dihedral=True).variants
    real = {
        Dihedral.ROTATE_90: np.rot90(pixels, 1),
        Dihedral.ROTATE_180: np.rot90(pixels, 2),
        Dihedral.ROTATE_270: np.rot90(pixels, 3),
        Dihedral.FLIP_X: pixels[::-1],
        Dihedral.FLIP_Y: pixels[:, ::-1],
        Dihedral.FLIP_PLUS_1: pixels.transpose(1, 0, 2),
        Dihedral.FLIP_MINUS_1: np.rot90(pixels, 2).transpose(1, 0, 2),
    }
    assert variants[Dihedral.ORIGINAL] == hash_pixels(pixels).hash
    for variant, transformed in real.items():
        actual = hash_pixels(np.ascontiguousarray(transformed)).hash
        distances = {v: h.distance(actual) for v, h in variants.items()}
        # PDQ's decimation samples are not mirror-symmetric (one pixel off), so a real
        # flip lands some bits away; but the right variant matches and is the nearest.
        assert min(distances, key=lambda v: distances[v]) is variant
        assert distances[variant] <= 31


@pytest.mark.parametrize("size", [(640, 480), (513, 2000), (2100, 2000), (300, 200)])
def test_both_resampling_routes_give_the_same_dct(size: tuple[int, int]) -> None:
    from stopspread.hashing import dct_from_pixels
    from stopspread.hashing.image import dct_for_image

    pixels = synthetic_rgb(*size, seed=8)
    via_pillow = dct_from_pixels(pixels_for_pdq(Image.fromarray(pixels)))
    via_core = dct_from_pixels(pixels, resample_side=PREDOWNSAMPLE_SIDE)
    via_image = dct_for_image(Image.fromarray(pixels))
    assert np.array_equal(via_pillow[0], via_core[0])
    assert np.array_equal(via_pillow[0], via_image[0])
    assert via_pillow[1] == via_core[1] == via_image[1]
