"""Finding 4: hits and misses were told apart by time (median 7.1-10.6 ms against 2.0-2.4 ms,
separable 96.7-100 % of the time), because a hit wrote the database before it was answered.

Now a hit and a miss do the same work on the request path: a lookup in memory and one
32-byte journal record each, waiting for the same group commit; the hit's database write
follows (services/journal.py). The test shows it without a stopwatch: while another
connection holds SQLite's write lock, hits are still answered (before, each one waited for
the lock), nothing reaches the database, and every hit is recorded once the lock goes.
The latency classifier's figures are ``bench/match_timing.py``'s (docs/security.md).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from stopspread.hashing import hash_image
from tests.conftest import encode, fast_settings, flip_bits, random_pdq, synthetic_rgb
from tests.scankit import shapes
from tests.web.support import api_client, auth, new_client_key, pdq_body


def _eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def _hits(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT COALESCE(SUM(hits), 0) FROM review_items WHERE kind = 'match'")
    return int(row.fetchone()[0])


def test_hits_are_answered_while_the_database_cannot_be_written(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    settings = fast_settings(f"sqlite:///{path}", tmp_path, client_burst=1000)
    keys = [new_client_key(settings, f"platform-{n}", can_hash=True) for n in range(2)]
    rng = np.random.default_rng(44)
    hers = random_pdq(rng)
    with api_client(settings) as client:
        made = client.post("/v1/cases", json={"signals": [{"type": "pdq", "value": hers}]})
        assert made.status_code == 201

        def ask(key: str, value: str) -> bool:
            answer = client.post("/v1/match", json=pdq_body(value), headers=auth(key))
            assert answer.status_code == 200
            matched: bool = answer.json()["match"]
            return matched

        assert _eventually(lambda: ask(keys[0], hers))
        reader = sqlite3.connect(path)
        assert _eventually(lambda: _hits(reader) >= 1)
        before = _hits(reader)

        writer = sqlite3.connect(path, timeout=30, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")  # the database's write lock, held by someone else
        hits = [ask(keys[n % 2], flip_bits(hers, 8, rng)) for n in range(6)]
        misses = [ask(keys[n % 2], random_pdq(rng)) for n in range(6)]
        assert hits == [True] * 6 and misses == [False] * 6
        assert _hits(reader) == before  # answered, and nothing written yet
        writer.execute("ROLLBACK")
        writer.close()

        assert _eventually(lambda: _hits(reader) == before + 6)  # each hit recorded once
        reader.close()


def test_hash_uploads_are_answered_while_the_database_cannot_be_written(tmp_path: Path) -> None:
    """``/v1/hash`` journals two records for every upload (one decision, then a no-op one)."""
    path = tmp_path / "db.sqlite"
    jpeg_bytes = shapes(11)  # quality >= 50: the match policy's query floor lets it be looked up
    settings = fast_settings(
        f"sqlite:///{path}", tmp_path, client_burst=1000, upload_max_bytes=8 << 20
    )
    key = new_client_key(settings, "platform", can_hash=True)
    enrolled = hash_image(jpeg_bytes).pdq.hex
    other = encode(synthetic_rgb(640, 480, seed=11), "PNG")
    with api_client(settings) as client:
        made = client.post("/v1/cases", json={"signals": [{"type": "pdq", "value": enrolled}]})
        assert made.status_code == 201

        def upload(data: bytes) -> bool:
            answer = client.post("/v1/hash", content=data, headers=auth(key))
            assert answer.status_code == 200
            matched: bool = answer.json()["match"]
            return matched

        assert _eventually(lambda: upload(jpeg_bytes))
        reader = sqlite3.connect(path)
        assert _eventually(lambda: _hits(reader) >= 1)
        before = _hits(reader)
        writer = sqlite3.connect(path, timeout=30, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        assert [upload(jpeg_bytes), upload(other), upload(jpeg_bytes)] == [True, False, True]
        assert _hits(reader) == before
        writer.execute("ROLLBACK")
        writer.close()
        assert _eventually(lambda: _hits(reader) == before + 2)
        reader.close()
