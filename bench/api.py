"""Load test of POST /v1/match with 1 M hashes loaded (run by hand: ``make bench-api``).

The server runs in its own process(es) on 127.0.0.1 with a fresh SQLite database holding
``--signals`` random PDQ hashes; a load generator on loopback sends match requests for
``--duration`` seconds: random hashes (misses) and, at ``--hit-rate``, near-duplicates of
enrolled hashes (hits: each writes a ref, a review item and an audit event). The load
generator is ``wrk`` (Debian package ``wrk``) when it is installed, else a small asyncio
keep-alive client in this file. Target: >= 1,000 requests/s, p99 < 20 ms, 0 errors.

The hashes are bulk-loaded (bench/bulk_signals.py). With ``--from-snapshot`` one process first
builds the index from the database and writes an index snapshot, then the measured server's
workers start from it (memory-mapped; ready once every worker maps it). Every answer makes one
durable journal write (services/journal.py, group commit); ``--journal-sync write_behind``
(the crash test's negative control, never a deployment) shows what that ``fdatasync`` costs.
Each run records the load average before it, the time to ready and each process's memory,
and the serving processes' CPU per request: all threads, and their event-loop threads alone
(``event_loop_cpu``; the rest is the journal's writer and apply pass and the index poller).

    .venv/bin/python bench/api.py [--signals 1000000] [--duration 20] [--connections 16]
    .venv/bin/python bench/api.py --signals 10000000 --workers 2 --connections 4 \
        --from-snapshot --keep DIR   # DIR keeps the database and snapshot for the next run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import select

from stopspread.config import Settings
from stopspread.services import cases
from stopspread.services.context import build_services
from stopspread.services.platform import create_client
from stopspread.services.signal_input import parse_signal
from stopspread.storage import Database, upgrade

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.bulk_signals import insert_signals

from stopspread.storage.models import Bank

CLI = [sys.executable, "-c", "from stopspread.cli import main; main()"]
HOT = 1000  # enrolled hashes the "hit" requests are near-duplicates of
HIT_FLIPS = 8  # bits flipped in a hit query (well inside the policy's 29-bit radius)

LUA = r"""
local hot = {%(hot)s}
local hit_rate = %(hit_rate)f
local key = "%(key)s"
local matches = 0
math.randomseed(os.time())
local function random_hex()
  local t = {}
  for i = 1, 32 do t[i] = string.format("%%02x", math.random(0, 255)) end
  return table.concat(t)
end
request = function()
  local value = (math.random() < hit_rate) and hot[math.random(1, #hot)] or random_hex()
  return wrk.format("POST", "/v1/match", {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. key}, '{"type":"pdq","value":"' .. value .. '"}')
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests":%%d,"duration_us":%%d,"connect":%%d,"read":%%d,' ..
    '"write":%%d,"status":%%d,"timeout":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,' ..
    '"p999_us":%%d,"max_us":%%d}\n', summary.requests, summary.duration, e.connect, e.read,
    e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max))
