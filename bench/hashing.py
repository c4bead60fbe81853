"""Benchmark: PDQ hashing speed and the fast pipeline's drift (run by hand, not in CI).

Compares, on the same JPEG files at ~640x480, ~1920x1080 and ~4000x3000:
  ours-reference  stopspread.hashing.hash_image (Meta's reference pipeline, bit-exact)
  ours-fast       the same with reduced-size JPEG decoding
  pdqhash         PIL decode + pdqhash.compute (how python-threatexchange hashes) - the anchor
  imagehash       PIL decode + imagehash.phash
Times are ms per image on one thread (median of repeated rounds); ratios are against
pdqhash measured in the same run. Drift = Hamming distance fast vs reference.

Inputs are made from real photos (the corpus built by ../shared/corpus/build_corpus.py,
default ./corpus/images/everyday) resized to each target size and saved as JPEG q=90 in
bench/out/hashing/; without a corpus, synthetic images are used (say so in reports).

    .venv/bin/python bench/hashing.py [--photos 8] [--rounds 5] [--source DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from stopspread.hashing import Pipeline, hash_image, hash_many

SIZES = [(640, 480), (1920, 1080), (4000, 3000)]
ROOT = Path(__file__).resolve().parent.parent


def make_inputs(source: Path, photos: int, out: Path) -> dict[tuple[int, int], list[Path]]:
    files = sorted(p for p in source.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    files = files[:: max(1, len(files) // photos)][:photos] if files else []
    rng = np.random.default_rng(0)
    result: dict[tuple[int, int], list[Path]] = {}
    for w, h in SIZES:
        folder = out / f"{w}x{h}"
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for i in range(photos):
            path = folder / f"{i:02d}.jpg"
            if not path.exists():
                if files:
                    img = Image.open(files[i % len(files)]).convert("RGB")
                    img = cover(img, w, h)
                else:
                    noise = rng.integers(0, 256, (h // 16, w // 16, 3), dtype=np.uint8)
                    img = Image.fromarray(noise).resize((w, h), Image.Resampling.BICUBIC)
                img.save(path, "JPEG", quality=90)
            paths.append(path)
        result[(w, h)] = paths
    return result


def cover(img: Image.Image, w: int, h: int) -> Image.Image:
    scale = max(w / img.width, h / img.height)
    size = (max(w, round(img.width * scale)), max(h, round(img.height * scale)))
    img = img.resize(size, Image.Resampling.LANCZOS)
    left, top = (img.width - w) // 2, (img.height - h) // 2
    return img.crop((left, top, left + w, top + h))


def contenders() -> dict[str, Callable[[Path], object]]:
    import imagehash
    import pdqhash

    def ours_ref(p: Path) -> object:
        return hash_image(p, digests=False)

    def ours_fast(p: Path) -> object:
        return hash_image(p, pipeline=Pipeline.FAST, digests=False)

    def pdq_anchor(p: Path) -> object:
        with Image.open(p) as img:
            return pdqhash.compute(np.asarray(img.convert("RGB")))

    def phash(p: Path) -> object:
        with Image.open(p) as img:
            return imagehash.phash(img)

    return {
        "pdqhash": pdq_anchor,
        "ours-reference": ours_ref,
        "ours-fast": ours_fast,
        "imagehash.phash": phash,
    }


def time_per_image(fn: Callable[[Path], object], paths: list[Path], rounds: int) -> float:
    fn(paths[0])  # warm caches
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for p in paths:
            fn(p)
        samples.append((time.perf_counter() - start) / len(paths))
    return statistics.median(samples) * 1000


def drift(paths: list[Path]) -> tuple[float, int]:
    d = [hash_image(p).pdq.distance(hash_image(p, pipeline=Pipeline.FAST).pdq) for p in paths]
    return statistics.mean(d), max(d)


def batch_rate(paths: list[Path], workers: int, rounds: int) -> float:
    work = paths * rounds
    start = time.perf_counter()
    for _ in hash_many(work, workers=workers):
        pass
    return len(work) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--source", type=Path, default=ROOT / "corpus" / "images" / "everyday")
    ap.add_argument("--photos", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "hashing")
    args = ap.parse_args()
    inputs = make_inputs(args.source, args.photos, args.out)
    source = args.source.resolve()
    shown = source.relative_to(ROOT) if source.is_relative_to(ROOT) else source.name
    origin = f"real photos from {shown}" if source.is_dir() else "synthetic images"
    print(f"inputs: {args.photos} JPEGs per size (q=90), {origin}; cores: {os.cpu_count()}")
    fns = contenders()
    print(f"\n{'size':>11} | " + " | ".join(f"{n:>15}" for n in fns) + " | fast drift mean/max")
    ratios: dict[str, list[str]] = {}
    for (w, h), paths in inputs.items():
        ms = {name: time_per_image(fn, paths, args.rounds) for name, fn in fns.items()}
        mean_d, max_d = drift(paths)
        print(
            f"{w}x{h:<6} | "
            + " | ".join(f"{ms[n]:>12.2f} ms" for n in fns)
            + f" | {mean_d:.2f} / {max_d} bits"
        )
        ratios[f"{w}x{h}"] = [f"{ms['pdqhash'] / ms[n]:>13.1f}x" for n in fns]
    print("\nspeed-up vs pdqhash (same run; higher is faster)")
    for size, row in ratios.items():
        print(f"{size:>11} | " + " | ".join(f"{r:>15}" for r in row))
    paths = inputs[SIZES[1]]
    one, many = batch_rate(paths, 1, 3), batch_rate(paths, os.cpu_count() or 1, 3)
    print(
        f"\nbatch (hash_many, 1920x1080): 1 thread {one:.1f} img/s, "
        f"{os.cpu_count()} threads {many:.1f} img/s ({many / one:.2f}x)"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
