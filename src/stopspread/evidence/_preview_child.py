"""Decode evidence media for a preview in a child process with memory, CPU and time limits.

``python -m stopspread.evidence._preview_child CONTENT_TYPE [LEVEL]`` reads the media bytes on
stdin, sets ``RLIMIT_AS``, ``RLIMIT_CPU`` and no core dumps on itself, and writes one JSON line:
the picture shrunk to the preview level's small size and mode (at most ``SMALL_LIMIT`` pixels a
side), base64 — or an error. The parent checks the size and mode and finishes the preview
itself; a crash, a loop or a memory blow-up stays here.
"""

from __future__ import annotations

import base64
import json
import os
import resource
import subprocess
import sys
from typing import TYPE_CHECKING, Any, Final

from PIL import Image

from stopspread.errors import EvidenceError

if TYPE_CHECKING:  # the preview module (and FFmpeg) loads in the child only under its limits
    from stopspread.evidence.preview import PreviewLevel

__all__ = ["MEMORY_BYTES", "WALL_SECONDS", "small_grey_in_child", "small_in_child"]

MEMORY_BYTES: Final = 2 * 1024**3
WALL_SECONDS: Final = 20.0
CPU_SECONDS: Final = 40
CHANNELS: Final = {"L": 1, "RGB": 3}  # the modes a small picture may come back in


def small_grey_in_child(data: bytes, content_type: str) -> Image.Image:
    from stopspread.evidence.preview import PreviewLevel

    return small_in_child(data, content_type, PreviewLevel.BLUR)


def small_in_child(data: bytes, content_type: str, level: PreviewLevel) -> Image.Image:
    """The level's small picture, decoded in the limited child; checked here."""
    module = "stopspread.evidence._preview_child"
    command = [sys.executable, "-s", "-m", module, content_type, level.value]
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
    return _parse(done.stdout, done.returncode, level)


def _parse(stdout: bytes, returncode: int, level: PreviewLevel) -> Image.Image:
    from stopspread.evidence.preview import RECIPES, SMALL_LIMIT

    try:
        reply: dict[str, Any] = json.loads(stdout)
        if not reply.get("ok"):
            raise EvidenceError(f"no preview: {str(reply.get('error', 'failed'))[:200]}")
        width, height = int(reply["width"]), int(reply["height"])
        mode = str(reply.get("mode", "L"))
        pixels = base64.b64decode(reply["pixels"], validate=True)
    except (ValueError, KeyError, TypeError) as exc:
        raise EvidenceError(f"the preview process failed (status {returncode})") from exc
    side = min(RECIPES[level].side, SMALL_LIMIT)
    if (
        mode != RECIPES[level].mode
        or not (0 < width <= side and 0 < height <= side)
        or len(pixels) != width * height * CHANNELS[mode]
    ):
        raise EvidenceError("the preview process sent back a picture of the wrong size")
    return Image.frombytes(mode, (width, height), pixels)


def _child_main(content_type: str, level_name: str) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    data = sys.stdin.buffer.read()
    # Imported after the limits are set, so FFmpeg loads under them.
    from stopspread.evidence.preview import PreviewLevel, small_picture

    try:
        small = small_picture(data, content_type, PreviewLevel(level_name))
        reply = {
            "ok": True,
            "width": small.width,
            "height": small.height,
            "mode": small.mode,
            "pixels": base64.b64encode(small.tobytes()).decode("ascii"),
        }
    except (EvidenceError, ValueError) as exc:
        reply = {"ok": False, "error": str(exc)}
    except MemoryError:
        reply = {"ok": False, "error": "over the memory limit"}
    sys.stdout.write(json.dumps(reply))


if __name__ == "__main__":
    _child_main(
        sys.argv[1] if len(sys.argv) > 1 else "",
        sys.argv[2] if len(sys.argv) > 2 else "blur",
    )
