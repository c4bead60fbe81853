#!/usr/bin/env python3
"""What a leaked bank gives back: plain PDQ vs ``ss-kp-1`` keypoints, on 5 corpus photos.

Run by hand:

    .venv/bin/python bench/keypoints_invert.py --out docs/keypoints-invert.png

Per photo, three small grey panels: the photo itself (grey, 128 px), the least-squares
reconstruction from its PDQ hash (the 16 x 16 DCT signs, inverse DCT to 64 x 64), and what
the stored keypoints show: one dot per stored cell (1/64 of each side), no colour, no scale,
no orientation. Descriptors are not inverted here (see ``docs/robustness.md``).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from stopspread.hashing.keypoints import GRID, extract_keypoints
from stopspread.hashing.signals import Variant, VariantKind, compute_variants

SIDE = 128
SEED = 20261207


def _dct_matrix() -> np.ndarray:
    i = np.arange(1, 17)[:, None]
    j = np.arange(64)[None, :]
    return np.sqrt(2 / 64) * np.cos(np.pi / 128 * i * (2 * j + 1))


def pdq_reconstruction(img: Image.Image) -> Image.Image:
    """Inverse DCT of the hash's signs: the best a leaked PDQ gives without a model."""
    value = compute_variants(img, (Variant(VariantKind.FULL),))[0].hash
    signs = value.bits().reshape(16, 16).astype(np.float64) * 2 - 1
    d = _dct_matrix()
    pixels = d.T @ signs @ d
    pixels = (pixels - pixels.min()) / max(float(np.ptp(pixels)), 1e-9) * 255
    return Image.fromarray(pixels.astype(np.uint8)).resize((SIDE, SIDE), Image.Resampling.BICUBIC)


def keypoint_picture(img: Image.Image) -> Image.Image:
    """The stored keypoint cells, one dot each, on the picture's aspect ratio."""
    kp = extract_keypoints(img)
    scale = SIDE / max(kp.width, kp.height)
    w, h = round(kp.width * scale), round(kp.height * scale)
    out = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(out)
    for col, row in kp.cells.tolist():
        x, y = (col + 0.5) * w / GRID, (row + 0.5) * h / GRID
        draw.ellipse((x - 1, y - 1, x + 1, y + 1), fill=255)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("corpus"))
    ap.add_argument("--out", type=Path, default=Path("docs/keypoints-invert.png"))
    args = ap.parse_args()
    rows = list(csv.DictReader((args.corpus / "manifest.csv").open()))
    rng = np.random.default_rng(SEED)
    everyday = [r for r in rows if r["category"] == "everyday"]
    picks = [everyday[int(i)] for i in rng.choice(len(everyday), 4, replace=False)]
    picks.append(next(r for r in rows if r["category"] == "astro"))
    pad = 8
    sheet = Image.new("L", (3 * (SIDE + pad) + pad, len(picks) * (SIDE + pad) + pad), 40)
    for n, row in enumerate(picks):
        img = Image.open(args.corpus / row["file"]).convert("RGB")
        grey = ImageOps.grayscale(img)
        grey.thumbnail((SIDE, SIDE))
        panels = [grey, pdq_reconstruction(img), keypoint_picture(img)]
        for k, panel in enumerate(panels):
            sheet.paste(panel, (pad + k * (SIDE + pad), pad + n * (SIDE + pad)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out, optimize=True)
    print(args.out, [r["file"] for r in picks])
    return 0


if __name__ == "__main__":
    sys.exit(main())
