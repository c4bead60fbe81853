"""CLI fixtures: small synthetic videos and images, made in code at test time."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image


def scene(seed: int, width: int = 200, height: int = 150) -> np.ndarray:
    """A smooth random picture with detail (quality 100), never a real photograph."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (height // 16, width // 16, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC))


def write_video(path: Path, seed: int, seconds: int = 3, fps: int = 10) -> Path:
    """H.264 in MP4: the scene panning slowly, 160x120."""
    picture = scene(seed)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for i in range(seconds * fps):
            frame = np.ascontiguousarray(picture[i // 2 : i // 2 + 120, i : i + 160])
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(stream.encode(None))
    return path


@pytest.fixture
def video_a(tmp_path: Path) -> Path:
    return write_video(tmp_path / "a.mp4", seed=1)


@pytest.fixture
def video_b(tmp_path: Path) -> Path:
    return write_video(tmp_path / "b.mp4", seed=2)


@pytest.fixture
def image_a(tmp_path: Path) -> Path:
    """The first frame of ``video_a`` as a PNG."""
    Image.fromarray(np.ascontiguousarray(scene(1)[:120, :160])).save(tmp_path / "a.png")
    return tmp_path / "a.png"
