"""What a blurred radius edge would cost (issue 18, finding 2): how many true copies of a
picture sit in the band just inside the radius, where a blurred edge would answer "match"
only with a probability falling towards the radius.

Synthetic pictures made in code (smooth colour fields with shapes and text; no corpus
needed), each edited once per family of ``bench/robust_transforms.py``; plain PDQ distance
between the original's hash and the edit's, counted for every edit that matches (<= the
radius), and the near misses just outside it. The blur answers a copy at distance d in
(R - b, R] with probability (R - d + 1) / (b + 1), so its expected recall loss is that
probability's complement summed over the band.

    .venv/bin/python bench/probing_blur.py [--pictures 60]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent))

import robust_transforms as rt
from stopspread.hashing import hash_image

RADIUS = 29
FAMILIES = [
    rt.jpeg, rt.resize, rt.greyscale, rt.colour, rt.blur, rt.sharpen, rt.caption, rt.emoji,
    rt.crop_light, rt.border_light, rt.rotate_small, rt.combo,
]  # fmt: skip


def picture(rng: np.random.Generator) -> Image.Image:
    """A smooth random field with a few shapes: PDQ sees structure at every scale."""
    small = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    img = Image.fromarray(small).resize((640, 480), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(3, 9))):
        x, y = int(rng.integers(0, 560)), int(rng.integers(0, 400))
        w, h = int(rng.integers(30, 200)), int(rng.integers(30, 200))
        fill = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x, y, x + w, y + h), fill=fill)
    return img.filter(ImageFilter.GaussianBlur(2))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pictures", type=int, default=60)
    args = parser.parse_args()
    rng = np.random.default_rng(18)
    distances: list[int] = []
    edits, near_misses = 0, 0
    for _ in range(args.pictures):
        img = picture(rng)
        mine = int(hash_image(img).pdq.hex, 16)
        for family in FAMILIES:
            edits += 1
            edited = family(img.copy(), rng).convert("RGB")
            distance = (int(hash_image(edited).pdq.hex, 16) ^ mine).bit_count()
            if distance <= RADIUS:
                distances.append(distance)
            elif distance <= RADIUS + 4:
                near_misses += 1  # after an alarm such a query suspends its key
    found = np.array(distances)
    print(f"{args.pictures} pictures x {len(FAMILIES)} edit families = {edits} edits, "
          f"{len(found)} matched (<= {RADIUS})")  # fmt: skip
    print(f"  near misses ({RADIUS + 1}-{RADIUS + 4} bits off, after an alarm they suspend "
          f"the key): {near_misses} ({near_misses / edits:.1%} of edits)")  # fmt: skip
    for q in (50, 90, 99):
        print(f"  distance of a matched copy, {q}th percentile: {np.percentile(found, q):.0f}")
    for band in (2, 4, 6, 8):
        inside = found[found > RADIUS - band]
        lost = sum(1 - (RADIUS - d + 1) / (band + 1) for d in inside)
        print(f"  band {band}: {len(inside)} copies in ({RADIUS - band}, {RADIUS}] "
              f"({len(inside) / len(found):.1%} of matches); a blurred edge loses "
              f"{lost:.1f} of them on average ({lost / len(found):.2%} recall)")  # fmt: skip


if __name__ == "__main__":
    main()
