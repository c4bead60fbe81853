"""Decode untrusted video in a child process with wall-time and memory limits.

FFmpeg parses hostile containers in C. Whatever it does — crash, loop, eat
memory — happens in a child Python process (``python -m
stopspread.hashing._sandbox``; the request, reply and limits are in
``_sandbox_protocol``, shared with the warm server in ``_warm``): the child sets
``RLIMIT_AS`` (memory), ``RLIMIT_CPU`` and no core dumps on itself before it
opens the file; the parent
waits at most ``max_seconds`` of wall time, then kills it. Every outcome reaches
the caller as a result or a :class:`~stopspread.errors.MediaError`; the parent
never hangs and never crashes.

Both directions speak JSON, never pickle: a child that a hostile file has
taken over can send back wrong hashes at worst, not code for the parent to run.
A fresh interpreter (not ``multiprocessing``) also means the caller's
``__main__`` is never re-imported, so library users need no ``if __name__``
guard.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any, Final

from stopspread.errors import MediaTimeoutError, VideoDecodeError
from stopspread.hashing._sandbox_protocol import (
    decode_reply,
    died,
    encode_request,
    parse_reply,
    set_limits,
)
from stopspread.hashing.pdq import PdqHash
from stopspread.hashing.vpdq import FrameHash, VideoLimits, VideoMode

__all__ = ["decode_in_child", "frames_from_reply"]

_KILL_WAIT_SECONDS: Final = 5.0


def decode_in_child(
    path: str, mode: VideoMode, seconds_per_hash: float, limits: VideoLimits
) -> dict[str, Any]:
    """Run the decoder in a child; returns its JSON reply (``frames`` as 4-item lists)."""
    command = [sys.executable, "-s", "-m", "stopspread.hashing._sandbox"]
    # The child imports exactly what this process imports from (no user site-packages).
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    with subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter and module
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    ) as proc:
        try:
            stdout, _ = proc.communicate(
                encode_request(path, mode, seconds_per_hash, limits).encode(),
                timeout=limits.max_seconds,
            )
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(_KILL_WAIT_SECONDS)
            raise MediaTimeoutError(
                f"decoding took longer than {limits.max_seconds:g} s and was stopped"
            ) from None
        except BaseException:  # KeyboardInterrupt included: never leave the child running
            proc.kill()
            raise
    if proc.returncode != 0 and not stdout:
        raise died(proc.returncode)
    return parse_reply(stdout)


def frames_from_reply(reply: dict[str, Any]) -> tuple[FrameHash, ...]:
    try:
        return tuple(
            FrameHash(int(n), int(q), PdqHash.from_hex(str(h)), float(t))
            for n, q, h, t in reply["frames"]
        )
    except (KeyError, TypeError, ValueError):
        raise VideoDecodeError("decoder sent a malformed reply") from None


def _child_main() -> None:
    request = json.loads(sys.stdin.buffer.read())
    set_limits(VideoLimits(**request["limits"]))
    sys.stdout.write(json.dumps(decode_reply(request)))


if __name__ == "__main__":
    _child_main()
