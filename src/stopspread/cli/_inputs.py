"""Turning command-line PATH arguments into a list of inputs to hash."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from stopspread.hashing.sniff import VIDEO_SUFFIXES

__all__ = ["IMAGE_SUFFIXES", "STDIN", "InputProblem", "expand_paths"]

STDIN: Final = "-"
# What a folder walk picks up. Files named explicitly are always tried.
IMAGE_SUFFIXES: Final = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".mpo"}
    | {".ppm", ".pgm", ".pbm", ".avif"}
)


@dataclass(frozen=True, slots=True)
class InputProblem:
    """A PATH argument that names nothing hashable."""

    path: str
    message: str


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder, onerror=None, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if path.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES:
                yield path


def expand_paths(args: tuple[str, ...]) -> tuple[list[str | Path], list[InputProblem]]:
    """Files as given, folders walked recursively (image and video suffixes), ``-`` for stdin."""
    inputs: list[str | Path] = []
    problems: list[InputProblem] = []
    for arg in args:
        if arg == STDIN:
            inputs.append(STDIN)
            continue
        path = Path(arg)
        if path.is_dir():
            inputs.extend(_walk(path))
        elif path.exists():
            inputs.append(path)
        else:
            problems.append(InputProblem(arg, "no such file or folder"))
    return inputs, problems
