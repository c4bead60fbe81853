"""``stopspread match``: files and hash lists; exit 0 match, 1 no match, 2 trouble."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from stopspread.cli import cli


def _match(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["match", *args])
    return result.exit_code, result.stdout + result.stderr


def _hash_to(tmp_path: Path, name: str, *args: str) -> Path:
    result = CliRunner().invoke(cli, ["hash", *args])
    assert result.exit_code == 0
    (tmp_path / name).write_text(result.stdout)
    return tmp_path / name


def test_same_video(video_a: Path) -> None:
    code, out = _match(str(video_a), str(video_a))
    assert code == 0
    assert out.startswith("match: same-video")


def test_different_videos(video_a: Path, video_b: Path) -> None:
    code, out = _match(str(video_a), str(video_b), "--json")
    assert code == 1
    record = json.loads(out)
    assert (record["match"], record["verdict"]) == (False, "no-match")


def test_against_a_vpdq_hash_list(video_a: Path, tmp_path: Path) -> None:
    hashes = _hash_to(tmp_path, "a.txt", str(video_a), "--seconds-per-hash", "0")
    code, out = _match(str(video_a), str(hashes), "--json")
    record = json.loads(out)
    assert code == 0
    assert record["query_percent"] == 100.0
    assert record["compared_frames"] >= 3


def test_image_is_a_frame_of_the_video(image_a: Path, video_a: Path) -> None:
    code, out = _match(str(image_a), str(video_a), "--json")
    assert code == 0
    assert json.loads(out)["verdict"] == "query-in-compared"
    code, _ = _match(str(image_a), str(video_a), "--rule", "same-video")
    assert code == 1


def test_against_a_pdq_hash_list(image_a: Path, tmp_path: Path) -> None:
    hashes = _hash_to(tmp_path, "img.txt", str(image_a), "--dihedral", "--digests")
    code, _ = _match(str(image_a), str(hashes))
    assert code == 0


def test_trouble_exits_2(tmp_path: Path, video_a: Path) -> None:
    (tmp_path / "bad.txt").write_text("pdq nothex 100 x\n")
    assert _match(str(video_a), str(tmp_path / "bad.txt"))[0] == 2
    assert _match(str(video_a), str(tmp_path / "missing.mp4"))[0] == 2
    assert _match(str(video_a))[0] == 2
    assert _match(str(video_a), str(video_a), "--rule", "nope")[0] == 2
    (tmp_path / "noise.mp4").write_bytes(bytes(range(256)) * 10)
    code, out = _match(str(tmp_path / "noise.mp4"), str(video_a))
    assert code == 2
    assert "noise.mp4" in out
