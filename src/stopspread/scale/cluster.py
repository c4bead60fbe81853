"""Batch scans on Dask: files partitioned, hashed and matched on workers, recorded here.

``run_batch_scan`` drives one scan of a folder source (``services.scans.batch``) on a Dask
cluster — a scheduler's address (``tcp://host:8786``), or a :class:`LocalCluster` on this
machine when none is given:

1. the files not yet recorded for the scan are listed and cut into batches;
2. the case's matcher (its signals as arrays) is scattered once to every worker
   (``broadcast=True``), so each task carries only its file paths;
3. at most ``2 x threads`` batches are in flight; each result is recorded as it comes back
   (evidence, sightings, file rows, counters in one transaction), then the next batch is
   submitted — a bank of a million files never sits in the scheduler at once.

A worker that dies takes its running batches with it; the scheduler runs them again on
another worker (their results were never recorded). If this process dies, the scan is
resumed with its id: the recorded files are skipped.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from stopspread.services.scans.batch import (
    DEFAULT_BATCH_FILES,
    BatchScan,
    finish,
    hash_batch,
    list_files,
    matcher_for,
    record_batch,
    resume_scan,
    start_scan,
)
from stopspread.services.scans.run import ScanDeps
from stopspread.storage.models_scan import ScanStatus

__all__ = ["IN_FLIGHT_PER_THREAD", "BatchProgress", "dask_client", "run_batch_scan"]

log = logging.getLogger("stopspread.scale")

IN_FLIGHT_PER_THREAD: Final = 2  # batches queued per worker thread: busy, never flooded


@dataclass(slots=True)
class BatchProgress:
    """Where a batch scan stands, passed to the progress hook after every batch."""

    scan_id: int
    files_total: int  # files this run set out to do (recorded ones excluded)
    files_done: int = 0
    batches_done: int = 0
    hits: int = 0


@contextlib.contextmanager
def dask_client(scheduler: str | None, workers: int | None = None) -> Iterator[Any]:
    """A client of the scheduler at ``scheduler``, else of a local cluster (processes)."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _threads(client: Any) -> int:
    info = client.scheduler_info()
    return max(1, sum(int(w.get("nthreads", 1)) for w in info["workers"].values()))


def run_batch_scan(
    deps: ScanDeps,
    client: Any,
    *,
    source_id: int | None = None,
    resume: int | None = None,
    batch_files: int = DEFAULT_BATCH_FILES,
    on_progress: Callable[[BatchProgress], None] | None = None,
) -> tuple[int, ScanStatus]:
    """Scan a folder source (or resume scan ``resume``) on the cluster; (scan id, status)."""
    from distributed import as_completed

    if (source_id is None) == (resume is None):
        raise ValueError("give a source id or a scan id to resume, not both")
    scan = start_scan(deps, source_id) if source_id is not None else resume_scan(deps, resume or 0)
    paths = list_files(deps, scan)
    batches = [paths[i : i + batch_files] for i in range(0, len(paths), batch_files)]
    progress = BatchProgress(scan.scan_id, len(paths))
    log.info("batch scan %d: %d files in %d batches", scan.scan_id, len(paths), len(batches))
    matcher = client.scatter(matcher_for(deps, scan), broadcast=True)
    max_bytes = deps.settings.fetch_max_bytes
    pending = iter(batches)

    def submit() -> Any | None:
        batch = next(pending, None)
        if batch is None:
            return None
        return client.submit(hash_batch, matcher, scan.path, batch, max_bytes, pure=False)

    first = [submit() for _ in range(IN_FLIGHT_PER_THREAD * _threads(client))]
    queue = as_completed([f for f in first if f is not None])
    status = ScanStatus.DONE
    for future in queue:
        results = future.result()
        if not record_batch(deps, scan, results):
            status = ScanStatus.CANCELLED
            break
        progress.files_done += len(results)
        progress.batches_done += 1
        progress.hits += sum(1 for r in results if r.hit is not None)
        if on_progress is not None:
            on_progress(progress)
        nxt = submit()
        if nxt is not None:
            queue.add(nxt)
    if status is ScanStatus.CANCELLED:
        client.cancel(list(queue.futures))
    _finished(deps, scan, status)
    return scan.scan_id, status


def _finished(deps: ScanDeps, scan: BatchScan, status: ScanStatus) -> None:
    counts = finish(deps, scan, status)
    log.info("batch scan %d %s: %s", scan.scan_id, status.value, counts)