end
"""


def _flip(value: bytes, rng: np.random.Generator) -> str:
    bits = np.unpackbits(np.frombuffer(value, dtype=np.uint8))
    bits[rng.choice(256, HIT_FLIPS, replace=False)] ^= 1
    return np.packbits(bits).tobytes().hex()


def populate(settings: Settings, n: int) -> tuple[str, list[str]]:
    """A database with ``n`` random PDQ signals; returns an API key and hit queries.

    The first hash is enrolled through the services, the rest bulk-loaded into its bank
    (bench/bulk_signals.py: the rows the storage code writes, by executemany / COPY)."""
    db = Database.from_settings(settings)  # sealed as the server seals
    upgrade(db)
    svc = build_services(settings, db)
    rng = np.random.default_rng(2026)
    raw = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    cases.create_case(svc, [parse_signal("pdq", raw[0].tobytes().hex())])
    with db.read() as session:
        bank_id = session.scalars(select(Bank.id)).one()
    seconds = insert_signals(db, bank_id, raw[1:])
    print(f"inserted {n:,} signals in {seconds:.1f} s (bulk load)", flush=True)
    db = Database.from_settings(settings)  # the SQLite bulk load closes the pool
    _client, key = create_client(db, "bench")
    hot = [_flip(raw[i].tobytes(), rng) for i in rng.choice(n, HOT, replace=False)]
    db.dispose()
    return key, hot


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def workers_of(proc: subprocess.Popen[bytes]) -> list[int]:
    """The uvicorn worker processes under the server (none: it serves itself)."""
    path = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    pids = [int(p) for p in path.read_text().split()] if path.exists() else []
    return [p for p in pids if b"spawn_main" in _cmdline(p)]  # not multiprocessing's tracker


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def maps_snapshot(pid: int) -> bool:
    """Whether a process has an index snapshot (``*.ssmih``) memory-mapped."""
    try:
        return ".ssmih" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def memory(pid: int) -> tuple[float, float]:
    """Resident and private (unshared) memory of a process, MB (smaps_rollup)."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) / 1024
    return fields["Rss"], fields["Private_Clean"] + fields["Private_Dirty"]


def start_server(
    env: dict[str, str], port: int, expect: int, key: str, *, snapshot: bool = False
) -> tuple[subprocess.Popen[bytes], float]:
    """The server, once it answers with ``expect`` hashes (``snapshot``: and every worker
    has the snapshot mapped); returns it and the seconds that took."""
    workers = int(env["STOPSPREAD_WORKERS"])
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL
    )
    # 10 M hashes from the database take minutes on a busy machine
    t0, deadline = time.perf_counter(), time.monotonic() + 3600
    while time.monotonic() < deadline:
        try:
            health = httpx.get(
                f"http://127.0.0.1:{port}/v1/status",
                headers={"Authorization": f"Bearer {key}"},
                timeout=2,
            ).json()
            pids = workers_of(proc) if workers > 1 else [proc.pid]
            mapped = all(maps_snapshot(p) for p in pids) and len(pids) == workers
            if health.get("signals", 0) >= expect and (mapped or not snapshot):
                ready = time.perf_counter() - t0
                how = " (every worker from the snapshot)" if snapshot else ""
                print(f"server ready with {health['signals']:,} hashes after {ready:.1f} s{how}")
                return proc, ready
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError("the server exited")
        time.sleep(0.5)
    proc.kill()
    proc.wait()
    raise RuntimeError("the server did not become ready")


def prime_snapshot(env: dict[str, str], workdir: Path, expect: int, key: str) -> None:
    """Start one process (it builds the index from the database and writes a snapshot soon
    after), wait for the snapshot, stop it: the measured server then starts from it."""
    if list((workdir / "snapshots").glob("index-*.json")):
        return
    proc, ready = start_server({**env, "STOPSPREAD_WORKERS": "1"}, free_port(), expect, key)
    try:
        deadline = time.monotonic() + 600
        while not list((workdir / "snapshots").glob("index-*.json")):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("no index snapshot was written")
            time.sleep(1)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
    print(f"snapshot written by a process that built the index from the database in "
          f"{ready:.1f} s", flush=True)  # fmt: skip


