"""The walkthrough of issue 14, end to end: a center opens a case from three photos with
``case create --center``; a folder scan finds their 85 % crops by shape points (``ss-kp-1``),
which ``ss-img-1`` alone missed, and flags no unrelated picture. Images are made in code."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from PIL import Image

from stopspread.cli import cli
from tests.hashing.test_keypoints import scene
from tests.scankit import shapes

SEEDS = (11, 12, 13)


def _jpeg(image: Image.Image, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _crop_85(image: Image.Image, seed: int) -> Image.Image:
    """85 % of the width and height at a random offset (the walkthrough's crops)."""
    rng = np.random.default_rng(seed)
    w, h = image.size
    cw, ch = int(w * 0.85), int(h * 0.85)
    x, y = int(rng.integers(0, w - cw)), int(rng.integers(0, h - ch))
    return image.crop((x, y, x + cw, y + ch))


def _rows(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(tmp_path / "stopspread.db") as conn:
        return conn.execute(sql).fetchall()


def test_a_folder_scan_finds_the_85_percent_crops_by_shape_points(tmp_path: Path) -> None:
    env = {
        "STOPSPREAD_DATA_DIR": str(tmp_path),
        "STOPSPREAD_ARGON2_MEMORY_KIB": "1024",
        "STOPSPREAD_ARGON2_TIME_COST": "1",
    }
    photos, folder = tmp_path / "photos", tmp_path / "found"
    photos.mkdir()
    folder.mkdir()
    for seed in SEEDS:
        picture = scene(seed, (1200, 900))
        (photos / f"{seed}.jpg").write_bytes(_jpeg(picture, 92))
        (folder / f"crop-{seed}.jpg").write_bytes(_jpeg(_crop_85(picture, seed)))
    (folder / "unrelated-shapes.jpg").write_bytes(shapes(100))
    (folder / "unrelated-scene.jpg").write_bytes(_jpeg(scene(99, (1200, 900))))
    runner = CliRunner()
    assert runner.invoke(cli, ["center", "create", "Seoul Center"], env=env).exit_code == 0
    made = runner.invoke(cli, ["case", "create", "--center", "Seoul Center", str(photos)], env=env)
    assert made.exit_code == 0, made.output
    assert "the shape points of 3 photos" in made.stderr
    code = made.stdout.split("code: ")[1].split()[0]
    added = runner.invoke(cli, ["source", "add", code, "folder", str(folder)], env=env)
    assert added.exit_code == 0, added.output
    ran = runner.invoke(cli, ["scan", "run", added.stdout.strip()], env=env)
    assert ran.exit_code == 0, ran.output
    assert "hits 3 (new 3," in ran.output
    found = _rows(
        tmp_path, "select media_url, signal_type, signal_id, distance from sightings order by id"
    )
    assert sorted(Path(str(url)).name for url, *_ in found) == [f"crop-{s}.jpg" for s in SEEDS]
    assert {kind for _url, kind, _signal, _points in found} == {"ss-kp-1"}  # not ss-img-1
    assert all(signal is not None and int(str(points)) >= 30 for _u, _k, signal, points in found)
    assert _rows(tmp_path, "select review_status from sightings") == [("pending",)] * 3
    assert len(_rows(tmp_path, "select id from keypoint_records")) == 3
