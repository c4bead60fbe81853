"""``stopspread hash --signal-set``: the default signal set's hashes on the command line."""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from stopspread.cli import cli
from stopspread.hashing.keypoints import query_keypoint_sets
from stopspread.hashing.signals import SS_IMG_1, enrolment_hashes


@pytest.fixture
def image_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    path = tmp_path / "synthetic.png"
    Image.fromarray(pixels).resize((400, 300), Image.Resampling.BICUBIC).save(path)
    return path


def test_text_lines_carry_version_and_variant(image_file: Path) -> None:
    result = CliRunner().invoke(cli, ["hash", str(image_file), "--signal-set", "enrolment"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("pdq ")
    signal_lines = [line for line in lines if line.startswith(f"{SS_IMG_1.version}:")]
    expected = enrolment_hashes(image_file)
    assert len(signal_lines) == len(expected)
    tag, hex_value, _, path = signal_lines[0].split(" ")
    assert (tag, hex_value, path) == (
        f"{SS_IMG_1.version}:full",
        expected[0].hash.hex,
        str(image_file),
    )


def test_json_has_a_signal_set_record(image_file: Path) -> None:
    args = ["hash", str(image_file), "--signal-set", "query", "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["signal_set"]["version"] == "ss-img-1"
    assert record["signal_set"]["role"] == "query"
    assert record["signal_set"]["hashes"][0]["variant"] == "full"
    assert record["signal_set"]["hashes"][0]["pdq"] == record["pdq"]


def test_without_the_option_nothing_changes(image_file: Path) -> None:
    result = CliRunner().invoke(cli, ["hash", str(image_file), "--json"])
    assert "signal_set" not in json.loads(result.output)


def test_match_format_prints_the_v1_match_body(image_file: Path, tmp_path: Path) -> None:
    """``--format match``: one line per image, exactly the JSON body a platform POSTs to
    ``/v1/match`` (tests/web/test_platform_signal_set.py sends it to a real server)."""
    from stopspread.hashing import digest_bytes, query_hashes
    from tests.cli.conftest import write_video

    result = CliRunner().invoke(cli, ["hash", "--format", "match", str(image_file)])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    expected = query_hashes(image_file)
    assert list(body) == ["signal_set", "query", "md5", "keypoints"]
    assert body["signal_set"] == SS_IMG_1.version
    assert body["query"] == [{"value": h.hash.hex, "quality": h.quality} for h in expected]
    assert body["md5"] == digest_bytes(image_file.read_bytes()).md5
    assert 1 <= len(body["query"]) <= 16
    with Image.open(image_file) as image:
        sets = query_keypoint_sets(image)
    assert body["keypoints"] == [base64.b64encode(k.to_bytes()).decode() for k in sets]
    plain = CliRunner().invoke(
        cli, ["hash", "--format", "match", "--no-keypoints", str(image_file)]
    )
    assert list(json.loads(plain.stdout)) == ["signal_set", "query", "md5"]  # PDQ only
    video = write_video(tmp_path / "clip.mp4", seed=1)
    refused = CliRunner().invoke(cli, ["hash", "--format", "match", str(video)])
    assert refused.exit_code == 1 and "for images" in refused.stderr


def test_hashing_leaves_no_pool_thread_behind(image_file: Path, tmp_path: Path) -> None:
    """The CLI closes its batch when done, so no hashing thread outlives the command (a pool
    left to the garbage collector once hung the test process; tests/hashing/test_api.py)."""
    second = tmp_path / "second.png"
    Image.open(image_file).rotate(90, expand=True).save(second)
    result = CliRunner().invoke(cli, ["hash", "--jobs", "2", str(image_file), str(second)])
    assert result.exit_code == 0, result.output
    alive = [t for t in threading.enumerate() if t.name.startswith("stopspread-hash")]
    assert not alive
