"""A fork server for ``stopspread serve``: the crash soak's cheap restart (issue 18).

Starting ``stopspread serve`` spends most of its second or more importing the web stack. The
fork server imports it once, in a process of its own (single-threaded, nothing opened), and
for each start forks a child that runs the real ``stopspread serve`` command line with the
given environment. The child is a separate process that opens its own database connections,
journal and files after the fork; ``kill -9`` hits it and nothing else, exactly as it would a
freshly executed one. Only the imports are shared.

Protocol: the test process holds one end of a control socket pair; per start it makes a new
socket pair and sends one end (with the environment as JSON) over the control socket. The
child puts that end on its stdout and stderr, writes ``pid N`` and then runs the command. The
fork server ignores SIGCHLD, so a dead child is reaped at once and ``kill(pid, 0)`` then fails.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import httpx

__all__ = ["ForkServer", "ForkedServe"]

_PRELOAD = ("stopspread.cli", "stopspread.web.app", "uvicorn", "httpx")
_SERVE_ARGS = ["stopspread", "serve", "--host", "127.0.0.1", "--port", "0"]
_MAX_MESSAGE = 1 << 20


class ForkServer:
    """The forking process; ``start_child`` gives a new ``serve`` child's pid and output."""

    def __init__(self) -> None:
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        root = str(Path(__file__).resolve().parents[2])  # the project: ``tests`` is importable
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.security.forkserve", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path},
            cwd=root,
        )
        theirs.close()
        self._lock = threading.Lock()

    def start_child(self, env: dict[str, str]) -> tuple[int, IO[str]]:
        ours, theirs = socket.socketpair()
        with self._lock:
            socket.send_fds(self._control, [json.dumps(env).encode()], [theirs.fileno()])
        theirs.close()
        output = ours.makefile("r", encoding="utf-8")
        ours.close()  # the file object keeps the descriptor
        first = output.readline()
        assert first.startswith("pid "), f"fork server answered {first!r}"
        return int(first.split()[1]), output

    def close(self) -> None:
        self._control.close()  # the fork server reads end of file and exits
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=30)

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class ForkedServe:
    """The same interface as ``ServeProcess``, each start a child of a ``ForkServer``."""

    def __init__(self, forks: ForkServer, env: dict[str, str]) -> None:
        self._forks, self._env = forks, env
        self._pid: int | None = None
        self._drain: threading.Thread | None = None
        self.base_url = ""

    def start(self, timeout: float = 60.0) -> str:
        from tests.security.serve_process import _BASE, _drain

        self._pid, output = self._forks.start_child(self._env)
        deadline, self.base_url = time.monotonic() + timeout, ""
        for line in output:
            found = _BASE.search(line)
            if found:
                self.base_url = found.group(1)
                break
            assert time.monotonic() < deadline, "serve printed no address"
        assert self.base_url, "serve stopped before printing its address"
        self._drain = threading.Thread(target=_drain, args=(output,), daemon=True)
        self._drain.start()
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return self.base_url
            except httpx.TransportError:
                pass
            assert _alive(self._pid), "serve exited while starting"
            time.sleep(0.02)
        raise AssertionError("serve did not become ready")

    def kill(self) -> None:
        """``kill -9``: no shutdown code runs; returns once the process is gone."""
        assert self._pid is not None
        os.kill(self._pid, signal.SIGKILL)
        self._wait_gone(30)
        self._close()

    def stop(self) -> None:
        """Ctrl-C: a clean shutdown."""
        if self._pid is None:
            return
        if _alive(self._pid):
            os.kill(self._pid, signal.SIGINT)
            if not self._wait_gone(30):
                os.kill(self._pid, signal.SIGKILL)
                self._wait_gone(30)
        self._close()

    def _wait_gone(self, timeout: float) -> bool:
        assert self._pid is not None
        deadline = time.monotonic() + timeout
        while _alive(self._pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def _close(self) -> None:
        if self._drain is not None:
            self._drain.join(timeout=10)
        self._pid, self._drain = None, None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _child(fd: int, env: dict[str, str], control: socket.socket) -> None:
    """In the forked child: become ``stopspread serve`` with ``env``; never returns."""
    code = 1
    try:
        control.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        os.write(1, f"pid {os.getpid()}\n".encode())
        os.environ.clear()
        os.environ.update(env)
        sys.argv = list(_SERVE_ARGS)
        from stopspread.cli import main

        main()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    finally:
        sys.stdout.flush()
        os._exit(code)


def _serve_forks(control_fd: int) -> None:
    import importlib

    for name in _PRELOAD:
        importlib.import_module(name)
    gc.collect()
    gc.freeze()  # the imports out of the collector's way: the child's own collect is quick
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped as they die
    control = socket.socket(fileno=control_fd)
    while True:
        message, fds, _flags, _addr = socket.recv_fds(control, _MAX_MESSAGE, 1)
        if not message:
            return
        env, fd = json.loads(message), fds[0]
        if os.fork() == 0:
            _child(fd, env, control)
        os.close(fd)


if __name__ == "__main__":
    _serve_forks(int(sys.argv[1]))
