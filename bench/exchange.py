"""The StopNCII-compatible feed at scale (run by hand): a full fetch of 1 M records and an
incremental fetch of 1,000 changes, beside listing the same rows from the database directly.

A fresh SQLite database gets ``--records`` random PDQ hashes (quality 90) in cases of 100,
each with its feed record; the server runs in its own process on 127.0.0.1. The client
follows ``nextPageToken`` with ``--page-size`` records a page, keeping every record in a dict
(as a consumer does): time, records/s, the client's and the server's peak memory. Then 10
cases (1,000 hashes) are withdrawn through the service and the consumer fetches from its
checkpoint: 1,000 tombstones. The anchor is the same rows read with SQLAlchemy in this process.

    .venv/bin/python bench/exchange.py [--records 1000000] [--page-size 800] [--client httpx|pytx]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).parent))
from api import _commit, free_port, start_server
from stopspread.config import Settings
from stopspread.services import cases
from stopspread.services.context import build_services
from stopspread.services.exchange import feed
from stopspread.services.platform import create_client
from stopspread.storage import Database, upgrade
from stopspread.storage.models import (
    Bank,
    Case,
    CaseStatus,
    Signal,
    SignalStatus,
    SignalType,
)
from stopspread.storage.models_exchange import FeedRecord

PER_CASE = 100
BATCH = 100_000
WITHDRAWN_CASES = 10  # x 100 hashes = the 1,000 changes of the incremental fetch


def populate(settings: Settings, n: int) -> str:
    """``n`` signals in cases of 100 with their feed records; returns a feed-allowed key."""
    db = Database.from_settings(settings)  # sealed, as the server opens it
    upgrade(db)
    rng = np.random.default_rng(2026)
    raw = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    now, ts = datetime.now(UTC), int(time.time()) - 60
    t0 = time.perf_counter()
    cases_n = (n + PER_CASE - 1) // PER_CASE
    with db.write() as (session, head):
        session.execute(insert(Case), [
            {"id": c + 1, "code": f"BENC-{c:08d}", "secret_hash": None,
             "status": CaseStatus.ACTIVE, "attempt_tokens": 5.0, "attempt_at": now,
             "signals_withdrawn": 0} for c in range(cases_n)
        ])  # fmt: skip
        session.execute(insert(Bank), [
            {"id": c + 1, "case_id": c + 1, "name": "case"} for c in range(cases_n)
        ])  # fmt: skip
        head.change_seq = n
    for start in range(0, n, BATCH):
        stop = min(start + BATCH, n)
        values = [raw[i].tobytes().hex() for i in range(start, stop)]
        with db.write() as (session, _head):
            session.execute(insert(Signal), [
                {"bank_id": i // PER_CASE + 1, "type": SignalType.PDQ, "value": v,
                 "quality": 90, "status": SignalStatus.ACTIVE, "match_count": 0,
                 "window_matches": 0} for i, v in zip(range(start, stop), values, strict=True)
            ])  # fmt: skip
            session.execute(insert(FeedRecord), [
                {"signal_type": "ImagePDQ", "value": v, "status": "Active", "seq": i + 1,
                 "modified_ts": ts} for i, v in zip(range(start, stop), values, strict=True)
            ])  # fmt: skip
    print(f"inserted {n:,} signals and feed records in {time.perf_counter() - t0:.1f} s")
    create_client(db, "bench")
    _client, key = create_client(db, "consumer")
    feed.allow(db, "consumer")
    db.dispose()
    return key


def fetch_all(base: str, key: str, start: int, page_size: int, client: str) -> dict[str, Any]:
    """Follow the pages to the end; returns the records kept and the timings."""
    held: dict[str, str] = {}
    pages, t0 = 0, time.perf_counter()
    checkpoint = start
    if client == "pytx":
        from threatexchange.exchanges.clients.stopncii.api import StopNCIIAPI

        api = StopNCIIAPI(key, key, base_url_override=f"{base}/v1")
        token = ""
        while True:
            page = api.fetch_hashes(page_size=page_size, start_timestamp=start, next_page=token)
            for r in page.hashRecords:
                held[r.hashValue] = r.hashStatus.value
            pages += 1
            checkpoint = page.nextSetTimestamp
            if not page.hasMoreRecords:
                break
            token = page.nextPageToken or ""
    else:
        headers = {"x-functions-key": key}
        with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
            params: dict[str, Any] = {"startTimestamp": start, "pageSize": page_size}
            while True:
                body = http.get("/v1/FetchHashes", params=params).json()
                for r in body["hashRecords"]:
                    held[r["hashValue"]] = r["hashStatus"]
                pages += 1
                checkpoint = body["nextSetTimestamp"]
                if not body["hasMoreRecords"]:
                    break
                params = {"pageSize": page_size, "nextPageToken": body["nextPageToken"]}
    return {"held": held, "pages": pages, "seconds": time.perf_counter() - t0,
            "checkpoint": checkpoint}  # fmt: skip


def list_directly(settings: Settings) -> float:
    """The anchor: the same rows (and their cases) read with SQLAlchemy, in this process."""
    db = Database.from_settings(settings)  # sealed, as the server opens it
    t0 = time.perf_counter()
    with db.read(snapshot=True) as session:
        rows = session.execute(
            select(FeedRecord.seq, FeedRecord.signal_type, FeedRecord.value, FeedRecord.status,
                   FeedRecord.modified_ts).order_by(FeedRecord.seq)
            .execution_options(yield_per=BATCH)
        )  # fmt: skip
        held = {r[2]: r[3] for r in rows}
        cases_of = session.execute(
            select(Signal.value, Bank.case_id).join(Bank, Bank.id == Signal.bank_id)
            .execution_options(yield_per=BATCH)
        )  # fmt: skip
        n_cases = sum(1 for _ in cases_of)
    seconds = time.perf_counter() - t0
    db.dispose()
    assert held
    assert n_cases
    return seconds


def rss_mib(pid: int | str = "self", field: str = "VmHWM") -> float:
    """VmHWM (peak) or VmRSS (now) of a process, in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def withdraw_some(settings: Settings) -> float:
    """Withdraw 10 cases through the service (1,000 tombstones); returns the seconds taken."""
    db = Database.from_settings(settings)  # sealed, as the server opens it
    svc = build_services(settings, db)
    t0 = time.perf_counter()
    for case_id in range(1, WITHDRAWN_CASES + 1):
        cases.withdraw(svc, case_id)
    seconds = time.perf_counter() - t0
    db.dispose()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--page-size", type=int, default=feed.DEFAULT_PAGE_SIZE)
    parser.add_argument("--client", choices=["httpx", "pytx"], default="httpx")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "exchange.txt"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="stopspread-bench-exchange-"))
    settings = Settings(data_dir=workdir, argon2_memory_kib=1024)
    env = {
        **os.environ,
        "STOPSPREAD_DATA_DIR": str(workdir),
        "STOPSPREAD_LOG_LEVEL": "warning",
        "STOPSPREAD_CLIENT_RATE_PER_S": "1e9",
        "STOPSPREAD_CLIENT_BURST": "1000000000",
        "STOPSPREAD_SCAN_SCHEDULER_INTERVAL_S": "0",
        "STOPSPREAD_TAKEDOWN_CHECK_INTERVAL_S": "0",
    }
    env.pop("STOPSPREAD_DATABASE_URL", None)
    key = populate(settings, args.records)
    direct = list_directly(settings)
    port = free_port()
    proc = start_server(env, port, args.records)
    base = f"http://127.0.0.1:{port}"
    try:
        # populating set this process's peak already: measure what the fetch holds instead
        rss0 = rss_mib(field="VmRSS")
        full = fetch_all(base, key, 10, args.page_size, args.client)
        assert len(full["held"]) == args.records, len(full["held"])
        client_held = rss_mib(field="VmRSS") - rss0
        server_peak = rss_mib(proc.pid)
        time.sleep(1.1)  # the changes get a newer second than the checkpoint
        withdraw_s = withdraw_some(settings)
        inc = fetch_all(base, key, full["checkpoint"] + 1, args.page_size, args.client)
        tombstones = sum(1 for s in inc["held"].values() if s == "Withdrawn")
        assert tombstones == WITHDRAWN_CASES * PER_CASE, tombstones
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    n = args.records
    lines = [
        f"# bench/exchange.py  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  {platform.node()}  "
        f"{os.cpu_count()} cores  python {platform.python_version()}  code {_commit()}",
        "# shared machine: other jobs may run at the same time; numbers are noisy"
        f" (load average now {os.getloadavg()[0]:.1f})",
        f"records={n:,} page_size={args.page_size} client={args.client} database=sqlite",
        f"full fetch: {full['seconds']:.1f} s, {n / full['seconds']:,.0f} records/s, "
        f"{full['pages']} pages, client +{client_held:,.0f} MiB resident (records in a dict), "
        f"server peak RSS {server_peak:,.0f} MiB (includes the 1 M-hash match index)",
        f"direct listing (SQLAlchemy, same rows + their cases): {direct:.1f} s; "
        f"feed / direct = {full['seconds'] / direct:.1f}x",
        f"incremental fetch after withdrawing {WITHDRAWN_CASES} cases ({withdraw_s:.2f} s): "
        f"{len(inc['held']):,} records ({tombstones:,} tombstones) "
        f"in {inc['seconds'] * 1000:.0f} ms, {inc['pages']} pages",
    ]
    text = "\n".join(lines)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a", encoding="utf-8") as f:
        f.write(text + "\n\n")


if __name__ == "__main__":
    main()
