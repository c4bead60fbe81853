"""Issue 18: ``kill -9`` during a folder scan, then ``--resume``: every planted copy is
recorded exactly once, no sighting or evidence is lost or doubled, and the audit and
evidence hash chains verify, on SQLite and PostgreSQL.

A real ``stopspread scan batch`` process (the command a center runs; files hashed on a real
Dask scheduler and worker on 127.0.0.1) scans a local folder of planted copies among unrelated
images. After a random count of recorded batches (its progress lines) plus up to 30 ms, the
process group gets ``kill -9``; ``stopspread scan batch --resume SCAN_ID`` goes on, and is
killed again, ``KILLS`` times, until a last resume finishes the scan.
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from stopspread.services.scans import queue as scans
from stopspread.storage.models_scan import ScanItem, ScanRow, ScanStatus, Sighting, SourceKind
from stopspread.storage.models_worker import EvidenceRecord
from tests.conftest import make_services
from tests.scankit import edited_copies, enrol, original, shapes
from tests.security.serve_process import CLI, serve_env

DASK = str(Path(sys.executable).with_name("dask"))
KILLS = 3
BATCH_FILES = 2
_PROGRESS = re.compile(r"^scan (\d+): (\d+)/(\d+) files")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[str]:
    """``dask scheduler`` and one ``dask worker`` on loopback; the scheduler's address."""
    port = _free_port()
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    quiet = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    address = f"tcp://127.0.0.1:{port}"
    procs = [
        subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            **quiet,  # type: ignore[call-overload]
        ),
        subprocess.Popen(
            [DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1",
             "--local-directory", str(tmp_path / "dask"), "--no-dashboard"],
            **quiet,  # type: ignore[call-overload]
        ),
    ]  # fmt: skip
    try:
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _plant(folder: Path) -> tuple[set[str], int]:
    """Six planted copies of the two enrolled originals among 30 unrelated images and a text
    file; (the planted copies' URLs, files in all)."""
    planted = {
        "a/resized-1.jpg": edited_copies(1)["resized"],
        "b/flipped-1.jpg": edited_copies(1)["flipped"],
        "c/caption-1.jpg": edited_copies(1)["caption"],
        "a/resized-2.jpg": edited_copies(2)["resized"],
        "b/flipped-2.jpg": edited_copies(2)["flipped"],
        "exact-1.png": original(1),  # the very bytes: an MD5 hit
    }
    unrelated = {f"{'abc'[seed % 3]}/shapes-{seed}.jpg": shapes(seed) for seed in range(100, 130)}
    files = {**planted, **unrelated, "notes.txt": b"not media"}
    for name, body in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(body)
    return {(folder / name).resolve().as_uri() for name in planted}, len(files)


def _scan_until_killed(
    env: dict[str, str], args: list[str], kill_after: int, rng: random.Random
) -> tuple[int | None, bool]:
    """Run ``stopspread scan batch ARGS``; ``kill -9`` its process group after ``kill_after``
    progress lines (and up to 30 ms). (The scan id, whether it was killed.)"""
    proc = subprocess.Popen(
        [CLI, "scan", "batch", *args, "--batch-files", str(BATCH_FILES)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the kill takes every thread and child
    )
    assert proc.stderr is not None
    scan_id, lines = None, 0
    for line in proc.stderr:
        found = _PROGRESS.match(line)
        if found:
            scan_id, lines = int(found.group(1)), lines + 1
            if lines >= kill_after:
                time.sleep(rng.uniform(0, 0.03))
                os.killpg(proc.pid, signal.SIGKILL)
                break
    proc.stderr.close()
    code = proc.wait(timeout=120)
    assert code in (0, -signal.SIGKILL), f"scan batch exited {code}"
    return scan_id, code == -signal.SIGKILL


def _verified(env: dict[str, str], *command: str) -> bool:
    done = subprocess.run([CLI, *command], env=env, capture_output=True, text=True, timeout=120)
    return done.returncode == 0


def test_kill_9_mid_scan_then_resume_records_every_copy_once(
    database_url: str, tmp_path: Path, scheduler: str
) -> None:
    svc = make_services(database_url, tmp_path)
    _code, case_id = enrol(svc, [original(1), original(2)], [])
    planted, files = _plant(tmp_path / "store")
    source = scans.add_source(
        svc.db, case_id, SourceKind.FOLDER, {"path": str(tmp_path / "store")}, created_by="t"
    )
    svc.db.dispose()
    env = serve_env(database_url, tmp_path)
    rng, batches = random.Random(18), -(-files // BATCH_FILES)
    scan_id, killed = _scan_until_killed(
        env, [str(source), "--scheduler", scheduler], rng.randint(1, batches // 3), rng
    )
    assert scan_id is not None and killed
    kills = 1
    while kills < KILLS:
        _id, killed = _scan_until_killed(
            env, ["--resume", str(scan_id), "--scheduler", scheduler], rng.randint(1, 3), rng
        )
        kills += killed
        if not killed:
            break
    _id, killed = _scan_until_killed(
        env, ["--resume", str(scan_id), "--scheduler", scheduler], batches + 1, rng
    )
    assert not killed

    with svc.db.read() as session:
        sightings = session.execute(
            select(Sighting.media_url, Sighting.media_evidence_id).where(
                Sighting.case_id == case_id
            )
        ).all()
        row = session.get(ScanRow, scan_id)
        items = session.scalar(select(func.count()).select_from(ScanItem))
        evidence = session.scalar(
            select(func.count())
            .select_from(EvidenceRecord)
            .where(EvidenceRecord.case_id == case_id)
        )
    print(f"\nscan: {kills} kill -9, {files} files, {len(planted)} planted copies")
    assert row is not None and row.status is ScanStatus.DONE
    assert items == files  # every file recorded once
    assert sorted(url for url, _e in sightings) == sorted(planted)  # each copy once, no other
    assert len({e for _u, e in sightings}) == len(planted) == evidence  # one capture each
    assert (row.media_found, row.hits, row.new_sightings) == (files, len(planted), len(planted))
    assert _verified(env, "audit", "verify")
    assert _verified(env, "evidence", "verify")
    svc.db.dispose()
