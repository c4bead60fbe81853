"""The decoder child's protocol, shared by the one-shot sandbox and the warm server.

``_sandbox`` (one child per file) and ``_warm`` (one server forking a grandchild per file)
both speak it: a JSON request naming the file, the mode and the limits; the limits the child
sets on itself before it touches the file; the child's JSON reply; and how the parent reads a
reply or a dead child as a typed error. Neither module imports the other.
"""

from __future__ import annotations

import json
import resource
import signal
from dataclasses import asdict
from typing import Any, Final

from stopspread import errors
from stopspread.errors import MediaError, MediaTimeoutError, VideoDecodeError
from stopspread.hashing.vpdq import VideoLimits, VideoMode

__all__ = ["decode_reply", "died", "encode_request", "parse_reply", "set_limits"]

# CPU seconds per wall second the child may use before the kernel stops it: a backstop
# should the parent itself be stopped; decoder and hashing threads use several cores.
_CPU_PER_WALL_SECOND: Final = 8
# Error classes a child may name; anything else becomes VideoDecodeError.
_ERRORS: Final = {
    name: getattr(errors, name)
    for name in errors.__all__
    if isinstance(getattr(errors, name), type) and issubclass(getattr(errors, name), MediaError)
}


def encode_request(path: str, mode: VideoMode, seconds_per_hash: float, limits: VideoLimits) -> str:
    return json.dumps(
        {"path": path, "mode": mode.value, "seconds": seconds_per_hash, "limits": asdict(limits)}
    )


def died(returncode: int) -> MediaError:
    if returncode < 0:
        sig = signal.Signals(-returncode)
        if sig is signal.SIGXCPU:
            return MediaTimeoutError("decoder used more than its CPU-time limit")
        return VideoDecodeError(f"decoder crashed ({sig.name})")
    return VideoDecodeError(f"decoder exited unexpectedly (status {returncode})")


def parse_reply(stdout: bytes) -> dict[str, Any]:
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


def set_limits(limits: VideoLimits) -> None:
    memory = limits.max_memory_bytes
    cpu = max(1, int(limits.max_seconds * _CPU_PER_WALL_SECOND))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core dumps of hostile media


def decode_reply(request: dict[str, Any]) -> dict[str, Any]:
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
