"""Peak memory of ``stopspread serve`` under parallel ``/v1/hash`` uploads (issue 18, finding 8).

Starts the server in its own process on 127.0.0.1 with a fresh SQLite database and a
``--can-hash`` client, makes a small WebP of ``--megapixels`` (a flat picture with a few
shapes: ~100-200 KB), sends it ``--parallel`` times at once and prints each answer and the
server's resident memory: before and peak (``VmHWM``).

    .venv/bin/python bench/decode_budget.py [--megapixels 89.4] [--parallel 4]
"""

from __future__ import annotations

import argparse
import io
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from PIL import Image, ImageDraw

CLI = [sys.executable, "-c", "from stopspread.cli import main; main()"]


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def webp(megapixels: float) -> bytes:
    side = int(math.sqrt(megapixels * 1e6))
    image = Image.new("RGB", (side, side), (90, 120, 150))
    draw = ImageDraw.Draw(image)
    for i in range(12):
        box = (
            i * side // 14,
            i * side // 20,
            side // 2 + i * side // 30,
            side // 2 + i * side // 25,
        )
        draw.ellipse(box, fill=(i * 20, 200 - i * 10, 80))
    buf = io.BytesIO()
    image.save(buf, "WEBP", quality=40, method=0)
    return buf.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, default=89.4)
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args()
    data = webp(args.megapixels)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "STOPSPREAD_DATA_DIR": tmp, "STOPSPREAD_UPLOAD_MAX_BYTES": "100000000"}
        made = subprocess.run(
            [*CLI, "client", "create", "bench", "--can-hash"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        key = made.stdout.strip()
        port = free_port()
        proc = subprocess.Popen(
            [*CLI, "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    httpx.get(f"{base}/healthz", timeout=2)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            before = memory_kib(proc.pid, "VmRSS")
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/octet-stream"}

            def one(_i: int) -> str:
                answer = httpx.post(f"{base}/v1/hash", content=data, headers=headers, timeout=600)
                return f"{answer.status_code}"

            start = time.monotonic()
            with ThreadPoolExecutor(args.parallel) as pool:
                answers = list(pool.map(one, range(args.parallel)))
            took = time.monotonic() - start
            peak = memory_kib(proc.pid, "VmHWM")
            what = f"{args.parallel} x {args.megapixels} MP WebP ({len(data) / 1000:.0f} KB)"
            print(
                f"{what} to /v1/hash: answers {answers} in {took:.1f} s; server RSS before "
                f"{before / 1024:.0f} MiB, peak {peak / 1024:.0f} MiB"
            )
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
