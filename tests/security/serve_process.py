"""A real ``stopspread serve`` process on 127.0.0.1 (port 0), started, killed and restarted."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import httpx

__all__ = ["CLI", "ServeProcess", "serve_env"]

CLI = str(Path(sys.executable).with_name("stopspread"))  # the installed console script
_BASE = re.compile(r"starts on (http://127\.0\.0\.1:\d+)")


def serve_env(url: str, data_dir: Path, **settings: object) -> dict[str, str]:
    """The environment of a test server: cheap argon2, quick polling, no background jobs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOPSPREAD_")}
    base: dict[str, object] = {
        "data_dir": data_dir,
        "database_url": url,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "index_poll_interval_s": 0.05,
        "scan_scheduler_interval_s": 0,
        "takedown_check_interval_s": 0,
        "log_level": "warning",
        **settings,
    }
    env.update({f"STOPSPREAD_{k.upper()}": str(v) for k, v in base.items()})
    return env


class ServeProcess:
    """``stopspread serve --host 127.0.0.1 --port 0`` as a child process."""

    def __init__(self, env: dict[str, str]) -> None:
        self._env = env
        self._proc: subprocess.Popen[str] | None = None
        self.base_url = ""
        self._drain: threading.Thread | None = None

    def start(self, timeout: float = 60.0) -> str:
        """Start it and wait until it answers: the lifespan (journal replay too) has run."""
        self._proc = subprocess.Popen(
            [CLI, "serve", "--host", "127.0.0.1", "--port", "0"],
            env=self._env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self._proc.stdout is not None
        deadline = time.monotonic() + timeout
        for line in self._proc.stdout:
            found = _BASE.search(line)
            if found:
                self.base_url = found.group(1)
                break
            assert time.monotonic() < deadline, "serve printed no address"
        assert self.base_url, "serve stopped before printing its address"
        self._drain = threading.Thread(target=_drain, args=(self._proc.stdout,), daemon=True)
        self._drain.start()  # keep reading, so that the child never blocks on the pipe
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return self.base_url
            except httpx.TransportError:
                pass
            assert self._proc.poll() is None, "serve exited while starting"
            time.sleep(0.05)
        raise AssertionError("serve did not become ready")

    def kill(self) -> None:
        """``kill -9``: no shutdown code runs."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGKILL)
        self._proc.wait(timeout=30)
        self._close()

    def stop(self) -> None:
        """Ctrl-C: a clean shutdown."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=30)
        self._close()

    def _close(self) -> None:
        if self._drain is not None:
            self._drain.join(timeout=10)
        self._proc, self._drain = None, None


def _drain(stream: IO[str]) -> None:
    with stream:
        for _line in stream:
            pass
