"""pytx's vPDQ signal reads ``stopspread hash --format tx`` video lines, and they match.

pytx's vPDQ extension imports Meta's ``vpdq`` binding, which ``make test`` builds (the
``interop`` extra) against Debian's FFmpeg development packages.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from threatexchange.extensions.vpdq.vpdq import VPDQSignal

from stopspread.cli import cli
from tests.cli.conftest import write_video


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
