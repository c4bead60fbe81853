"""A background thread that keeps this process's index and client list current."""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.exc import SQLAlchemyError

from stopspread.services.keypoint_bank import KeypointBank
from stopspread.services.platform import ClientDirectory
from stopspread.services.probing import ProbeDetector
from stopspread.services.replica import IndexReplica

__all__ = ["Poller"]

log = logging.getLogger("stopspread.poller")


class Poller:
    """Every ``interval_s``: apply the change log to the index (and keypoint records to the
    keypoint bank), reload the API clients and the signals under attack (``detector``)."""

    def __init__(
        self,
        replica: IndexReplica,
        clients: ClientDirectory,
        interval_s: float,
        keypoints: KeypointBank | None = None,
        detector: ProbeDetector | None = None,
    ) -> None:
        self._replica, self._clients, self._interval = replica, clients, interval_s
        self._detector = detector  # another process's (or a restart's) blurred edges, alarms
        self._keypoints = keypoints  # ss-kp-1 enrolments and withdrawals, on the same clock
        self._stop = threading.Event()
        self.last_ok = time.monotonic()  # when the change log was last applied without error
        self._thread = threading.Thread(target=self._run, name="stopspread-poller", daemon=True)

    def behind_s(self) -> float:
        """Seconds since the change log was last applied (0 right after a successful poll)."""
        return time.monotonic() - self.last_ok

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def poll_once(self) -> None:
        while self._replica.sync():  # drain a backlog before sleeping
            pass
        if self._keypoints is not None:
            self._keypoints.sync()
        self._clients.refresh()
        if self._detector is not None:
            self._detector.reload()
        self.last_ok = time.monotonic()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.poll_once()
            except SQLAlchemyError as exc:  # the database is away: keep serving, retry
                log.warning("index poll failed: %s", type(exc).__name__)
            except Exception as exc:  # a dead poller would leave withdrawn hashes matching
                log.error("index poll failed unexpectedly: %s", type(exc).__name__)
