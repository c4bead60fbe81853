#!/usr/bin/env python3
"""Robustness of PDQ signal sets to real-world edits, on the photo corpus.

Run by hand (not in CI), after building the corpus (see the issue / build_corpus.py):

    .venv/bin/python bench/robustness.py --corpus ../main/corpus --quick
    .venv/bin/python bench/robustness.py --corpus ../main/corpus --chart docs/robustness.png
    .venv/bin/python bench/robustness.py --corpus corpus-holdout --generators report

``--generators report`` swaps the design edits (robust_transforms.py) for the reporting ones
(robust_edits_report.py), written apart and never used while designing (docs/robustness.md,
"Held-out evaluation").

Every original is enrolled under a superset of variants; every original and one seeded
edit per family of it is hashed under a superset of query variants. Each strategy is a
choice of enrolment and query variant groups. For a strategy, the distance between a
query image and an enrolled image is the smallest distance between any of their hashes.
The match threshold is the largest value <= 31 that gives **zero false matches** over all
pairs of a query (an original or an edit) and a *different* original; recall per family
is measured at that threshold, per corpus slice (everyday, astro, cutout).
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing as mp
import pickle
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

import robust_edits_report
import robust_transforms as rt
from robust_report import chart, side_by_side, table
from stopspread.hashing.dihedral import Dihedral
from stopspread.hashing.pdq import PDQ_MIN_QUALITY, PdqHash
from stopspread.hashing.signals import (
    SHARED_WINDOWS,
    SS_IMG_1,
    Anchor,
    Dihedrals,
    Rotation,
    SignalHash,
    Variant,
    VariantKind,
    compute_variants,
)

SEED = 20261125
GENERATORS = {"design": rt.FAMILIES, "report": robust_edits_report.FAMILIES}
NO_RULE = "plain PDQ, no quality rule"
MAX_THRESHOLD = 31  # never above Meta's recommended PDQ match distance
V, K, R, D = Variant, VariantKind, Rotation, Dihedrals
CORNERS = (Anchor.TOP_LEFT, Anchor.TOP_RIGHT, Anchor.BOTTOM_LEFT, Anchor.BOTTOM_RIGHT)
EDGES = (Anchor.TOP, Anchor.BOTTOM, Anchor.LEFT, Anchor.RIGHT)
ENROL_VARIANTS = (
    V(K.FULL, dihedral=D.FROM_PIXELS),
    V(K.SMOOTH, dihedral=D.FROM_DCT),
    V(K.TRIMMED, dihedral=D.FROM_DCT),
    *SHARED_WINDOWS,
    *(V(K.CROP, keep=0.8, anchor=a) for a in CORNERS),
    V(K.CROP, keep=0.9),
    V(K.CROP, keep=0.8),
    *(
        V(K.ROTATED, degrees=s * d, rotation=r)
        for r, angles in [
            (R.STRAIGHTEN, (2.5, 3.5, 4.5, 6.0, 7.5, 9.0)),
            (R.CORNERS, (2.5, 3.5, 4.5)),
            (R.EXPAND, (2.5, 3.5, 4.5)),
        ]
        for d in angles
        for s in (-1.0, 1.0)
    ),
)
QUERY_VARIANTS = (
    V(K.FULL),
    V(K.SMOOTH),
    V(K.TRIMMED),
    V(K.CONTENT),
    *SHARED_WINDOWS,
)


def enrol_group(h: SignalHash) -> str:
    v = h.variant
    if h.dihedral is not Dihedral.ORIGINAL:
        exact = v.dihedral is D.FROM_PIXELS
        return v.tag + ("-dihpx" if exact else "-dih")
    if v in SHARED_WINDOWS:
        return "win"
    if v.kind is K.CROP:
        return "grid80" if v.anchor in CORNERS else "crop-c"
    if v.kind is K.ROTATED:
        return v.rotation.value + ("-s" if abs(v.degrees) < 5 else "-l")
    return v.tag


def query_group(v: Variant) -> str:
    return "q-win" if v in SHARED_WINDOWS else "q-" + v.tag


@dataclass(frozen=True)
class Strategy:
    name: str
    enrol: frozenset[str]
    query: frozenset[str]


def _s(name: str, enrol: str, query: str) -> Strategy:
    return Strategy(name, frozenset(enrol.split()), frozenset(query.split()))


ROTS = "rot-s rot-l rotc-s rote-s"
SHIP_E = f"full full-dihpx smooth trim win {ROTS}"
STRATEGIES = [
    _s("plain PDQ", "full", "q-full"),
    _s("+dihedral", "full full-dih", "q-full"),
    _s("+dihedral (pixels)", "full full-dihpx", "q-full"),
    _s("+unletterbox", "full full-dih trim trim-dih", "q-full q-trim"),
    _s("enrol crops", "full full-dih crop-c grid80 win", "q-full"),
    _s("enrol rotations", f"full full-dih {ROTS}", "q-full"),
    _s("query multi-crop", "full full-dih", "q-full q-trim q-content q-win"),
    _s("shared windows", "full full-dih win", "q-full q-win"),
    _s("ss-img-1, plain query", SHIP_E, "q-full"),
    _s("ss-img-1", SHIP_E, "q-full q-smooth q-trim q-content q-win"),
    _s(
        "everything",
        f"{SHIP_E} full-dih smooth-dih trim-dih grid80 crop-c",
        "q-full q-smooth q-trim q-content q-win",
    ),
]


def check_shipped_strategy() -> None:
    """The "ss-img-1" strategy must be exactly the recipe the library ships."""
    ship = next(st for st in STRATEGIES if st.name == "ss-img-1")
    zero = PdqHash(bytes(32))
    enrol = set()
    for v in ENROL_VARIANTS:
        group = enrol_group(SignalHash(zero, 100, v))
        if group in ship.enrol:
            turns = v.dihedral is D.FROM_DCT and f"{group}-dih" not in ship.enrol
            enrol.add(replace(v, dihedral=D.NONE) if turns else v)
    query = {v for v in QUERY_VARIANTS if query_group(v) in ship.query}
    if enrol != set(SS_IMG_1.enrolment) or query != set(SS_IMG_1.query):
        raise SystemExit("bench strategy 'ss-img-1' differs from signals.SS_IMG_1")


def _words(h: SignalHash) -> np.ndarray:
    return np.frombuffer(h.hash.value, dtype=np.uint64)


def work(task: tuple[int, str, list[str]]) -> dict:
    """Enrol one original and hash it and its edits; called in a worker process."""
    idx, path, families = task
    img = Image.open(path).convert("RGB")
    t0 = time.perf_counter()
    enrolled = compute_variants(img, ENROL_VARIANTS)
    dct_turns = compute_variants(img, (V(K.FULL, dihedral=D.FROM_DCT),))  # no cross-dedupe
    enrolled += [h for h in dct_turns if h.dihedral is not Dihedral.ORIGINAL]
    enrol_ms = (time.perf_counter() - t0) * 1000
    ship_ms = None
    if idx % 10 == 0:  # time the shipped enrolment recipe on a sample
        t0 = time.perf_counter()
        compute_variants(img, SS_IMG_1.enrolment)
        ship_ms = (time.perf_counter() - t0) * 1000
    queries: list[tuple[str, str, np.ndarray]] = []
    q_ms: dict[str, float] = defaultdict(float)
    for fi, family in enumerate(["original", *families]):
        rng = np.random.default_rng([SEED, idx, fi])
        edited = img if family == "original" else rt.FAMILIES[family](img, rng)
        for variant in QUERY_VARIANTS:
            t0 = time.perf_counter()
            hashes = compute_variants(edited, (variant,))
            group = query_group(variant)
            q_ms[group] += (time.perf_counter() - t0) * 1000
            queries.extend((family, group, _words(h), h.quality) for h in hashes)
    return {
        "idx": idx,
        "enrol": [(enrol_group(h), _words(h), h.quality) for h in enrolled],
        "quality": enrolled[0].quality,
        "enrol_ms": enrol_ms,
        "ship_ms": ship_ms,
        "queries": queries,
        "q_ms": dict(q_ms),
        "n_queries": len(families) + 1,
    }


@dataclass
class Hashes:
    """Stacked hashes: ``words`` (n, 4) uint64, with image index, group and family."""

    words: np.ndarray
    image: np.ndarray
    group: np.ndarray
    query: np.ndarray  # query number (queries only; -1 for enrolled hashes)
    quality: np.ndarray

    def select(self, keep: np.ndarray) -> Hashes:
        return Hashes(*(getattr(self, f)[keep] for f in self.__dataclass_fields__))


def _stack(rows: list[tuple[int, int, str, np.ndarray, int]]) -> Hashes:
    return Hashes(
        np.stack([r[3] for r in rows]),
        np.array([r[0] for r in rows]),
        np.array([r[2] for r in rows]),
        np.array([r[1] for r in rows]),
        np.array([r[4] for r in rows]),
    )


def _popcount_distances(q: np.ndarray, e_t: np.ndarray) -> np.ndarray:
    """(len(q), n) uint8 Hamming distances; ``e_t`` is the (4, n) transposed enrolled words."""
    d = np.bitwise_count(q[:, 0, None] ^ e_t[0][None, :])
    for w in range(1, 4):
        d += np.bitwise_count(q[:, w, None] ^ e_t[w][None, :])
    return d


def group_distances(enrolled: Hashes, queries: Hashes, n_queries: int, n_images: int) -> dict:
    """``{(query group, enrol group): (n_queries, n_images) uint8}`` smallest distances."""
    order = np.lexsort((enrolled.image, enrolled.group))
    e_words, e_img, e_grp = enrolled.words[order], enrolled.image[order], enrolled.group[order]
    e_t = np.ascontiguousarray(e_words.T)
    segments = []  # (group, column start, column stop, image of each segment, starts)
    for g in np.unique(e_grp):
        cols = np.flatnonzero(e_grp == g)
        lo, hi = int(cols[0]), int(cols[-1]) + 1
        imgs, starts = np.unique(e_img[lo:hi], return_index=True)
        segments.append((str(g), lo, hi, imgs, starts))
    out: dict = {}
    chunk = 96
    for qg in np.unique(queries.group):
        rows = np.flatnonzero(queries.group == qg)
        mats = {g: np.full((n_queries, n_images), 255, np.uint8) for g, *_ in segments}
        for s in range(0, rows.size, chunk):
            r = rows[s : s + chunk]
            d = _popcount_distances(queries.words[r], e_t)
            qids = queries.query[r]  # a query's hashes are consecutive rows
            firsts = np.flatnonzero(np.r_[True, qids[1:] != qids[:-1]])
            uq = qids[firsts]
            for g, lo, hi, imgs, starts in segments:
                per_img = np.minimum.reduceat(d[:, lo:hi], starts, axis=1)
                per_img = np.minimum.reduceat(per_img, firsts, axis=0)
                block = mats[g][uq]
                block[:, imgs] = np.minimum(block[:, imgs], per_img)
                mats[g][uq] = block
        for g, m in mats.items():
            out[(str(qg), g)] = m
    return out


def strategy_distances(mats: dict, strategy: Strategy) -> np.ndarray:
    parts = [m for (qg, eg), m in mats.items() if qg in strategy.query and eg in strategy.enrol]
    return np.minimum.reduce(parts)


def evaluate(dist, q_image, q_family, slices, hashable):
    """Threshold at zero false matches, recall per (slice, family), false counts.

    ``recall`` counts the edits of originals whose plain PDQ quality is >= 50 (the only
    ones Meta's rule lets match); ``recall_all`` counts every original.
    """
    n = dist.shape[0]
    own = dist[np.arange(n), q_image].astype(int)
    other = dist.copy()
    other[np.arange(n), q_image] = 255
    min_false = int(other.min())
    threshold = min(MAX_THRESHOLD, min_false - 1)
    recall: dict[str, dict[str, float]] = defaultdict(dict)
    recall_all: dict[str, dict[str, float]] = defaultdict(dict)
    for sl in ["everyday", "astro", "cutout", "all"]:
        in_slice = np.ones(n, bool) if sl == "all" else slices[q_image] == sl
        for fam in np.unique(q_family):
            sel = in_slice & (q_family == fam)
            if sel.any():
                recall_all[sl][str(fam)] = float((own[sel] <= threshold).mean())
            sel &= hashable[q_image]
            if sel.any():
                recall[sl][str(fam)] = float((own[sel] <= threshold).mean())
    return {
        "recall_all": recall_all,
        "threshold": threshold,
        "min_false_distance": min_false,
        "false_matches_at_31": int((other <= MAX_THRESHOLD).sum()),
        "false_matches_at_threshold": int((other <= threshold).sum()),
        "recall": recall,
    }, other


def lookup_ms(n_hashes: int, n_query_hashes: int) -> float:
    """Brute-force numpy lookup of the query's hashes against ``n_hashes`` enrolled hashes."""
    rng = np.random.default_rng(0)
    e_t = rng.integers(0, 2**63, (4, n_hashes), dtype=np.uint64)
    q = rng.integers(0, 2**63, (n_query_hashes, 4), dtype=np.uint64)
    t0 = time.perf_counter()
    for _ in range(5):
        _popcount_distances(q, e_t).min(axis=1)
    return (time.perf_counter() - t0) * 1000 / 5


def load_corpus(corpus: Path, limit: int | None) -> list[tuple[str, str]]:
    with (corpus / "manifest.csv").open() as fh:
        rows = [(r["file"], r["category"]) for r in csv.DictReader(fh)]
    if limit:
        per: dict[str, list] = defaultdict(list)
        for r in rows:
            per[r[1]].append(r)
        rng = np.random.default_rng(SEED)
        rows = [
            r
            for sl in sorted(per)
            for r in [per[sl][i] for i in sorted(rng.permutation(len(per[sl]))[:limit])]
        ]
    return rows


def run_hashing(rows: list[tuple[str, str]], corpus: Path, jobs: int) -> list[dict]:
    families = list(rt.FAMILIES)
    tasks = [(i, str(corpus / f), families) for i, (f, _) in enumerate(rows)]
    results: list[dict] = []
    t0 = time.perf_counter()
    with mp.get_context("fork").Pool(jobs) as pool:
        for k, res in enumerate(pool.imap_unordered(work, tasks, chunksize=2)):
            results.append(res)
            if (k + 1) % 50 == 0:
                print(
                    f"  hashed {k + 1}/{len(tasks)} in {time.perf_counter() - t0:.0f} s",
                    file=sys.stderr,
                )
    return sorted(results, key=lambda r: r["idx"])


def assemble(results: list[dict]) -> tuple[Hashes, Hashes, np.ndarray, np.ndarray]:
    e_rows, q_rows, q_image, q_family = [], [], [], []
    for res in results:
        e_rows.extend((res["idx"], -1, g, w, q) for g, w, q in res["enrol"])
        first = len(q_image)
        names = ["original", *rt.FAMILIES]
        q_image.extend([res["idx"]] * res["n_queries"])
        q_family.extend(names)
        qid = {name: first + k for k, name in enumerate(names)}
        q_rows.extend((res["idx"], qid[fam], g, w, q) for fam, g, w, q in res["queries"])
    return _stack(e_rows), _stack(q_rows), np.array(q_image), np.array(q_family)


def summarise(results, enrolled, runs, q_image, q_family, slices, names, min_q) -> dict:
    n_img = len(results)
    q_ms: dict[str, float] = defaultdict(float)
    for res in results:
        for g, ms in res["q_ms"].items():
            q_ms[g] += ms / res["n_queries"] / n_img
    report: dict = {"images": n_img, "queries": len(q_image), "strategies": {}}
    ship = [r["ship_ms"] for r in results if r["ship_ms"] is not None]
    report["enrol_ms_ss_img_1_median"] = float(np.median(ship)) if ship else None
    hashable = np.array([r["quality"] >= min_q for r in results])
    report["min_quality_enrolled"] = min_q
    report["hashable_originals"] = {
        sl: [int(hashable[slices == sl].sum()), int((slices == sl).sum())]
        for sl in ["everyday", "astro", "cutout"]
    }
    for st, mats in runs:
        dist = strategy_distances(mats, st)
        metrics, other = evaluate(dist, q_image, q_family, slices, hashable)
        per_image = np.isin(enrolled.group, list(st.enrol)).sum() / n_img
        q_hashes = len(st.query)
        metrics["enrolled_hashes_per_image"] = float(per_image)
        metrics["query_hash_ms"] = sum(q_ms[g] for g in st.query)
        metrics["lookup_ms"] = lookup_ms(int(per_image * n_img), q_hashes)
        worst = np.unravel_index(np.argsort(other, axis=None)[:3], other.shape)
        metrics["closest_false"] = [
            (str(q_family[a]), names[q_image[a]], names[b], int(other[a, b]))
            for a, b in zip(*worst, strict=True)
        ]
        report["strategies"][st.name] = metrics
        print(
            f"{st.name:24s} T={metrics['threshold']:2d} "
            f"hashes/img={per_image:5.1f} false@31={metrics['false_matches_at_31']}",
            file=sys.stderr,
        )
    return report


def tolerance(corpus: Path, step: int = 12) -> str:
    """How far PDQ moves under small, exact geometry changes (every ``step``-th everyday photo)."""
    from stopspread.hashing import hash_image
    from stopspread.hashing._regions import rotate_fill

    rows = [f for f, c in load_corpus(corpus, None) if c == "everyday"][::step]
    probes = {
        **{
            f"cut {p:.0%} off one edge": (
                lambda im, p=p: im.crop((round(im.width * p), 0, im.width, im.height))
            )
            for p in (0.01, 0.02, 0.03, 0.04)
        },
        **{
            f"slide an 80% window by {p:.0%}": (
                lambda im, p=p: im.crop(
                    (round(im.width * p), 0, round(im.width * (0.8 + p)), im.height)
                )
            )
            for p in (0.01, 0.02)
        },
        **{
            f"straighten {d} deg vs 4 deg": (lambda im, d=d: rotate_fill(im, d))
            for d in (3.0, 3.5, 4.5, 5.0)
        },
    }
    found: dict[str, list[int]] = defaultdict(list)
    for f in rows:
        img = Image.open(corpus / f).convert("RGB")
        base = hash_image(img).pdq
        ref = {
            "80": hash_image(img.crop((0, 0, round(img.width * 0.8), img.height))).pdq,
            "rot": hash_image(rotate_fill(img, 4.0)).pdq,
        }
        for name, fn in probes.items():
            against = ref["80"] if "slide" in name else ref["rot"] if "deg" in name else base
            found[name].append(hash_image(fn(img)).pdq.distance(against))
    lines = [
        f"{len(rows)} everyday photos",
        "| change | median bits | share <= 31 |",
        "|---|---|---|",
    ]
    for name, d in found.items():
        arr = np.array(d)
        lines.append(f"| {name} | {np.median(arr):.0f} | {100 * (arr <= 31).mean():.0f} % |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path("../main/corpus"))
    ap.add_argument("--limit", type=int, default=None, help="originals per slice")
    ap.add_argument("--quick", action="store_true", help="same as --limit 20")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument(
        "--generators",
        choices=sorted(GENERATORS),
        default="design",
        help="design: the edits the signals were tuned on; report: the independent ones",
    )
    ap.add_argument("--out", type=Path, default=Path("bench/out/robustness.json"))
    ap.add_argument("--chart", type=Path, default=Path("bench/out/robustness.png"))
    ap.add_argument("--markdown", type=Path, default=Path("bench/out/robustness.md"))
    ap.add_argument("--tolerance", action="store_true", help="only the geometry probe")
    ap.add_argument("--reuse", action="store_true", help="reuse the hashes of the last run")
    ap.add_argument("--cache", type=Path, default=Path("bench/out/robustness.hashes.pkl"))
    ap.add_argument(
        "--min-quality-enrolled",
        type=int,
        default=SS_IMG_1.min_enrolled_quality,
        help="enrolled hashes under this PDQ quality never match",
    )
    args = ap.parse_args()
    if args.tolerance:
        print(tolerance(args.corpus))
        return
    check_shipped_strategy()
    # One switch for every reader of rt.FAMILIES (work(), the tables, the chart); the pool
    # forks after it, so its workers see the chosen generators too.
    rt.FAMILIES = GENERATORS[args.generators]
    rows = load_corpus(args.corpus, 20 if args.quick else args.limit)
    print(f"{len(rows)} originals x {len(rt.FAMILIES) + 1} queries", file=sys.stderr)
    t0 = time.perf_counter()
    cache = args.cache
    if args.reuse:
        results = pickle.loads(cache.read_bytes())
    else:
        results = run_hashing(rows, args.corpus, args.jobs)
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps(results))
    t1 = time.perf_counter()
    enrolled, queries, q_image, q_family = assemble(results)
    n_q, n_i = len(q_image), len(rows)
    # Meta's rule: hashes of quality < 50 never match (dark, sparse images collide at 0-2 bits).
    reliable = group_distances(
        enrolled.select(enrolled.quality >= args.min_quality_enrolled),
        queries.select(queries.quality >= PDQ_MIN_QUALITY),
        n_q,
        n_i,
    )
    raw = group_distances(
        enrolled.select(enrolled.group == "full"),
        queries.select(queries.group == "q-full"),
        n_q,
        n_i,
    )
    runs = [(_s(NO_RULE, "full", "q-full"), raw)] + [(st, reliable) for st in STRATEGIES]
    t2 = time.perf_counter()
    slices = np.array([c for _, c in rows])
    names = [Path(f).name for f, _ in rows]
    report = summarise(
        results, enrolled, runs, q_image, q_family, slices, names, args.min_quality_enrolled
    )
    report["seconds"] = {"hashing": t1 - t0, "matching": t2 - t1}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    shown = [NO_RULE] + [s.name for s in STRATEGIES]
    md = "### plain PDQ vs ss-img-1\n\n" + side_by_side(report) + "\n\n"
    md += "\n\n".join(
        f"### {sl}\n\n" + table(report, sl, shown) for sl in ["everyday", "astro", "cutout"]
    )
    args.markdown.parent.mkdir(parents=True, exist_ok=True)
    args.markdown.write_text(md + "\n")
    chart(report, args.chart, shown)
    print(md)
    print(f"hashing {t1 - t0:.0f} s, matching {t2 - t1:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
