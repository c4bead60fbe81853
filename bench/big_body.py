"""Peak memory of ``stopspread serve`` under one big anonymous body (issue 18, finding 1).

Starts the server in its own process on 127.0.0.1 with a fresh SQLite database, sends one
``POST /v1/cases`` whose JSON body is ``--megabytes`` MB of signals (streamed in 1 MiB
pieces, with a Content-Length, or chunked with ``--chunked``), and prints the answer, the
seconds until it came and the server's resident memory: before, peak (``VmHWM``) and after.

    .venv/bin/python bench/big_body.py [--megabytes 300] [--chunked]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

CLI = [sys.executable, "-c", "from stopspread.cli import main; main()"]
PIECE = 1024 * 1024
SIGNAL = b'{"type":"pdq","value":"' + b"ab" * 32 + b'"},'


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def body_pieces(total: int) -> Iterator[bytes]:
    head, tail = b'{"signals":[', b'{"type":"md5","value":"' + b"0" * 32 + b'"}]}'
    middle = total - len(head) - len(tail)
    block = SIGNAL * (PIECE // len(SIGNAL))
    yield head
    sent = 0
    while sent < middle:
        n = min(len(block), middle - sent)
        piece = block[:n]
        if n < len(block):
            piece = piece[: n - n % len(SIGNAL)] + b" " * (n % len(SIGNAL))
        yield piece
        sent += n
    yield tail


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=300)
    parser.add_argument("--chunked", action="store_true")
    args = parser.parse_args()
    total = args.megabytes * 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "STOPSPREAD_DATA_DIR": tmp, "STOPSPREAD_ARGON2_MEMORY_KIB": "1024"}
        port = free_port()
        proc = subprocess.Popen([*CLI, "serve", "--port", str(port)], env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    httpx.get(f"{base}/healthz", timeout=2)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            before = memory_kib(proc.pid, "VmRSS")
            headers = {"Content-Type": "application/json"}
            if not args.chunked:
                headers["Content-Length"] = str(total)
            start = time.monotonic()
            try:
                answer = httpx.post(
                    f"{base}/v1/cases", content=body_pieces(total), headers=headers, timeout=600
                )
                outcome = f"{answer.status_code} {answer.text[:80]}"
            except httpx.HTTPError as exc:  # the server may close while the client sends
                outcome = f"connection ended by the server: {type(exc).__name__}"
            took = time.monotonic() - start
            peak, after = memory_kib(proc.pid, "VmHWM"), memory_kib(proc.pid, "VmRSS")
            mode = "chunked" if args.chunked else "Content-Length"
            print(
                f"{args.megabytes} MB POST /v1/cases ({mode}): {outcome} after {took:.1f} s; "
                f"server RSS before {before / 1024:.0f} MiB, peak {peak / 1024:.0f} MiB, "
                f"after {after / 1024:.0f} MiB"
            )
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
