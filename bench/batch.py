"""Batch scans on Dask: 1 worker vs 2 workers on this machine, images/s per core.

Run by hand (``.venv/bin/python bench/batch.py --images 400``). A folder of synthetic
images (unrelated shapes, a few planted copies of enrolled synthetic originals) is scanned
with ``run_batch_scan`` on a LocalCluster of 1, then 2 worker processes (one thread each);
the time is from the first batch submitted to the last one recorded (the cluster's start is
not counted). Nothing here is a real photograph.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import make_services  # noqa: E402
from tests.scankit import edited_copies, enrol, original, shapes  # noqa: E402


def make_folder(folder: Path, n: int) -> int:
    folder.mkdir(parents=True)
    planted = {f"copy-{seed}.jpg": edited_copies(seed)["resized"] for seed in (1, 2)}
    for name, body in planted.items():
        (folder / name).write_bytes(body)
    for i in range(n - len(planted)):
        (folder / f"{i // 100:03d}" / f"img-{i}.jpg").parent.mkdir(exist_ok=True)
        (folder / f"{i // 100:03d}" / f"img-{i}.jpg").write_bytes(shapes(1000 + i % 200))
    return len(planted)


def run(workers: int, work: Path, folder: Path, batch_files: int) -> tuple[float, int]:
    from distributed import Client, LocalCluster

    from stopspread.scale.cluster import run_batch_scan
    from stopspread.services.scans import queue as scans
    from stopspread.services.scans.queue import ScanDeps
    from stopspread.storage.models_scan import SourceKind

    base = work / f"w{workers}"
    base.mkdir(parents=True)
    svc = make_services(f"sqlite:///{base / 'bench.db'}", base)
    _code, case_id = enrol(svc, [original(1), original(2)], [])
    source = scans.add_source(
        svc.db, case_id, SourceKind.FOLDER, {"path": str(folder)}, created_by="bench"
    )
    deps = ScanDeps.build(svc.settings, svc.db)
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(workers)
        t0 = time.perf_counter()
        scan_id, _status = run_batch_scan(deps, client, source_id=source, batch_files=batch_files)
        elapsed = time.perf_counter() - t0
    view = scans.scan_view(svc.db, scan_id)
    svc.db.dispose()
    return elapsed, view.counts["new_sightings"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--batch-files", type=int, default=16)
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating 1- and 2-worker runs; medians reported"
    )
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="stopspread-batch-") as tmp:
        work = Path(tmp)
        folder = work / "store"
        planted = make_folder(folder, args.images)
        # A first scan pays one-off costs (imports, page cache of the folder): not counted.
        warm, _found = run(1, work / "warm-up", folder, args.batch_files)
        print(f"warm-up (not counted): 1 worker, {warm:.1f} s", flush=True)
        times: dict[int, list[float]] = {1: [], 2: []}
        for round_no in range(args.rounds):
            order = (1, 2) if round_no % 2 == 0 else (2, 1)
            for workers in order:
                elapsed, found = run(workers, work / f"r{round_no}", folder, args.batch_files)
                times[workers].append(elapsed)
                rate = args.images / elapsed
                print(
                    f"round {round_no + 1}, {workers} worker(s): {args.images} images in "
                    f"{elapsed:.1f} s = {rate:.1f} images/s ({rate / workers:.1f} per core); "
                    f"sightings {found}/{planted}; load average {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
        one, two = statistics.median(times[1]), statistics.median(times[2])
        # The machine drifts (page cache, other work): each round's own 1-vs-2 ratio is the
        # paired comparison; their median is the headline.
        ratios = [a / b for a, b in zip(times[1], times[2], strict=True)]
        print(
            f"median: 1 worker {args.images / one:.1f} images/s, 2 workers "
            f"{args.images / two:.1f} images/s ({args.images / two / 2:.1f} per core)\n"
            f"speed-up 2 vs 1 worker per round: {', '.join(f'{r:.2f}x' for r in ratios)}; "
            f"median {statistics.median(ratios):.2f}x (target >= 1.8x)",
            flush=True,
        )


if __name__ == "__main__":
    main()
