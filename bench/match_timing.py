"""Hit or miss, from latency alone? (issue 18, finding 4)

Run by hand: ``.venv/bin/python bench/match_timing.py`` (this tree) and, for the figure
before the journal, the same script with ``--src /path/to/an/older/checkout/src``.

A real ``stopspread serve`` (127.0.0.1, port 0, SQLite in a temporary folder) gets
``--signals`` enrolled hashes through ``POST /v1/cases`` and ``--keys`` API keys from
``stopspread client create``; then ``--queries`` ``POST /v1/match`` calls, hits (a few bits
off a different enrolled hash each time) and misses (random hashes) shuffled together, one
at a time on one keep-alive connection, each timed on the client. Two classifiers are
trained on the latency alone and scored by 5-fold cross-validation: the best threshold
(either direction), and 5-nearest neighbours. 50 % is a coin toss.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

FOLDS, K = 5, 5
_BASE = re.compile(r"starts on (http://127\.0\.0\.1:\d+)")


def _env(data_dir: Path, src: str | None, sync: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOPSPREAD_")}
    env.update(
        STOPSPREAD_DATA_DIR=str(data_dir),
        STOPSPREAD_ARGON2_TIME_COST="1",
        STOPSPREAD_ARGON2_MEMORY_KIB="1024",
        STOPSPREAD_CLIENT_BURST="1000000",
        STOPSPREAD_CLIENT_RATE_PER_S="1000000",
        STOPSPREAD_QUARANTINE_MIN_MATCHES="1000000",
        STOPSPREAD_SCAN_SCHEDULER_INTERVAL_S="0",
        STOPSPREAD_TAKEDOWN_CHECK_INTERVAL_S="0",
        STOPSPREAD_LOG_LEVEL="warning",
        STOPSPREAD_JOURNAL_SYNC=sync,
        STOPSPREAD_ENROL_SIGNALS_PER_ADDRESS_PER_HOUR="1000000",
        STOPSPREAD_ENROL_SIGNALS_PER_HOUR="1000000",
        STOPSPREAD_ENROL_FLAG_SIGNALS="1000000",
    )
    if src:
        env["PYTHONPATH"] = src
    if not src:  # an older tree rejects settings it does not know
        return env
    return {k: v for k, v in env.items() if not k.startswith("STOPSPREAD_JOURNAL")}


def _cli() -> str:
    return str(Path(sys.executable).with_name("stopspread"))


def _start(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    cmd = [_cli(), "serve", "--host", "127.0.0.1", "--port", "0"]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    base = ""
    for line in proc.stdout:
        found = _BASE.search(line)
        if found:
            base = found.group(1)
            break
    stdout = proc.stdout
    threading.Thread(target=lambda: [None for _ in stdout], daemon=True).start()
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.1)


def _random_pdq(rng: np.random.Generator) -> str:
    return rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex()


def _near(value: str, bits: int, rng: np.random.Generator) -> str:
    arr = np.unpackbits(np.frombuffer(bytes.fromhex(value), dtype=np.uint8))
    arr[rng.choice(256, bits, replace=False)] ^= 1
    return np.packbits(arr).tobytes().hex()


def _cv_accuracy(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """Cross-validated accuracy of the best threshold and of k-NN, on latency alone."""
    order = rng.permutation(len(x))
    folds = np.array_split(order, FOLDS)
    thr_right = knn_right = 0
    for n, test in enumerate(folds):
        train = np.concatenate([f for i, f in enumerate(folds) if i != n])
        xt, yt = x[train], y[train]
        cuts = np.unique(xt)
        best, best_cut, best_dir = -1.0, 0.0, 1
        for cut in cuts:
            for direction in (1, -1):
                acc = float(np.mean(((direction * (xt - cut)) > 0) == yt))
                if acc > best:
                    best, best_cut, best_dir = acc, float(cut), direction
        thr_right += int(np.sum(((best_dir * (x[test] - best_cut)) > 0) == y[test]))
        for i in test:
            nearest = np.argsort(np.abs(xt - x[i]))[:K]
            knn_right += int((np.mean(yt[nearest]) > 0.5) == y[i])
    return thr_right / len(x), knn_right / len(x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--src", help="an older tree's src folder, to measure it instead")
    parser.add_argument("--sync", default="fsync", choices=["fsync", "write_behind"])
    parser.add_argument("--signals", type=int, default=400)
    parser.add_argument("--keys", type=int, default=8)
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        env = _env(Path(tmp), args.src, args.sync)
        subprocess.run([_cli(), "db", "upgrade"], env=env, check=True, capture_output=True)
        keys = [
            subprocess.run(
                [_cli(), "client", "create", f"p{n}"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
            for n in range(args.keys)
        ]
        proc, base = _start(env)
        try:
            enrolled = [_random_pdq(rng) for _ in range(args.signals)]
            with httpx.Client(base_url=base, timeout=30) as client:
                for start in range(0, len(enrolled), 100):
                    chunk = enrolled[start : start + 100]
                    body = {"signals": [{"type": "pdq", "value": v} for v in chunk]}
                    assert client.post("/v1/cases", json=body).status_code == 201
                time.sleep(1.0)  # the index poller picks the enrolments up
                kinds = rng.permutation([1] * (args.queries // 2) + [0] * (args.queries // 2))
                warm = 50
                latency: list[float] = []
                labels: list[int] = []
                for n, hit in enumerate(np.concatenate([kinds[:warm], kinds])):
                    key = keys[n % len(keys)]
                    target = enrolled[(n * 7) % len(enrolled)]
                    value = _near(target, 6, rng) if hit else _random_pdq(rng)
                    began = time.perf_counter()
                    answer = client.post(
                        "/v1/match",
                        json={"type": "pdq", "value": value},
                        headers={"Authorization": f"Bearer {key}"},
                    )
                    took = time.perf_counter() - began
                    assert answer.status_code == 200, answer.text
                    assert answer.json()["match"] == bool(hit), (hit, answer.json())
                    if n >= warm:
                        latency.append(took * 1000)
                        labels.append(int(hit))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    x, y = np.array(latency), np.array(labels)
    thr, knn = _cv_accuracy(x, y, rng)
    print(f"tree: {args.src or 'this'}  sync: {args.sync}  queries: {len(x)}")
    print(f"median hit {np.median(x[y == 1]):.2f} ms  miss {np.median(x[y == 0]):.2f} ms")
    p90 = [np.percentile(x[y == label], 90) for label in (1, 0)]
    print(f"p90    hit {p90[0]:.2f} ms  miss {p90[1]:.2f} ms")
    print(f"accuracy from latency alone (5-fold CV): threshold {thr:.1%}  5-NN {knn:.1%}")


if __name__ == "__main__":
    main()
