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
    base.mkdir()
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
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="stopspread-batch-") as tmp:
        work = Path(tmp)
        folder = work / "store"
        planted = make_folder(folder, args.images)
        results = {}
        for workers in (1, 2):
            elapsed, found = run(workers, work, folder, args.batch_files)
            results[workers] = elapsed
            rate = args.images / elapsed
            print(
                f"{workers} worker(s): {args.images} images in {elapsed:.1f} s = {rate:.1f} "
                f"images/s ({rate / workers:.1f} per core); sightings {found}/{planted}; "
                f"load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )
        print(f"speed-up 2 vs 1 worker: {results[1] / results[2]:.2f}x", flush=True)


if __name__ == "__main__":
    main()
