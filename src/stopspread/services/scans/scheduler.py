"""The scan scheduler: a background thread of the web app that runs due and queued scans.

Every ``scan_scheduler_interval_s`` (or at once when :meth:`ScanScheduler.wake` is called,
e.g. after a worker pressed "scan now") it queues the scans of scheduled sources that are
due, then claims queued scans one by one and runs them. Claims are conditional updates, so
several processes (``STOPSPREAD_WORKERS``, a cron ``stopspread scan run-due``) can run
schedulers side by side without running a scan twice. On shutdown the running scan stops at
its next progress write and is marked cancelled.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError

from stopspread.errors import StopSpreadError
from stopspread.services.scans import queue as scans
from stopspread.services.scans.run import ScanDeps, run_claimed

__all__ = ["ScanScheduler"]

log = logging.getLogger("stopspread.scans")


class ScanScheduler:
    def __init__(self, deps: ScanDeps, interval_s: float) -> None:
        self._deps = deps
        self._interval = interval_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="scan-scheduler", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look for work now (a scan was queued)."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except (StopSpreadError, SQLAlchemyError, OSError) as exc:
                log.warning("scan scheduler: %s", type(exc).__name__)
            self._wake.wait(self._interval)
            self._wake.clear()

    def tick(self) -> int:
        """Queue what is due and run every queued scan; the number of scans run."""
        db = self._deps.db
        scans.fail_abandoned(db)
        scans.queue_due(db)
        who = scans.worker_name()
        ran = 0
        while not self._stop.is_set() and (scan_id := scans.claim_next(db, who)) is not None:
            run_claimed(self._deps, scan_id, stop=self._stop)
            ran += 1
        return ran
