"""``stopspread hash`` on videos: vPDQ lines, JSON, routing by container signature."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from stopspread.cli import cli
from stopspread.hashing import parse_vpdq


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["hash", *args])
    return result.exit_code, result.stdout, result.stderr


def test_video_prints_vpdq_lines(video_a: Path) -> None:
    code, out, _ = _run(str(video_a))
    assert code == 0
    frames = list(parse_vpdq(out.splitlines()))
    assert [f.frame for f in frames] == [0, 10, 20]  # 10 fps, one frame a second
    assert out.splitlines()[0].startswith("0,")
    assert out.splitlines()[0].endswith(",0.000")


def test_every_frame_and_digests(video_a: Path) -> None:
    code, out, _ = _run(str(video_a), "--seconds-per-hash", "0", "--digests")
    assert code == 0
    lines = out.splitlines()
    assert len([line for line in lines if "," in line]) == 30
    assert lines[-2].startswith("md5 ")
    assert lines[-1].startswith("sha256 ")


def test_json(video_a: Path) -> None:
    code, out, _ = _run(str(video_a), "--json")
    record = json.loads(out)
    assert code == 0
    assert (record["kind"], record["mode"], record["width"], record["height"]) == (
        "video",
        "reference",
        160,
        120,
    )
    assert len(record["md5"]) == 32
    assert [f["frame"] for f in record["frames"]] == [0, 10, 20]


def test_fast_mode(video_a: Path) -> None:
    code, out, _ = _run(str(video_a), "--fast", "--json")
    assert code == 0
    assert json.loads(out)["mode"] == "fast"


def test_routed_by_signature_not_suffix(video_a: Path, image_a: Path, tmp_path: Path) -> None:
    disguised = tmp_path / "holiday.jpg"
    shutil.copy(video_a, disguised)
    code, out, _ = _run(str(disguised), str(image_a))
    assert code == 0
    assert out.splitlines()[0] == f"# vpdq {disguised}"  # several inputs: one header each
    assert out.splitlines()[-1].startswith("pdq ")


def test_folder_walk_finds_videos(video_a: Path, tmp_path: Path) -> None:
    code, out, _ = _run(str(tmp_path))
    assert code == 0
    assert f"# vpdq {video_a}" in out


def test_broken_video_fails_cleanly(tmp_path: Path, video_a: Path) -> None:
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(100))
    code, out, err = _run(str(tmp_path / "broken.mp4"), str(video_a), "--json")
    assert code == 1
    first = json.loads(out.splitlines()[0])
    assert first["kind"] == "VideoDecodeError"
    assert "broken.mp4" in err
    assert json.loads(out.splitlines()[1])["kind"] == "video"  # the next file still hashed


def test_signal_sets_give_robust_views(video_a: Path) -> None:
    code, out, _ = _run(str(video_a), "--signal-set", "enrolment", "--json")
    record = json.loads(out)
    assert code == 0 and record["mode"] == "robust-enrol"
    frames = [f["frame"] for f in record["frames"]]
    assert frames[0] == frames[1] == 0  # a frame's views share its number
    assert len(set(frames)) > 3  # every frame that moved, not one a second
    code, out, _ = _run(str(video_a), "--signal-set", "query")
    views = list(parse_vpdq(out.splitlines()))
    assert code == 0 and len(views) > len({f.frame for f in views})
