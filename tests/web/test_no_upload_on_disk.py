"""No uploaded byte reaches the disk: /v1/hash keeps the file in memory and drops it.

The server runs as its own process with its data dir and TMPDIR inside a temp folder; we
upload a distinctive image, stop the server, and scan every file it wrote for the bytes.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from tests.web.support import auth

CLI = [sys.executable, "-c", "from stopspread.cli import main; main()"]
CHUNK = 64  # a distinctive slice from the middle of the upload is looked for too


def _distinctive_png() -> bytes:
    """Noise compresses badly, so the PNG's bytes are unlike anything else on disk."""
    pixels = np.random.default_rng(20261125).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG", compress_level=0)
    return buf.getvalue()


def _files_holding(root: Path, needles: list[bytes]) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits += [f"{path} ({len(n)} bytes)" for n in needles if n in data]
    return hits


def _start(env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", "0"],
        env=env,
        cwd=cwd,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        found = re.search(r"running on (http://127\.0\.0\.1:\d+)", line)
        if found:
            return proc, found.group(1)
    raise RuntimeError(f"server did not start (exit {proc.wait()})")


def test_uploaded_bytes_never_reach_the_disk(tmp_path: Path) -> None:
    data_dir, tmpdir = tmp_path / "data", tmp_path / "tmp"
    tmpdir.mkdir()
    env = {
        **os.environ,
        "TMPDIR": str(tmpdir),
        "STOPSPREAD_DATA_DIR": str(data_dir),
        "STOPSPREAD_ARGON2_MEMORY_KIB": "1024",
    }
    env.pop("STOPSPREAD_DATABASE_URL", None)
    key = subprocess.run(
        [*CLI, "client", "create", "shop", "--can-hash"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    upload = _distinctive_png()
    middle = upload[len(upload) // 2 : len(upload) // 2 + CHUNK]
    proc, base = _start(env, tmp_path)
    try:
        response = httpx.post(f"{base}/v1/hash", content=upload, headers=auth(key), timeout=30)
        assert response.status_code == 200
        assert response.json()["match"] is False
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)  # reads the rest of stderr and closes the pipe
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "stopspread.db" for p in written)  # the scan covers the server's files
    assert _files_holding(tmp_path, [upload, middle]) == []
    # and the scan would see them if they were there
    (tmpdir / "control").write_bytes(b"x" + middle + b"y")
    assert _files_holding(tmp_path, [middle]) != []
