"""Index snapshots of the service: which change-log position they hold, where they live.

A snapshot is two files in ``index_snapshot_dir``, named by the change-log sequence number
they include::

    index-000000123456.ssmih   the PDQ index (matching/snapshot.py: header + raw arrays, mmap)
    index-000000123456.json    {"format": 1, "seq": 123456, "pdq": n, "md5": [[id, hex], ...],
                                "ssmih_bytes": size, "min_enrolled_quality": 70}

The replica holds only the signals its match policy lets match (enrolled quality), so a
snapshot records the floor it was written under and one of another floor is not loaded.

The JSON file is written last, so its presence marks a complete snapshot. At start-up a
replica takes the newest snapshot that loads and checks out (every array's CRC-32, the
sizes, a change-log position the database has reached), memory-maps it and replays the
change log from that position; any failure is logged with its reason and the replica falls
back to an older snapshot, then to a rebuild from the database. Processes on one host that
map the same file share its pages in the OS page cache.

One process per host writes (whoever holds ``writer.lock``), in a background thread, every
``index_snapshot_interval_s`` when the index changed; the two newest snapshots are kept.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from stopspread.errors import IndexFormatError
from stopspread.matching import MihIndex
from stopspread.matching import snapshot as ssmih

__all__ = ["KEEP_SNAPSHOTS", "LoadedSnapshot", "SnapshotStore", "SnapshotWriter"]

log = logging.getLogger("stopspread.snapshots")

SIDECAR_FORMAT: Final = 1
KEEP_SNAPSHOTS: Final = 2  # the newest and one before it (a reader may still map the older)
FIRST_WRITE_DELAY_S: Final = 5.0  # after a rebuild from the database, write one soon
_NAME: Final = re.compile(r"^index-(\d{12})\.json$")


@dataclass(frozen=True, slots=True)
class LoadedSnapshot:
    """A snapshot read back: the mapped PDQ index, the MD5 signals, its change position."""

    seq: int
    index: MihIndex
    md5: list[tuple[int, str]]
    path: Path


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SnapshotStore:
    """The snapshot files in one directory."""

    def __init__(self, directory: Path, min_enrolled_quality: int | None = None) -> None:
        self.dir = directory
        self.min_enrolled_quality = min_enrolled_quality  # the policy's floor (None: untagged)

    def _paths(self, seq: int) -> tuple[Path, Path]:
        stem = f"index-{seq:012d}"
        return self.dir / f"{stem}.ssmih", self.dir / f"{stem}.json"

    def sequences(self) -> list[int]:
        """Change positions of the complete snapshots here, newest first."""
        if not self.dir.is_dir():
            return []
        found = (_NAME.match(p.name) for p in self.dir.iterdir())
        return sorted((int(m.group(1)) for m in found if m), reverse=True)

    def write(self, index: MihIndex, md5: list[tuple[int, str]], seq: int) -> Path:
        """Write a snapshot of ``index`` + ``md5`` at change position ``seq``; returns it."""
        self.dir.mkdir(parents=True, exist_ok=True)
        data, meta = self._paths(seq)
        ssmih.save(index, data)
        sidecar = {
            "format": SIDECAR_FORMAT,
            "seq": seq,
            "pdq": len(index),
            "md5": [[sid, value] for sid, value in md5],
            "ssmih_bytes": data.stat().st_size,
            "min_enrolled_quality": self.min_enrolled_quality,
        }
        tmp = meta.with_name(meta.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            json.dump(sidecar, f, separators=(",", ":"))
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(meta)
        _fsync_dir(self.dir)
        return meta

    def load(self, seq: int, *, db_seq: int) -> LoadedSnapshot:
        """Load and check one snapshot; raises :class:`IndexFormatError` saying why not."""
        data, meta = self._paths(seq)
        try:
            sidecar: Any = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise IndexFormatError(f"sidecar unreadable ({type(exc).__name__})") from None
        if not isinstance(sidecar, dict) or sidecar.get("format") != SIDECAR_FORMAT:
            raise IndexFormatError("sidecar is malformed or of another format")
        if sidecar.get("seq") != seq:
            raise IndexFormatError("sidecar names another change position than its file")
        if sidecar.get("min_enrolled_quality") != self.min_enrolled_quality:
            raise IndexFormatError("written under another enrolled quality floor (match policy)")
        if seq > db_seq:
            raise IndexFormatError(
                f"stale: it holds change {seq} but the database is at {db_seq} "
                "(restored or another database)"
            )
        try:
            size = data.stat().st_size
        except OSError:
            raise IndexFormatError("index file missing") from None
        if size != sidecar.get("ssmih_bytes"):
            raise IndexFormatError("index file has another size than when written")
        index = ssmih.load(data, use_mmap=True, verify=True)
        if len(index) != sidecar.get("pdq"):
            raise IndexFormatError("index holds another number of hashes than when written")
        md5 = sidecar.get("md5")
        if not isinstance(md5, list) or not all(
            isinstance(p, list) and len(p) == 2 and isinstance(p[0], int) and isinstance(p[1], str)
            for p in md5
        ):
            raise IndexFormatError("sidecar MD5 list is malformed")
        return LoadedSnapshot(seq, index, [(p[0], p[1]) for p in md5], data)

    def prune(self, keep: int = KEEP_SNAPSHOTS) -> None:
        """Delete all but the ``keep`` newest snapshots (mapped copies stay readable)."""
        for seq in self.sequences()[keep:]:
            data, meta = self._paths(seq)
            meta.unlink(missing_ok=True)  # first: the snapshot stops being complete
            data.unlink(missing_ok=True)


class SnapshotWriter:
    """A background thread writing the replica's index when it changed, one writer per host.

    ``capture`` returns (index, md5 pairs, change position) taken consistently.
    """

    def __init__(
        self,
        store: SnapshotStore,
        capture: Callable[[], tuple[MihIndex, list[tuple[int, str]], int]],
        interval_s: float,
        *,
        first_delay_s: float | None = None,
    ) -> None:
        self._store, self._capture, self._interval = store, capture, interval_s
        self._first = interval_s if first_delay_s is None else first_delay_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stopspread-snapshots", daemon=True)
        self.written_seq = max(store.sequences(), default=-1)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def write_once(self) -> Path | None:
        """Write a snapshot if the index moved on and no other process is writing."""
        index, md5, seq = self._capture()
        if seq <= self.written_seq:
            return None
        self._store.dir.mkdir(parents=True, exist_ok=True)
        with (self._store.dir / "writer.lock").open("a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None  # another process on this host is writing
            if seq <= max(self._store.sequences(), default=-1):
                self.written_seq = seq
                return None  # another process wrote this position already
            path = self._store.write(index, md5, seq)
            self._store.prune()
        self.written_seq = seq
        log.info("index snapshot written at change %d (%d PDQ hashes)", seq, len(index))
        return path

    def _run(self) -> None:
        wait = self._first
        while not self._stop.wait(wait):
            wait = self._interval
            try:
                self.write_once()
            except (OSError, IndexFormatError) as exc:
                log.warning("index snapshot not written: %s", exc)
            except Exception as exc:  # never let the thread die silently
                log.error("index snapshot failed unexpectedly: %s", type(exc).__name__)
