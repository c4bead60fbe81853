"""A warm video sandbox: one long-lived decoder process for scanning many files.

Starting a fresh interpreter and importing PyAV and NumPy costs ~0.35 s, more
than decoding the keyframes of a short clip. For scans, :class:`VideoSandbox`
keeps one server process (``python -m stopspread.hashing._warm``)
that has imported everything once. For each file it forks a grandchild that
sets the same limits as the one-shot sandbox (``RLIMIT_AS``, ``RLIMIT_CPU``,
no core dumps) and decodes; the server enforces the wall-time limit, kills the
grandchild on timeout and turns a crash into a typed error. The server never
parses media itself; the caller kills and restarts it if it stops answering.
Requests and replies are JSON lines, never pickle.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from types import TracebackType
from typing import IO, Any, Final

from stopspread.errors import MediaTimeoutError, VideoDecodeError
from stopspread.hashing._sandbox_protocol import (
    decode_reply,
    died,
    encode_request,
    parse_reply,
    set_limits,
)
from stopspread.hashing.vpdq import VideoLimits, VideoMode

__all__ = ["VideoSandbox", "serve"]

MAX_REPLY_BYTES: Final = 64 * 1024 * 1024  # a reply is hex hashes: 3 h at 30 fps is ~30 MB
# Extra wall time the caller grants the server beyond the per-file limit it enforces.
_SERVER_GRACE_SECONDS: Final = 10.0
_TIMEOUT_ERROR: Final = "MediaTimeoutError"


class VideoSandbox:
    """Decode many videos through one warm sandbox server. Use as a context manager."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> VideoSandbox:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the server (it also stops when this process exits)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()

    def decode(
        self, path: str, mode: VideoMode, seconds_per_hash: float, limits: VideoLimits
    ) -> dict[str, Any]:
        """Like ``decode_in_child``: the JSON reply for one file, or a typed error."""
        proc = self._start()
        stdin, stdout = proc.stdin, proc.stdout
        if stdin is None or stdout is None:  # never: both pipes are asked for in _start
            raise VideoDecodeError("the decoder process has no pipes")
        try:
            stdin.write(encode_request(path, mode, seconds_per_hash, limits).encode() + b"\n")
            stdin.flush()
            line = _read_line(stdout, limits.max_seconds + _SERVER_GRACE_SECONDS)
        except MediaTimeoutError:
            self.close()  # a server that stopped answering is replaced on the next call
            raise
        except (OSError, VideoDecodeError):
            self.close()
            raise VideoDecodeError("the decoder process stopped answering") from None
        except BaseException:
            self.close()
            raise
        return parse_reply(line)

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self.close()
            command = [sys.executable, "-s", "-m", "stopspread.hashing._warm"]
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
            env["OPENBLAS_NUM_THREADS"] = "1"  # no idle BLAS threads in a process that forks
            self._proc = subprocess.Popen(  # noqa: S603 - fixed argv, our own module
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
            )
        return self._proc


def _read_line(stream: IO[bytes], timeout: float) -> bytes:
    ready, _, _ = select.select([stream], [], [], timeout)
    if not ready:
        raise MediaTimeoutError("the decoder process did not answer in time")
    line = stream.readline(MAX_REPLY_BYTES + 1)
    if not line.endswith(b"\n"):
        raise VideoDecodeError("the decoder process ended or sent an oversized reply")
    return line


def serve() -> None:
    """The server loop: one JSON request per line in, one JSON reply per line out."""
    import stopspread.hashing._video_decode  # noqa: F401 - warm the imports once, before forking

    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
            reply = _decode_forked(request, VideoLimits(**request["limits"]))
        except (ValueError, TypeError, KeyError) as exc:
            reply = {"ok": False, "error": "VideoDecodeError", "message": f"bad request: {exc}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def _decode_forked(request: dict[str, Any], limits: VideoLimits) -> dict[str, Any]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # grandchild: limits first, then the hostile file
        os.close(read_end)
        try:
            set_limits(limits)
            data = json.dumps(decode_reply(request)).encode()
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        data, timed_out = _collect(read_end, limits.max_seconds)
    finally:
        os.close(read_end)
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if timed_out:
        message = f"decoding took longer than {limits.max_seconds:g} s and was stopped"
        return {"ok": False, "error": _TIMEOUT_ERROR, "message": message}
    if not data:
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        error = died(code)
        return {"ok": False, "error": type(error).__name__, "message": str(error)}
    try:
        reply: dict[str, Any] = json.loads(data)
    except ValueError:
        return {"ok": False, "error": "VideoDecodeError", "message": "malformed decoder reply"}
    return reply


def _collect(fd: int, seconds: float) -> tuple[bytes, bool]:
    """Read the grandchild's reply until EOF, the deadline or the size cap."""
    deadline = time.monotonic() + seconds
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return b"", True
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return b"", True
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks), False
        size += len(chunk)
        if size > MAX_REPLY_BYTES:
            return b"", False
        chunks.append(chunk)


if __name__ == "__main__":
    serve()
