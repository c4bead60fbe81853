"""Decode evidence media for a preview in a child process with memory, CPU and time limits.

``python -m stopspread.evidence._preview_child CONTENT_TYPE`` reads the media bytes on stdin,
sets ``RLIMIT_AS``, ``RLIMIT_CPU`` and no core dumps on itself, and writes one JSON line: the
picture shrunk to at most ``SMALL_SIDE`` pixels, in greyscale, base64 — or an error. The
parent checks the size and blurs it itself; a crash, a loop or a memory blow-up stays here.
"""

from __future__ import annotations

import base64
import json
import os
import resource
import subprocess
import sys
from typing import Any, Final

from PIL import Image

from stopspread.errors import EvidenceError

__all__ = ["MEMORY_BYTES", "WALL_SECONDS", "small_grey_in_child"]

MEMORY_BYTES: Final = 2 * 1024**3
WALL_SECONDS: Final = 20.0
CPU_SECONDS: Final = 40
SMALL_LIMIT: Final = 64  # the parent refuses anything larger (SMALL_SIDE is smaller still)


def small_grey_in_child(data: bytes, content_type: str) -> Image.Image:
    command = [sys.executable, "-s", "-m", "stopspread.evidence._preview_child", content_type]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv: our interpreter, our module
            command,
            input=data,
            capture_output=True,
            timeout=WALL_SECONDS,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise EvidenceError("making the preview took too long") from exc
    return _parse(done.stdout, done.returncode)


def _parse(stdout: bytes, returncode: int) -> Image.Image:
    try:
        reply: dict[str, Any] = json.loads(stdout)
        if not reply.get("ok"):
            raise EvidenceError(f"no preview: {str(reply.get('error', 'failed'))[:200]}")
        width, height = int(reply["width"]), int(reply["height"])
        pixels = base64.b64decode(reply["pixels"], validate=True)
    except (ValueError, KeyError, TypeError) as exc:
        raise EvidenceError(f"the preview process failed (status {returncode})") from exc
    if (
        not (0 < width <= SMALL_LIMIT and 0 < height <= SMALL_LIMIT)
        or len(pixels) != width * height
    ):
        raise EvidenceError("the preview process sent back a picture of the wrong size")
    return Image.frombytes("L", (width, height), pixels)


def _child_main(content_type: str) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    data = sys.stdin.buffer.read()
    # Imported after the limits are set, so FFmpeg loads under them.
    from stopspread.evidence.preview import small_grey

    try:
        small = small_grey(data, content_type)
        reply = {
            "ok": True,
            "width": small.width,
            "height": small.height,
            "pixels": base64.b64encode(small.tobytes()).decode("ascii"),
        }
    except EvidenceError as exc:
        reply = {"ok": False, "error": str(exc)}
    except MemoryError:
        reply = {"ok": False, "error": "over the memory limit"}
    sys.stdout.write(json.dumps(reply))


if __name__ == "__main__":
    _child_main(sys.argv[1] if len(sys.argv) > 1 else "")