def run_wrk(
    port: int, key: str, hot: list[str], args: argparse.Namespace, workdir: Path
) -> dict[str, float]:
    script = workdir / "match.lua"
    table = ",".join(f'"{h}"' for h in hot)
    script.write_text(LUA % {"hot": table, "hit_rate": args.hit_rate, "key": key}, encoding="utf-8")
    cmd = [
        "wrk",
        "-t1",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    r = json.loads(line[len("RESULT ") :])
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    return {
        "requests": r["requests"],
        "seconds": r["duration_us"] / 1e6,
        "errors": errors,
        "p50_ms": r["p50_us"] / 1e3,
        "p90_ms": r["p90_us"] / 1e3,
        "p99_ms": r["p99_us"] / 1e3,
        "p999_ms": r["p999_us"] / 1e3,
        "max_ms": r["max_us"] / 1e3,
    }


async def _connection(
    port: int,
    key: str,
    hot: list[str],
    args: argparse.Namespace,
    stop: float,
    lat: list[float],
    errs: list[int],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    rnd = random.Random()
    # --rate: open loop, each connection sends on a fixed schedule and latency counts from
    # the scheduled time (no coordinated omission); else closed loop, as fast as answered.
    interval = args.connections / args.rate if args.rate else 0.0
    scheduled = time.perf_counter() + rnd.random() * interval
    while time.perf_counter() < stop:
        if interval:
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        hit = rnd.random() < args.hit_rate
        value = rnd.choice(hot) if hit else rnd.randbytes(32).hex()
        body = f'{{"type":"pdq","value":"{value}"}}'.encode()
        head = (
            f"POST /v1/match HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        t0 = scheduled if interval else time.perf_counter()
        scheduled += interval
        writer.write(head.encode() + body)
        status_line = await reader.readline()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
        lat.append(time.perf_counter() - t0)
        if b" 200 " not in status_line:
            errs.append(1)
    writer.close()


def run_python(port: int, key: str, hot: list[str], args: argparse.Namespace) -> dict[str, float]:
    lat: list[float] = []
    errs: list[int] = []

    async def main() -> float:
        t0 = time.perf_counter()
        stop = t0 + args.duration
        await asyncio.gather(
            *(_connection(port, key, hot, args, stop, lat, errs) for _ in range(args.connections))
        )
        return time.perf_counter() - t0

    seconds = asyncio.run(main())
    ms = np.array(lat) * 1e3
    return {
        "requests": len(lat),
        "seconds": seconds,
        "errors": len(errs),
        "p50_ms": float(np.percentile(ms, 50)),
        "p90_ms": float(np.percentile(ms, 90)),
        "p99_ms": float(np.percentile(ms, 99)),
        "p999_ms": float(np.percentile(ms, 99.9)),
        "max_ms": float(ms.max()),
    }


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU time of one process, or of one of its threads (Linux /proc), to
    report CPU per request."""
    path = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_split(pids: list[int]) -> tuple[float, float]:
    """CPU seconds of the serving processes: all threads, and their event-loop threads alone
    (a process's main thread; the rest is the journal writer, its apply pass, the poller)."""
    return sum(cpu_seconds(p) for p in pids), sum(cpu_seconds(p, p) for p in pids)


def _commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def report(result: dict[str, float], args: argparse.Namespace, tool: str, extra: list[str]) -> str:
    rps = result["requests"] / result["seconds"]
    # An open-loop run sends exactly its fixed rate; allow the last partial second's rounding.
    sustained = rps >= 1000 or (args.rate >= 1000 and rps >= 0.99 * args.rate)
    ok = sustained and result["p99_ms"] < 20 and result["errors"] == 0
    return "\n".join(
        [
            f"# bench/api.py  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  {platform.node()}  "
            f"{os.cpu_count()} cores  python {platform.python_version()}",
            "# shared machine: other engineers' jobs may run at the same time; numbers are noisy"
            f" (load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
            f"; code {_commit()}",
            *extra,
            f"signals={args.signals:,} index={args.index} workers={args.workers} tool={tool} "
            f"connections={args.connections} duration={args.duration}s hit_rate={args.hit_rate} "
            f"journal_sync={args.journal_sync}"
            + (f" fixed_rate={args.rate:g}/s (open loop)" if args.rate else " (closed loop)"),
            f"requests={int(result['requests']):,} req/s={rps:,.0f} errors={int(result['errors'])}"
            + (f" server_cpu_per_request={result['cpu_us']:.0f}us" if "cpu_us" in result else "")
            + (f" event_loop_cpu={result['loop_cpu_us']:.0f}us" if "loop_cpu_us" in result else ""),
            f"latency ms: p50={result['p50_ms']:.2f} p90={result['p90_ms']:.2f} "
            f"p99={result['p99_ms']:.2f} p99.9={result['p999_ms']:.2f} max={result['max_ms']:.2f}",
            f"target >= 1,000 req/s, p99 < 20 ms, 0 errors: {'MET' if ok else 'NOT MET'}",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--signals", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--hit-rate", type=float, default=0.01)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--index", choices=["mih", "brute"], default="mih")
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="fixed request rate (python tool; 0: flat out)"
    )
    parser.add_argument(
        "--journal-sync",
        choices=["fsync", "write_behind"],
        default="fsync",
        help="the match journal's sync (fsync: shipped; write_behind: to see fdatasync's share)",
    )
    parser.add_argument(
        "--from-snapshot",
        action="store_true",
        help="start the measured server from an index snapshot (one is written first)",
    )
    parser.add_argument(
        "--server-log-level",
        default="warning",
        help="the server's log level (info: each worker logs its journal's group commits at exit)",
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "api.txt")
    parser.add_argument(
        "--keep", type=Path, default=None, help="keep the populated database here and reuse it"
    )
    args = parser.parse_args()
    tool = ("wrk" if shutil.which("wrk") else "python") if args.tool == "auto" else args.tool
    if args.rate:
        tool = "python"  # wrk has no fixed-rate mode
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="stopspread-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "STOPSPREAD_DATA_DIR": str(workdir),
        "STOPSPREAD_INDEX_KIND": args.index,
        "STOPSPREAD_CLIENT_RATE_PER_S": "1e9",
        "STOPSPREAD_CLIENT_BURST": "1000000000",
        "STOPSPREAD_WORKERS": str(args.workers),
        "STOPSPREAD_LOG_LEVEL": args.server_log_level,
        "STOPSPREAD_JOURNAL_SYNC": args.journal_sync,
    }
    env.pop("STOPSPREAD_DATABASE_URL", None)
    settings = Settings(data_dir=workdir, argon2_memory_kib=1024)
    saved = workdir / f"bench-{args.signals}.json"
    if saved.is_file():
        key, hot = json.loads(saved.read_text(encoding="utf-8"))
    else:
        key, hot = populate(settings, args.signals)
        if args.keep:
            saved.write_text(json.dumps([key, hot]), encoding="utf-8")
    if args.from_snapshot:
        prime_snapshot(env, workdir, args.signals, key)
    else:
        env["STOPSPREAD_INDEX_SNAPSHOT_INTERVAL_S"] = "0"
        shutil.rmtree(workdir / "snapshots", ignore_errors=True)
    port = free_port()
    load_before = os.getloadavg()[0]
    proc, ready = start_server(env, port, args.signals, key, snapshot=args.from_snapshot)
    pids = workers_of(proc) if args.workers > 1 else [proc.pid]
    mems = [memory(p) for p in pids]
    extra = [
        f"# load average (1 min) {load_before:.1f} before the run; server ready in {ready:.1f} s "
        f"({'from the index snapshot' if args.from_snapshot else 'index built from the database'})"
        "; per process RSS/private MB: " + ", ".join(f"{r:.0f}/{p:.0f}" for r, p in mems)
    ]
    try:
        warm = argparse.Namespace(**{**vars(args), "duration": 2})
        if tool == "wrk":
            run_wrk(port, key, hot, warm, workdir)
            cpu0, loop0 = cpu_split(pids)
            result = run_wrk(port, key, hot, args, workdir)
        else:
            run_python(port, key, hot, warm)
            cpu0, loop0 = cpu_split(pids)
            result = run_python(port, key, hot, args)
        # the serving processes' CPU (every worker's, all threads): a figure that CPU
        # starvation on a shared machine changes far less than req/s
        cpu, loop = cpu_split(pids)
        result["cpu_us"] = (cpu - cpu0) / max(result["requests"], 1) * 1e6
        result["loop_cpu_us"] = (loop - loop0) / max(result["requests"], 1) * 1e6
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    text = report(result, args, tool, extra)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a", encoding="utf-8") as fh:
        fh.write(text + "\n\n")


if __name__ == "__main__":
    main()
