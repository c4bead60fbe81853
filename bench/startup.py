"""Start-up: N hashes in the database → ready to match, from the database vs from a snapshot.

Run by hand (``.venv/bin/python bench/startup.py --signals 1000000 --db sqlite postgresql``).
For each database (SQLite in a temporary folder; PostgreSQL in a throwaway cluster started
as the test suite does, or ``--pg-url``):

1. ``--signals`` random PDQ hashes are inserted, then 1 % of them are withdrawn/added after
   the snapshot (the change log a restart replays);
2. a fresh process loads the index from the database (today's start-up) and writes a snapshot;
3. a fresh process starts from the snapshot (memory-mapped, CRC-checked, change log replayed)
   — the time to ready, its resident memory — and then a second one does the same while the
   first still runs: what the second adds is its private (unshared) resident memory, the
   mapped index pages being shared through the page cache.

Each child prints one JSON line; times are wall-clock seconds from the start of ``load``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent


def _mem(pid: int | str = "self") -> dict[str, float]:
    """Resident and private (unshared) memory of a process, MB, from smaps_rollup."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) / 1024
    return {
        "rss_mb": fields["Rss"],
        "private_mb": fields["Private_Clean"] + fields["Private_Dirty"],
        "shared_mb": fields["Shared_Clean"] + fields["Shared_Dirty"],
    }


def _settings(url: str, workdir: Path, n: int = 1000) -> Any:
    """The bench's settings: hash values sealed with a key file in ``workdir``, as served."""
    from stopspread.config import Settings

    return Settings(
        database_url=url,
        data_dir=workdir,
        argon2_memory_kib=1024,
        max_signals_per_request=max(1000, n),  # 0.1 % of a 10 M bank is one 10,000-hash case
        enrol_signals_per_address_per_hour=max(5000, 2 * n),
        enrol_signals_per_hour=max(100_000, 2 * n),
    )


def child(mode: str, url: str, snapdir: str) -> None:
    """One service process's start-up: load the index, print a JSON line, wait for stdin."""
    from stopspread.config import IndexKind
    from stopspread.matching.policy import DEFAULT_POLICY
    from stopspread.services.replica import IndexReplica
    from stopspread.services.signal_input import parse_signal
    from stopspread.services.snapshots import SnapshotStore, SnapshotWriter
    from stopspread.storage import Database

    db = Database.from_settings(_settings(url, Path(snapdir).parent))  # sealed, as served
    replica = IndexReplica(db, IndexKind.MIH, DEFAULT_POLICY)
    quality = DEFAULT_POLICY.pdq.min_enrolled_quality
    store = SnapshotStore(Path(snapdir), quality, replica.cloak_id)  # as served
    t0 = time.perf_counter()
    replica.load(store if mode == "snapshot" else None)
    replica.lookup(parse_signal("pdq", "00" * 32))  # ready to match: one query answered
    ready_s = time.perf_counter() - t0
    out: dict[str, object] = {"mode": mode, "ready_s": round(ready_s, 2), "source": replica.source}
    out["signals"] = len(replica)
    out.update({k: round(v) for k, v in _mem().items()})
    if mode == "write":
        t1 = time.perf_counter()
        SnapshotWriter(store, replica.capture, 600.0).write_once()
        out["write_s"] = round(time.perf_counter() - t1, 2)
    print(json.dumps(out), flush=True)
    sys.stdin.readline()  # stay alive (mapped) until the parent has measured the others
    db.dispose()


