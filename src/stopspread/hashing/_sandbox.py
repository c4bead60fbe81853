"""Decode untrusted video in a child process with wall-time and memory limits.

FFmpeg parses hostile containers in C. Whatever it does — crash, loop, eat
memory — happens in a child Python process (``python -m
stopspread.hashing._sandbox``): the child sets ``RLIMIT_AS`` (memory),
``RLIMIT_CPU`` and no core dumps on itself before it opens the file; the parent
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
import resource
import signal
import subprocess
import sys
from dataclasses import asdict
from typing import Any, Final

from stopspread import errors
from stopspread.errors import MediaError, MediaTimeoutError, VideoDecodeError
from stopspread.hashing.pdq import PdqHash
from stopspread.hashing.vpdq import FrameHash, VideoLimits, VideoMode

__all__ = ["decode_in_child", "frames_from_reply"]

# CPU seconds per wall second the child may use before the kernel stops it: a backstop
# should the parent itself be stopped; decoder and hashing threads use several cores.
_CPU_PER_WALL_SECOND: Final = 8
_KILL_WAIT_SECONDS: Final = 5.0
# Error classes a child may name; anything else becomes VideoDecodeError.
_ERRORS: Final = {
    name: getattr(errors, name)
    for name in errors.__all__
    if isinstance(getattr(errors, name), type) and issubclass(getattr(errors, name), MediaError)
}


def _request(path: str, mode: VideoMode, seconds_per_hash: float, limits: VideoLimits) -> str:
    return json.dumps(
        {"path": path, "mode": mode.value, "seconds": seconds_per_hash, "limits": asdict(limits)}
    )


def _died(returncode: int) -> MediaError:
    if returncode < 0:
        sig = signal.Signals(-returncode)
        if sig is signal.SIGXCPU:
            return MediaTimeoutError("decoder used more than its CPU-time limit")
        return VideoDecodeError(f"decoder crashed ({sig.name})")
    return VideoDecodeError(f"decoder exited unexpectedly (status {returncode})")


def _parse_reply(stdout: bytes) -> dict[str, Any]:
    try:
        reply = json.loads(stdout)
    except ValueError:
        raise VideoDecodeError("decoder sent a malformed reply") from None
    if not isinstance(reply, dict):
        raise VideoDecodeError("decoder sent a malformed reply")
    if not reply.get("ok"):
        error = _ERRORS.get(str(reply.get("error")), VideoDecodeError)
        raise error(str(reply.get("message", "video could not be decoded")))
    return reply


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
                _request(path, mode, seconds_per_hash, limits).encode(),
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
        raise _died(proc.returncode)
    return _parse_reply(stdout)


def frames_from_reply(reply: dict[str, Any]) -> tuple[FrameHash, ...]:
    try:
        return tuple(
            FrameHash(int(n), int(q), PdqHash.from_hex(str(h)), float(t))
            for n, q, h, t in reply["frames"]
        )
    except (KeyError, TypeError, ValueError):
        raise VideoDecodeError("decoder sent a malformed reply") from None


def _set_limits(limits: VideoLimits) -> None:
    memory = limits.max_memory_bytes
    cpu = max(1, int(limits.max_seconds * _CPU_PER_WALL_SECOND))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core dumps of hostile media


def _decode_reply(request: dict[str, Any]) -> dict[str, Any]:
    """Decode one requested file (limits already set); every outcome is a JSON-able reply."""
    limits = VideoLimits(**request["limits"])
    # Imported here: in a one-shot child, after the limits are set, so PyAV loads under them.
    from stopspread.hashing._video_decode import decode_and_hash

    try:
        video = decode_and_hash(
            request["path"], VideoMode(request["mode"]), float(request["seconds"]), limits
        )
        return {
            "ok": True,
            "frames": [[f.frame, f.quality, f.pdq.hex, f.timestamp] for f in video.frames],
            "width": video.width,
            "height": video.height,
            "fps": video.fps,
            "container": video.container,
            "codec": video.codec,
        }
    except MediaError as exc:
        return {"ok": False, "error": type(exc).__name__, "message": str(exc)}
    except MemoryError:
        return {"ok": False, "error": "MediaTooLargeError", "message": "over the memory limit"}
    except Exception as exc:  # an unforeseen decoder failure is still a typed error
        return {"ok": False, "error": "VideoDecodeError", "message": f"decoder failed: {exc}"}


def _child_main() -> None:
    request = json.loads(sys.stdin.buffer.read())
    _set_limits(VideoLimits(**request["limits"]))
    sys.stdout.write(json.dumps(_decode_reply(request)))


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        from stopspread.hashing._warm import serve

        serve()
    else:
        _child_main()
