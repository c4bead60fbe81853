"""Memory, start-up and lookup cost of the platform API's keypoint bank at scale (issue 14).

``populate`` fills a database through the real storage path (``create_case`` with sealed
keypoint records, each naming its photo's PDQ signal): ``--real`` DEV photos the shipped
vocabulary was not trained on (``bench/keypoints_vocabulary.py`` leaves every 4th row out),
each its own case, then synthetic photos up to ``--photos`` in all: 400
keypoints each, descriptors drawn from the real photos' with ~40 random bits changed (the
scale-up of ``bench/keypoints_lookup.py``), random cells; 200 a case, every record naming
the case's one PDQ signal (a signal costs the enrolment far more than a record, and the
bank keeps the same per photo either way). Run again with a larger
``--photos`` to add to the same database.

``measure`` starts a fresh process per bank implementation (``--bank-module``: a file
holding another ``KeypointBank``, e.g. the previous version from git, to compare; default
the package's) and reports its resident memory (``VmRSS``, and the peak ``VmHWM``) before
and after the bank is loaded (and after ``malloc_trim``: what the bank holds, not what the
allocator kept from reading the records), the load time, and each lookup's CPU (``thread_time``) and
wall-clock time, p50/p95, one at a time on one thread: an 80 % crop of each real photo
(``hits`` should be ``--real``) and of as many DEV photos never enrolled (no hit).

    .venv/bin/python bench/keypoints_bank.py populate --db sqlite --dir bench/out/kpbank \\
        --photos 20000
    .venv/bin/python bench/keypoints_bank.py measure --db sqlite --dir bench/out/kpbank
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import importlib.util
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.keypoints_vocabulary import bench_files

from stopspread.config import Settings
from stopspread.hashing.keypoints import (
    GRID,
    LONG_SIDE,
    N_FEATURES,
    KeypointSet,
    extract_keypoints,
    query_keypoint_sets,
)
from stopspread.services.cases import create_case
from stopspread.services.context import build_services
from stopspread.services.custody import EvidenceStore
from stopspread.services.keypoint_bank import load_vocabulary
from stopspread.services.keypoint_records import KeypointIn, record_counts, store_records
from stopspread.services.scans.queue import case_id_for_code
from stopspread.services.signal_input import SignalIn, SignalType
from stopspread.storage import Database, upgrade

PER_CASE = 200
SEED = 20261207


def _settings(url: str, folder: Path) -> Settings:
    return Settings(data_dir=folder, database_url=url, argon2_time_cost=1, argon2_memory_kib=1024)


def _url(kind: str, folder: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder / 'bank.db'}"
    saved = folder / "pg-url.txt"
    if saved.exists():
        return saved.read_text(encoding="utf-8").strip()
    from tests.pg import _start_local  # a throwaway cluster, as the tests start one

    cluster, root = _start_local()  # left running for the next call; its folder is saved
    url = cluster.new_database()
    saved.write_text(url, encoding="utf-8")
    (folder / "pg-root.txt").write_text(root, encoding="utf-8")
    return url


def _photos(corpus: Path, n: int, offset: int) -> list[Image.Image]:
    files = bench_files(corpus)
    order = np.random.default_rng(SEED).permutation(len(files))
    chosen = [files[int(i)] for i in order[offset : offset + n]]
    return [Image.open(f).convert("RGB") for f in chosen]


def _pdq(rng: np.random.Generator) -> str:
    return rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex()


def _synthetic(pool: np.ndarray, rng: np.random.Generator) -> KeypointSet:
    rows = pool[rng.integers(0, len(pool), N_FEATURES)]
    flips = np.packbits(rng.random((N_FEATURES, 256)) < 40 / 256, axis=1)
    cells = rng.integers(0, GRID, (N_FEATURES, 2), dtype=np.uint8)
    return KeypointSet(LONG_SIDE, 480, cells, rows ^ flips)


def populate(args: argparse.Namespace) -> None:
    args.dir.mkdir(parents=True, exist_ok=True)
    settings = _settings(_url(args.db, args.dir), args.dir)
    db = Database.from_settings(settings)
    upgrade(db)
    svc = build_services(settings, db)
    store = EvidenceStore.from_settings(settings, db)
    with db.read() as session:
        _newest, have = record_counts(session)
    rng = np.random.default_rng(SEED + have)
    real = [extract_keypoints(p) for p in _photos(args.corpus, args.real, 0)]
    t0 = time.perf_counter()
    if have == 0:
        for kp in real:
            value = _pdq(rng)
            create_case(
                svc, [SignalIn(SignalType.PDQ, value, 90)], keypoints=[KeypointIn(kp, value)]
            )
        have = len(real)
    pool = np.concatenate([kp.descriptors for kp in real])
    while have < args.photos:
        n = min(PER_CASE, args.photos - have)
        value = _pdq(rng)  # one PDQ signal a case, named by its records: signals cost, not kept
        new = create_case(svc, [SignalIn(SignalType.PDQ, value, 90)])
        case_id = case_id_for_code(db, new.code)
        records = [KeypointIn(_synthetic(pool, rng), value) for _ in range(n)]
        with db.write() as (session, _head):
            store_records(session, store, case_id, records)
        have += n
        if have % 5000 < PER_CASE:
            print(f"{have:,} photos, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    db.dispose()


def _status() -> dict[str, int]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            out[name] = int(value.split()[0]) * 1024
    return out


def _bank_class(module: Path | None) -> Any:
    if module is None:
        from stopspread.services.keypoint_bank import KeypointBank

        return KeypointBank
    spec = importlib.util.spec_from_file_location("bank_under_test", module)
    assert spec is not None
    assert spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = loaded  # dataclasses look their module up
    spec.loader.exec_module(loaded)
    return loaded.KeypointBank


def _crop(photo: Image.Image) -> Image.Image:
    w, h = photo.size
    edited = photo.crop((int(w * 0.1), int(h * 0.1), int(w * 0.9), int(h * 0.9)))
    buf = io.BytesIO()
    edited.save(buf, "JPEG", quality=85)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values) * 1000, q))


def child(args: argparse.Namespace) -> None:
    settings = _settings(_url(args.db, args.dir), args.dir)
    db = Database.from_settings(settings)
    queries = [
        (hit, query_keypoint_sets(_crop(p)))
        for hit, offset in ((True, 0), (False, args.real))
        for p in _photos(args.corpus, args.real, offset)
    ]
    vocabulary = load_vocabulary()
    before = _status()

    def store() -> EvidenceStore:
        return EvidenceStore.from_settings(settings, db)

    bank = _bank_class(args.bank_module)(db, store, vocabulary).load()
    after = _status()
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)  # what the allocator still holds, handed back
    trimmed = _status()
    cpu, wall, hits = [], [], 0
    for _ in range(args.rounds):
        for hit, sets in queries:
            t0, c0 = time.perf_counter(), time.thread_time()
            found = bank.find(sets)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
            hits += hit and found is not None
    row = {
        "photos": len(bank),
        "load_s": round(bank.load_s, 2),
        "rss_before_mb": round(before["VmRSS"] / 2**20, 1),
        "rss_after_mb": round(after["VmRSS"] / 2**20, 1),
        "rss_trimmed_mb": round(trimmed["VmRSS"] / 2**20, 1),
        "peak_mb": round(after["VmHWM"] / 2**20, 1),
        "bank_kb_a_photo": round(
            (trimmed["VmRSS"] - before["VmRSS"]) / max(len(bank), 1) / 1024, 2
        ),
        "cpu_p50_ms": round(_pct(cpu, 50), 1),
        "cpu_p95_ms": round(_pct(cpu, 95), 1),
        "wall_p50_ms": round(_pct(wall, 50), 1),
        "wall_p95_ms": round(_pct(wall, 95), 1),
        "lookups": len(cpu),
        "hits": f"{hits}/{args.real * args.rounds}",
        "load_average": round(os.getloadavg()[0], 1),
    }
    print(json.dumps(row))
    db.dispose()


def measure(args: argparse.Namespace) -> None:
    argv = [sys.executable, __file__, "child", "--db", args.db, "--dir", str(args.dir)]
    argv += ["--corpus", str(args.corpus), "--real", str(args.real), "--rounds", str(args.rounds)]
    for module in [None, *(args.bank_module or [])]:
        extra = ["--bank-module", str(module)] if module else []
        done = subprocess.run(argv + extra, capture_output=True, text=True, check=False)
        print(f"{args.db} {module or 'package'}: {done.stdout.strip()}", flush=True)
        if done.returncode:
            print(done.stderr[-3000:], file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=("populate", "measure", "child"))
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--dir", type=Path, default=Path("bench/out/kpbank"))
    ap.add_argument("--corpus", type=Path, default=Path("corpus/dev"))
    ap.add_argument("--photos", type=int, default=20_000)
    ap.add_argument("--real", type=int, default=20, help="real photos enrolled (and as many not)")
    ap.add_argument("--rounds", type=int, default=2, help="times each query is looked up")
    ap.add_argument("--bank-module", type=Path, nargs="*", help="measure: other implementations")
    args = ap.parse_args()
    if args.mode == "populate":
        populate(args)
    elif args.mode == "measure":
        measure(args)
    else:
        args.bank_module = args.bank_module[0] if args.bank_module else None
        child(args)


if __name__ == "__main__":
    main()