def populate(url: str, n: int, workdir: Path) -> None:
    """A first case through the services, then ``n - 1`` random hashes bulk-loaded in its bank
    (bench/bulk_signals.py: the rows the storage code writes, by COPY / executemany)."""
    from stopspread.services import cases
    from stopspread.services.context import build_services
    from stopspread.services.signal_input import parse_signal
    from stopspread.storage import Database, upgrade
    from stopspread.storage.models import Bank

    sys.path.insert(0, str(ROOT))
    from bench.bulk_signals import insert_signals

    settings = _settings(url, workdir, n)
    db = Database.from_settings(settings)  # sealed as the server seals (bulk rows too)
    upgrade(db)
    svc = build_services(settings, db)
    rng = np.random.default_rng(2026)
    cases.create_case(svc, [parse_signal("pdq", rng.bytes(32).hex())])
    with db.read() as session:
        bank_id = session.scalars(select(Bank.id)).one()
    hashes = rng.integers(0, 256, (n - 1, 32), dtype=np.uint8)
    seconds = insert_signals(db, bank_id, hashes)
    print(f"  inserted {n:,} signals in {seconds:.0f} s (bulk load)", flush=True)
    db.dispose()


def changes_after_snapshot(url: str, n: int, workdir: Path) -> None:
    """Enrol two cases and withdraw one after the snapshot: the change log a start replays."""
    from stopspread.services import cases
    from stopspread.services.context import build_services
    from stopspread.services.signal_input import parse_signal
    from stopspread.storage import Database

    settings = _settings(url, workdir, n)
    db = Database.from_settings(settings)
    svc = build_services(settings, db)
    rng = np.random.default_rng(7)
    cases.create_case(svc, [parse_signal("pdq", rng.bytes(32).hex()) for _ in range(n)])
    gone = cases.create_case(svc, [parse_signal("pdq", rng.bytes(32).hex()) for _ in range(n)])
    cases.withdraw(svc, cases.authenticate(svc, gone.code, gone.secret, "bench"))
    db.dispose()


def spawn(mode: str, url: str, snapdir: str) -> tuple[subprocess.Popen[str], dict[str, object]]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", mode, url, snapdir],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"child {mode} exited")
    return proc, json.loads(line)


def release(*procs: subprocess.Popen[str]) -> None:
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("\n")
        proc.stdin.flush()
        proc.wait()


def bench_one(kind: str, url: str, n: int, workdir: Path) -> None:
    print(f"{kind}: {n:,} hashes", flush=True)
    populate(url, n, workdir)
    snapdir = str(workdir / f"snap-{kind}")
    proc, db_run = spawn("write", url, snapdir)
    release(proc)
    print(f"  from the database: ready in {db_run['ready_s']} s, RSS {db_run['rss_mb']} MB; "
          f"snapshot written in {db_run['write_s']} s", flush=True)  # fmt: skip
    changes_after_snapshot(url, max(1, n // 1000), workdir)
    subprocess.run(["sync"], check=False)
    first, one = spawn("snapshot", url, snapdir)
    second, two = spawn("snapshot", url, snapdir)
    mem_one = _mem(first.pid)
    release(first, second)
    print(
        f"  from the snapshot: ready in {one['ready_s']} s (first process, {one['source']}), "
        f"{two['ready_s']} s (second); signals {two['signals']:,}\n"
        f"  first process: RSS {mem_one['rss_mb']:.0f} MB; second process: RSS "
        f"{two['rss_mb']} MB, of it private {two['private_mb']} MB (what it adds), "
        f"shared {two['shared_mb']} MB",
        flush=True,
    )
    base = Path(snapdir)
    size = sum(p.stat().st_size for p in base.glob("*.ssmih")) / 2**20
    print(f"  snapshot file: {size:.0f} MB ({size * 2**20 / n:.0f} bytes per hash)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=10_000_000)
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--pg-url", default=None, help="an empty PostgreSQL database to use")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "URL", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory(prefix="stopspread-startup-") as tmp:
        work = Path(tmp)
        for kind in args.db:
            if kind == "sqlite":
                bench_one(kind, f"sqlite:///{work / 'bench.db'}", args.signals, work)
            elif args.pg_url:
                bench_one(kind, args.pg_url, args.signals, work)
            else:
                sys.path.insert(0, str(ROOT))
                from tests.pg import _start_local

                cluster, root = _start_local()
                try:
                    bench_one(kind, cluster.new_database(), args.signals, work)
                finally:
                    cluster.close()
                    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
