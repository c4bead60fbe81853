"""Build the shipped ``ss-kp-1`` vocabulary (``ss-kp-vocab-1``) reproducibly (issue 14).

The platform API's keypoint bank (``services/keypoint_bank.py``) shortlists enrolled photos
through a visual vocabulary (``matching/keypoint_index.py``). It is trained here, once, on
the DEV corpus only (never on held-out photos): the manifest's rows in file order, every
row whose position is not a multiple of 4 (the multiples of 4 are left for
``bench/keypoints_api.py`` to enrol), the 400 keypoints of each photo, branching 10, depth 4
(10,000 words), seed 0. Same corpus and code: the same bytes; the script prints the SHA-256
of the arrays, recorded in ``docs/api.md``. ``--depth 5`` / ``--depth 6 --features 1200``
build the 10^5- and 10^6-word vocabularies ``bench/keypoints_lookup.py --vocab-dir`` compares.
``--signature-bits 8`` adds each word's signature bits, trained on the same DEV descriptors
(``matching.keypoint_index.train_signature_bits``): the shipped ``ss-kp-vocab-2`` is
``ss-kp-vocab-1``'s tree (``--tree``, not retrained) with 8 bits a word.

    .venv/bin/python bench/keypoints_vocabulary.py --corpus corpus/dev \
        --out src/stopspread/matching/vocab/ss-kp-vocab-1
    .venv/bin/python bench/keypoints_vocabulary.py --corpus corpus/dev \
        --tree src/stopspread/matching/vocab/ss-kp-vocab-1 --signature-bits 8 \
        --out src/stopspread/matching/vocab/ss-kp-vocab-2
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import time
from pathlib import Path

import numpy as np
from PIL import Image

from stopspread.hashing.keypoints import extract_keypoints
from stopspread.matching.keypoint_index import (
    load_vocabulary,
    save_vocabulary,
    train_signature_bits,
    train_vocabulary,
)

BRANCHING = 10
DEPTH = 4
HOLD_EVERY = 4  # rows at positions divisible by this are not trained on (the API bench's)


def training_files(corpus: Path) -> list[Path]:
    rows = list(csv.DictReader((corpus / "manifest.csv").open(encoding="utf-8")))
    return [corpus / r["file"] for i, r in enumerate(rows) if i % HOLD_EVERY]


def bench_files(corpus: Path) -> list[Path]:
    rows = list(csv.DictReader((corpus / "manifest.csv").open(encoding="utf-8")))
    return [corpus / r["file"] for i, r in enumerate(rows) if not i % HOLD_EVERY]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("corpus/dev"))
    ap.add_argument("--out", type=Path, default=Path("src/stopspread/matching/vocab/ss-kp-vocab-1"))
    ap.add_argument("--depth", type=int, default=DEPTH, help="10^depth words (shipped: 4)")
    ap.add_argument("--features", type=int, default=400, help="descriptors a training photo")
    ap.add_argument("--tree", type=Path, help="reuse this vocabulary folder's tree (no training)")
    ap.add_argument("--signature-bits", type=int, default=0, help="signature bits a word")
    args = ap.parse_args()
    started = time.perf_counter()
    photos = []
    for path in training_files(args.corpus):
        with Image.open(path) as image:
            photos.append(extract_keypoints(image, args.features).descriptors)
    extracted = time.perf_counter()
    if args.tree:
        vocab = load_vocabulary(args.tree)
    else:
        vocab = train_vocabulary(photos, BRANCHING, args.depth, seed=0)
    if args.signature_bits:
        vocab = train_signature_bits(vocab, photos, args.signature_bits)
    trained = time.perf_counter()
    save_vocabulary(vocab, args.out)
    digest = hashlib.sha256(
        np.ascontiguousarray(vocab.centres).tobytes()
        + np.ascontiguousarray(vocab.idf).tobytes()
        + (b"" if vocab.bits is None else np.ascontiguousarray(vocab.bits).tobytes())
    ).hexdigest()
    print(
        f"{len(photos)} photos, {sum(len(p) for p in photos)} descriptors; extract "
        f"{extracted - started:.1f} s, train {trained - extracted:.1f} s; sha256 {digest}"
    )


if __name__ == "__main__":
    main()
