"""Queries and keys a walk needs to read an enrolled hash back, with the probing detector on
(issue 18, finding 2; services/probing.py). Runs the walks of ``tests/security/walks.py``
against the real detector as the match route drives it (simulated clock, answers by
distance), over 3 seeds each, and prints a table; then the false alarms of the viral-meme
traffic model and the cost of a blurred edge (answer "match" with a probability falling
from 1 to 0 over the band) to true copies and to the walk.

    .venv/bin/python bench/probing.py
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import random_pdq
from tests.security.walks import Attacker, Server, padded_walk, review_walk

WALKS = [
    ("review walk, 1 key", review_walk, 1, 0, 1, False),
    ("diluted (256 fillers per query), 1 key", review_walk, 1, 256, 1, False),
    ("review walk, 4 keys", review_walk, 4, 0, 1, False),
    ("review walk, 16 keys", review_walk, 16, 0, 1, False),
    ("review walk, 2 processes, 4 keys, not shared", review_walk, 4, 0, 2, False),
    ("review walk, 2 processes, 4 keys, shared", review_walk, 4, 0, 2, True),
    ("review walk, 4 processes, 16 keys, shared", review_walk, 16, 0, 4, True),
    ("padded walk (ours), 1 key", padded_walk, 1, 0, 1, False),
    ("padded walk, 8 keys", padded_walk, 8, 0, 1, False),
    ("padded walk, 16 keys", padded_walk, 16, 0, 1, False),
    ("padded walk, 2 processes, 1 key, shared", padded_walk, 1, 0, 2, True),
]
# a blurred edge 4 bits wide (match_edge_blur_bits=4); the padded walk asks each "no" again
# up to 4 times with fresh pads
BLURRED = [
    ("padded walk, 1 key, blur 4", 1),
    ("padded walk, 16 keys, blur 4", 16),
    ("padded walk, 32 keys, blur 4", 32),
]
SEEDS = (2, 3, 4)


def main() -> None:
    print("| walk | answered | 429s (waits) | keys used / suspended | hash recovered |")
    print("|---|---|---|---|---|")
    runs = [(*w, 0) for w in WALKS] + [
        (name, partial(padded_walk, repeats=4), keys, 0, 1, False, 4) for name, keys in BLURRED
    ]
    for name, walk, keys, filler, processes, shared, blur in runs:
        rows = []
        for seed in SEEDS:
            target = int(random_pdq(np.random.default_rng(seed)), 16)
            server = Server(target, processes, shared, blur)
            out = walk(Attacker(server, range(1, keys + 1), filler, seed), target, seed)
            rows.append((out.answered, out.throttled, out.keys_used, len(server.suspended),
                         out.recovered))  # fmt: skip
        answered = "–".join(str(v) for v in sorted({r[0] for r in rows}))
        throttled = "–".join(str(v) for v in sorted({r[1] for r in rows}))
        used = "–".join(str(v) for v in sorted({r[2] for r in rows}))
        lost = "–".join(str(v) for v in sorted({r[3] for r in rows}))
        recovered = sum(r[4] for r in rows)
        print(f"| {name} | {answered} | {throttled} | {used} / {lost} | {recovered}/3 |")


if __name__ == "__main__":
    main()
