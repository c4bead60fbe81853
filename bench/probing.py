"""Queries and keys a walk needs to read an enrolled hash back, with the probing detector on
(issue 18, finding 2; services/probing.py). Runs the walks of ``tests/security/walks.py``
against the real detector as the match route drives it (simulated clock, answers by
distance), over 3 seeds each, and prints a table: each walk with the detector as shipped
(a signal under attack gets a blurred edge, closed once alarmed) and, in the last column,
without that adaptive blur (as before it); then the walks against the blur setting
(``match_edge_blur_bits=4``: every signal's edge blurred, per key).

    .venv/bin/python bench/probing.py
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import random_pdq
from tests.security.walks import SIGNAL, Attacker, Outcome, Server, padded_walk, review_walk

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
    ("padded walk, 32 keys", padded_walk, 32, 0, 1, False),
    ("padded walk, 2 processes, 1 key, shared", padded_walk, 1, 0, 2, True),
    # a walker that asks each "no" again up to 4 times with fresh pads (a blurred edge)
    ("padded walk asking again, 16 keys", partial(padded_walk, repeats=4), 16, 0, 1, False),
    ("padded walk asking again, 32 keys", partial(padded_walk, repeats=4), 32, 0, 1, False),
    ("padded walk asking again, 64 keys", partial(padded_walk, repeats=4), 64, 0, 1, False),
    # ... and reads its own suspension: a key refused after a "no" made an edge hit
    (
        "padded walk reading its suspensions, 16 keys",
        partial(padded_walk, repeats=4, oracle=True),
        16,
        0,
        1,
        False,
    ),
    (
        "padded walk reading its suspensions, 32 keys",
        partial(padded_walk, repeats=4, oracle=True),
        32,
        0,
        1,
        False,
    ),
    (
        "padded walk reading its suspensions, 64 keys",
        partial(padded_walk, repeats=4, oracle=True),
        64,
        0,
        1,
        False,
    ),
    # a start only a few bits off her hash
    ("review walk from 3 bits off, 1 key", partial(review_walk, start=3), 1, 0, 1, False),
    ("padded walk from 3 bits off, 1 key", partial(padded_walk, start=3), 1, 0, 1, False),
    ("padded walk from 3 bits off, 16 keys", partial(padded_walk, start=3), 16, 0, 1, False),
    ("padded walk from 6 bits off, 1 key", partial(padded_walk, start=6), 1, 0, 1, False),
    ("padded walk from 6 bits off, 16 keys", partial(padded_walk, start=6), 16, 0, 1, False),
    ("padded walk from 26 bits off, 1 key", partial(padded_walk, start=26), 1, 0, 1, False),
    ("padded walk from 26 bits off, 16 keys", partial(padded_walk, start=26), 16, 0, 1, False),
]
# match_edge_blur_bits=4 (every signal's edge blurred, per key): the walker asks again
BLURRED = [
    ("padded walk asking again, 1 key, blur setting 4", 1),
    ("padded walk asking again, 16 keys, blur setting 4", 16),
    ("padded walk asking again, 32 keys, blur setting 4", 32),
]
SEEDS = (2, 3, 4)


def _span(values: list[int]) -> str:
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}–{high}"


def _run(walk: Callable[..., Outcome], keys: int, filler: int, processes: int, shared: bool,
         blur: int, adaptive: bool) -> list[tuple[int, int, int, int, bool, bool]]:  # fmt: skip
    rows = []
    for seed in SEEDS:
        target = int(random_pdq(np.random.default_rng(seed)), 16)
        server = Server(target, processes, shared, blur, adaptive)
        out = walk(Attacker(server, range(1, keys + 1), filler, seed), target, seed)
        blurred = any(d.edge_blur(SIGNAL) for d in server.detectors)
        rows.append((out.answered, out.throttled, out.keys_used, len(server.suspended),
                     out.recovered, blurred))  # fmt: skip
    return rows


def main() -> None:
    print("| walk | answered | 429s | keys used / suspended | edge blurred | hash recovered "
          "| without the adaptive blur: recovered |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    runs = [(*w, 0) for w in WALKS] + [
        (name, partial(padded_walk, repeats=4), keys, 0, 1, False, 4) for name, keys in BLURRED
    ]
    for name, walk, keys, filler, processes, shared, blur in runs:
        rows = _run(walk, keys, filler, processes, shared, blur, adaptive=True)
        before = _run(walk, keys, filler, processes, shared, blur, adaptive=False)
        print(f"| {name} | {_span([r[0] for r in rows])} | {_span([r[1] for r in rows])} "
              f"| {_span([r[2] for r in rows])} / {_span([r[3] for r in rows])} "
              f"| {sum(r[5] for r in rows)}/3 | {sum(r[4] for r in rows)}/3 "
              f"| {sum(r[4] for r in before)}/3 |")  # fmt: skip


if __name__ == "__main__":
    main()
