"""Video hashing speed: our vPDQ reference and fast modes beside Meta's ``vpdq`` package.

Run by hand, not in CI::

    # Meta's vpdq (C++ binding) builds against Debian's FFmpeg development packages:
    apt-get update && apt-get install -y libavcodec-dev libavformat-dev libavutil-dev \\
        libswscale-dev libavdevice-dev libavfilter-dev pkg-config
    .venv/bin/pip install vpdq
    .venv/bin/python bench/video.py            # writes bench/results/video.txt too

The clip is made here with PyAV: 30 s of 1080p30 H.264 (libx264 veryfast, CRF 23,
a keyframe every 2 s as streaming encoders use), panning over synthetic scenes
that change every 5 s; cached in bench/out/. Every method runs ROUNDS times,
interleaved, and its best time is kept: the machine is shared, so only ratios
measured in the same run mean anything. Our times include the sandboxed child
process start and the MD5/SHA-256 of the file; vpdq's include neither.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
from PIL import Image

from stopspread.hashing import (
    FrameHash,
    PdqHash,
    VideoLimits,
    VideoMode,
    VideoSandbox,
    hash_video,
)
from stopspread.hashing._video_decode import decode_and_hash

ROOT = Path(__file__).resolve().parent
CLIP = ROOT / "out" / "clip-1080p-30s.mp4"
RESULTS = ROOT / "results" / "video.txt"
SECONDS, FPS, WIDTH, HEIGHT = 30, 30, 1920, 1080
KEYFRAME_INTERVAL = 2 * FPS  # frames: a keyframe every 2 s
ROUNDS = 2

Method = Callable[[], list[FrameHash]]


def _scene(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, ((HEIGHT + 360) // 64, (WIDTH + 640) // 64, 3), dtype=np.uint8)
    big = Image.fromarray(small).resize((WIDTH + 640, HEIGHT + 360), Image.Resampling.BICUBIC)
    grain = rng.normal(0, 3, (HEIGHT + 360, WIDTH + 640, 1))
    return np.clip(np.asarray(big, dtype=np.float32) + grain, 0, 255).astype(np.uint8)


def make_clip(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.codec_context.gop_size = KEYFRAME_INTERVAL
        stream.options = {"preset": "veryfast", "crf": "23"}
        scene = _scene(0)
        for i in range(SECONDS * FPS):
            if i % (5 * FPS) == 0:
                scene = _scene(i)
            k = i % (5 * FPS)
            frame = np.ascontiguousarray(scene[2 * k : 2 * k + HEIGHT, 4 * k : 4 * k + WIDTH])
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(stream.encode(None))


def ours(mode: VideoMode, seconds_per_hash: float) -> Method:
    return lambda: list(hash_video(CLIP, mode=mode, seconds_per_hash=seconds_per_hash).frames)


def warm(sandbox: VideoSandbox, mode: VideoMode, seconds_per_hash: float) -> Method:
    """Per file in a scan: one warm sandbox process (started and warmed before timing)."""
    return lambda: list(
        hash_video(CLIP, mode=mode, seconds_per_hash=seconds_per_hash, sandbox=sandbox).frames
    )


def in_process(mode: VideoMode, seconds_per_hash: float) -> Method:
    """The same decode without the sandbox child: shows the child's fixed start-up cost."""
    return lambda: list(decode_and_hash(str(CLIP), mode, seconds_per_hash, VideoLimits()).frames)


def meta(seconds_per_hash: float) -> Method | None:
    try:
        import vpdq  # type: ignore[import-not-found]
    except ImportError:
        return None

    def run() -> list[FrameHash]:
        features = vpdq.computeHash(str(CLIP), seconds_per_hash=seconds_per_hash)
        return [
            FrameHash(f.frame_number, f.quality, PdqHash.from_hex(f.hex), f.timestamp)
            for f in features
        ]

    return run


def _best_times(methods: dict[str, Method]) -> tuple[dict[str, float], dict[str, list[FrameHash]]]:
    best = dict.fromkeys(methods, float("inf"))
    frames: dict[str, list[FrameHash]] = {}
    for round_ in range(ROUNDS):
        order = list(methods) if round_ % 2 == 0 else list(reversed(methods))
        for name in order:
            start = time.perf_counter()
            frames[name] = methods[name]()
            best[name] = min(best[name], time.perf_counter() - start)
    return best, frames


def _distances(a: list[FrameHash], b: list[FrameHash]) -> str:
    by_frame = {f.frame: f for f in b}
    pairs = [
        f.pdq.distance(by_frame[f.frame].pdq)
        for f in a
        if f.frame in by_frame and not f.low_quality and not by_frame[f.frame].low_quality
    ]
    if not pairs:
        return "n/a"
    return f"mean {np.mean(pairs):.2f}, max {max(pairs)} bits over {len(pairs)} frames"


def main() -> None:
    if not CLIP.exists():
        make_clip(CLIP)
    sandbox = VideoSandbox()
    hash_video(CLIP, mode=VideoMode.FAST, sandbox=sandbox)  # start and warm it, untimed
    methods: dict[str, Method] = {
        "ours reference, every frame": ours(VideoMode.REFERENCE, 0),
        "ours reference, 1 frame/s": ours(VideoMode.REFERENCE, 1),
        "ours fast (keyframes), 1/s": ours(VideoMode.FAST, 1),
        "  same, in-process (no child)": in_process(VideoMode.FAST, 1),
        "ours reference 1/s, warm sandbox": warm(sandbox, VideoMode.REFERENCE, 1),
        "ours fast 1/s, warm sandbox": warm(sandbox, VideoMode.FAST, 1),
    }
    for label, step in (("vpdq, every frame", 0.0), ("vpdq, 1 frame/s", 1.0)):
        method = meta(step)
        if method is not None:
            methods[label] = method
    best, frames = _best_times(methods)
    sandbox.close()
    total = SECONDS * FPS
    lines = [
        f"# bench/video.py  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores (shared), "
        f"Python {sys.version.split()[0]}, PyAV {av.__version__}, best of {ROUNDS}",
        f"# clip: {WIDTH}x{HEIGHT} H.264, {SECONDS} s at {FPS} fps = {total} frames, "
        f"keyframe every {KEYFRAME_INTERVAL // FPS} s",
        "",
        f"{'method':34} {'hashed':>6} {'seconds':>8} {'frames/s':>9} {'x realtime':>10}",
    ]
    for name, seconds in best.items():
        lines.append(
            f"{name:34} {len(frames[name]):6d} {seconds:8.2f} {total / seconds:9.1f} "
            f"{SECONDS / seconds:10.2f}"
        )
    lines.append("")
    ref = frames["ours reference, every frame"]
    for theirs, ours_name in (
        ("vpdq, every frame", "ours reference, every frame"),
        ("vpdq, 1 frame/s", "ours reference, 1 frame/s"),
        ("vpdq, 1 frame/s", "ours reference 1/s, warm sandbox"),
    ):
        if theirs in best:
            lines.append(f"speed {ours_name} / {theirs}: {best[theirs] / best[ours_name]:.2f}x")
            lines.append(f"  hashes vs vpdq: {_distances(frames[ours_name], frames[theirs])}")
    if "vpdq, every frame" not in best:
        lines.append("vpdq not installed: see this script's docstring")
    lines.append(
        f"fast-mode drift vs reference: {_distances(frames['ours fast (keyframes), 1/s'], ref)}"
    )
    text = "\n".join(lines) + "\n"
    print(text, end="")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
