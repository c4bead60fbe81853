"""pytx's vPDQ signal reads ``stopspread hash --format tx`` video lines, and they match.

Needs Meta's ``vpdq`` binding (pytx's vPDQ extension imports it); it builds against
Debian's FFmpeg development packages (see bench/video.py), so the test skips without it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from stopspread.cli import cli
from tests.cli.conftest import write_video

pytest.importorskip("vpdq", reason="Meta's vpdq binding is not installed (bench/video.py)")

from threatexchange.extensions.vpdq.vpdq import VPDQSignal


def _tx_vpdq(path: Path) -> str:
    result = CliRunner().invoke(cli, ["hash", "--format", "tx", str(path)])
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("vpdq "))
    return line.partition(" ")[2]


def test_pytx_parses_and_matches_our_vpdq(tmp_path: Path) -> None:
    ours = _tx_vpdq(write_video(tmp_path / "a.mp4", seed=1))
    assert VPDQSignal.validate_signal_str(ours) == ours
    theirs = VPDQSignal.hash_from_file(tmp_path / "a.mp4")
    same = VPDQSignal.compare_hash(ours, theirs)
    assert same.match
    other = _tx_vpdq(write_video(tmp_path / "b.mp4", seed=2))
    assert not VPDQSignal.compare_hash(other, theirs).match
