"""Batch scans on a real Dask cluster: a scheduler and two workers on 127.0.0.1.

The client dies mid-scan (the scan is resumed), then a worker is killed mid-scan: every
planted copy is found exactly once and every file is recorded exactly once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from stopspread.scale.cluster import BatchProgress, run_batch_scan
from stopspread.services.context import Services
from stopspread.services.scans import queue as scans
from stopspread.services.scans.queue import ScanDeps
from stopspread.storage.models_scan import ScanItem, ScanRow, ScanStatus, Sighting, SourceKind
from tests.conftest import make_services
from tests.scankit import edited_copies, enrol, original, shapes

DASK = str(Path(sys.executable).parent / "dask")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """``dask scheduler`` and two ``dask worker`` processes (no nanny: a killed one stays
    dead), all on loopback."""
    address = f"tcp://127.0.0.1:{_free_port()}"
    common = ["--no-dashboard"]
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs = [
        subprocess.Popen(
            [
                DASK,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                address.rsplit(":", 1)[1],
                *common,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    for i in range(2):
        procs.append(
            subprocess.Popen(
                [
                    DASK,
                    "worker",
                    address,
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--host",
                    "127.0.0.1",
                    "--name",
                    f"w{i}",
                    "--local-directory",
                    str(tmp_path / f"w{i}"),
                    *common,
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    try:
        yield address, procs[1:]
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class ClientDiedError(Exception):
    pass


def _plant(folder: Path) -> set[str]:
    """Four planted copies of the enrolled originals among twelve unrelated images."""
    folder.mkdir()
    planted = {
        "a/resized.jpg": edited_copies(1)["resized"],
        "b/flipped.jpg": edited_copies(2)["flipped"],
        "c/resized.jpg": edited_copies(2)["resized"],
        "exact.png": original(1),  # the very bytes: an MD5 hit
    }
    unrelated = {f"{'abc'[seed % 3]}/shapes-{seed}.jpg": shapes(seed) for seed in range(100, 112)}
    for name, body in {**planted, **unrelated}.items():
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_bytes(body)
    (folder / "notes.txt").write_text("not media")
    return {(folder / name).resolve().as_uri() for name in planted}


def test_kill_the_client_and_a_worker_mid_scan(
    cluster: tuple[str, list[subprocess.Popen[bytes]]], sqlite_url: str, tmp_path: Path
) -> None:
    from distributed import Client

    address, workers = cluster
    svc: Services = make_services(sqlite_url, tmp_path)
    _code, case_id = enrol(svc, [original(1), original(2)], [])
    planted = _plant(tmp_path / "store")
    deps = ScanDeps.build(svc.settings, svc.db)
    source = scans.add_source(
        svc.db, case_id, SourceKind.FOLDER, {"path": str(tmp_path / "store")}, created_by="t"
    )

    def die_after_two(p: BatchProgress) -> None:
        if p.batches_done == 2:
            raise ClientDiedError

    def kill_a_worker(p: BatchProgress) -> None:
        if p.batches_done == 1:
            workers[0].send_signal(signal.SIGKILL)

    with Client(address, timeout=60) as client:
        client.wait_for_workers(2, timeout=120)
        with pytest.raises(ClientDiedError):
            run_batch_scan(deps, client, source_id=source, batch_files=2, on_progress=die_after_two)
        with svc.db.read() as session:
            [scan_id] = session.scalars(select(ScanRow.id))
            assert session.scalar(select(func.count()).select_from(ScanItem)) == 4
        _id, status = run_batch_scan(
            deps, client, resume=scan_id, batch_files=2, on_progress=kill_a_worker
        )
    assert status is ScanStatus.DONE
    assert workers[0].wait(timeout=10) == -signal.SIGKILL
    with svc.db.read() as session:
        found = session.scalars(select(Sighting.media_url).where(Sighting.case_id == case_id)).all()
        row = session.get(ScanRow, scan_id)
        items = session.scalar(select(func.count()).select_from(ScanItem))
    assert row is not None and items == 17  # every file recorded once
    assert (row.media_found, row.media_hashed, row.skipped, row.errors) == (17, 16, 1, 0)
    assert sorted(found) == sorted(planted)  # each planted copy once, nothing else
    assert (row.hits, row.new_sightings) == (4, 4)
    svc.db.dispose()
