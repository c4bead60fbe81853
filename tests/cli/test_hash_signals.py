"""``stopspread hash --signal-set``: the default signal set's hashes on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from stopspread.cli import cli
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
