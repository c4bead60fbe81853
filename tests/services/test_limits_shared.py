"""Limits shared across processes through a real redis-server on 127.0.0.1.

Four API processes on PostgreSQL share one limiter: a key sending 100x its allowance gets
through within 5 % of it, and secret guessing from one address is held to its limit.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import redis

from stopspread.services.limits_shared import SharedDailyQuota, SharedKeyedLimiter, connect
from stopspread.storage import Database, upgrade
from tests.pg import PgCluster
from tests.web.support import auth, new_client_key, pdq_body

CLI = [sys.executable, "-c", "from stopspread.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(check: object, what: str, within_s: float = 60.0) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except (OSError, redis.RedisError, httpx.HTTPError):
            pass
        time.sleep(0.1)
    raise TimeoutError(what)


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = _free_port()
    proc = subprocess.Popen(
        [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait(lambda: connect(url).ping(), "redis-server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_buckets_and_quotas_are_one_for_every_limiter(redis_url: str) -> None:
    """Two limiter objects (as two processes) share one bucket and one daily count."""
    one, two = connect(redis_url), connect(redis_url)
    buckets = [SharedKeyedLimiter(c, "client", 0.001, 10) for c in (one, two)]
    allowed = sum(1 for i in range(200) if buckets[i % 2].take(7) == 0.0)
    assert allowed == 10
    assert buckets[0].take(8) == 0.0  # another key has its own bucket
    assert 0 < buckets[1].take(7) <= 1000.0  # the wait: one token at 0.001/s
    quotas = [SharedDailyQuota(c, "quota", 25) for c in (one, two)]
    assert sum(1 for i in range(100) if quotas[i % 2].take(("k", 1))) == 25


def test_an_unreachable_limiter_falls_back_to_per_process_limits() -> None:
    away = connect(f"redis://127.0.0.1:{_free_port()}/0")
    bucket = SharedKeyedLimiter(away, "client", 0.001, 3)
    assert [bucket.take(1) == 0.0 for _ in range(4)] == [True, True, True, False]
    quota = SharedDailyQuota(away, "quota", 2)
    assert [quota.take(1) for _ in range(3)] == [True, True, False]


def test_four_api_processes_hold_a_key_and_an_address(
    redis_url: str, pg_cluster: PgCluster, tmp_path: Path
) -> None:
    url = pg_cluster.new_database()
    db = Database(url)
    upgrade(db)
    db.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "STOPSPREAD_DATABASE_URL": url,
        "STOPSPREAD_DATA_DIR": str(tmp_path),
        "STOPSPREAD_WORKERS": "4",
        "STOPSPREAD_PORT": str(port),
        "STOPSPREAD_LIMITS_URL": redis_url,
        "STOPSPREAD_CLIENT_RATE_PER_S": "0.001",  # a token every 1,000 s: the burst is all
        "STOPSPREAD_CLIENT_BURST": "20",
        "STOPSPREAD_ADDRESS_ATTEMPTS_PER_MINUTE": "1",
        "STOPSPREAD_ARGON2_TIME_COST": "1",
        "STOPSPREAD_ARGON2_MEMORY_KIB": "1024",
        "STOPSPREAD_SCAN_SCHEDULER_INTERVAL_S": "0",
        "STOPSPREAD_TAKEDOWN_CHECK_INTERVAL_S": "0",
        "STOPSPREAD_LOG_LEVEL": "warning",
    }
    from stopspread.config import Settings

    key = new_client_key(Settings(database_url=url, data_dir=tmp_path))
    server = subprocess.Popen([*CLI, "serve"], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: httpx.get(f"{base}/readyz").status_code == 200, "no API", within_s=300)

        local = threading.local()

        def http() -> httpx.Client:  # one client a thread; "close": every request a new
            if not hasattr(local, "client"):  # connection, taken by any of the 4 processes
                local.client = httpx.Client(base_url=base, headers={"Connection": "close"})
                clients.append(local.client)
            client: httpx.Client = local.client
            return client

        def match(_i: int) -> int:
            return http().post("/v1/match", json=pdq_body("ab" * 32), headers=auth(key)).status_code

        def guess(i: int) -> int:
            headers = {"X-Case-Secret": f"wrong-{i}"}
            return http().get(f"/v1/cases/NOSUCHCODE{i % 7}", headers=headers).status_code

        clients: list[httpx.Client] = []
        with ThreadPoolExecutor(8) as pool:
            matches = Counter(pool.map(match, range(2000)))  # 100x the burst of 20
            guesses = Counter(pool.map(guess, range(100)))
        for client in clients:
            client.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert set(matches) <= {200, 429}
    assert 20 <= matches[200] <= 21  # within 5 %: 4 per-process buckets would allow 80
    assert set(guesses) <= {403, 429}
    assert 1 <= guesses[403] <= 2  # one attempt a minute per address, shared
