"""Query hashing (the ss-img-1 query set), per stage and end to end through ``/v1/hash``.

Run by hand, not in CI (issue 14 budget: <= 60 ms per upload)::

    .venv/bin/python bench/query_hashing.py [--corpus DIR] [--photos 6] [--rounds 3]

Inputs, made from real photos (default ``corpus/images/everyday``; synthetic colour fields
without a corpus) and written to ``bench/out/query_hashing`` (never committed): a 12 MP
phone-sized JPEG (4032x3024, q90, with sensor-like grain), 1920x1080 JPEG, 1080x1080 PNG and
WebP, and 1024x768 JPEG (the size ``docs/api.md`` measured first).

``stages``: ms per image in each stage of ``compute_variants`` (exclusive time: a stage
called inside another is not counted twice; "other" is the rest), median over rounds, in
this thread's CPU time (``--clock cpu``, the default: on a shared, loaded machine wall time
mostly measures waiting for a core) or wall time (``--clock wall``).
``e2e``: ``stopspread serve`` in its own process (SQLite, a ``--can-hash`` client), each
file POSTed to ``/v1/hash`` one at a time: p50/p95 of the answer time, and p50 of the CPU
time the server spent per upload (from ``/proc``; 10 ms clock ticks, so read it as a median
of coarse samples). The anchor,
``pdqhash.compute`` of the same 1920x1080 JPEGs in this process, is measured in the same
run so that runs on this shared machine can be compared (report times and the ratio).
The load average is printed at the start and the end.

To compare with an older tree, run this file with ``PYTHONPATH=OLD/src``: the stage timer
wraps the functions of either version by name.
"""

from __future__ import annotations

import argparse
import functools
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from stopspread.hashing import _regions, _shared_image, signals
from stopspread.hashing.signals import SS_IMG_1

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "from stopspread.cli import main; main()"]
KINDS = [  # (name, size, format)
    ("12MP.jpg", (4032, 3024), "JPEG"),
    ("1920x1080.jpg", (1920, 1080), "JPEG"),
    ("1080x1080.png", (1080, 1080), "PNG"),
    ("1080x1080.webp", (1080, 1080), "WEBP"),
    ("1024x768.jpg", (1024, 768), "JPEG"),
]


def cover(img: Image.Image, w: int, h: int) -> Image.Image:
    scale = max(w / img.width, h / img.height)
    size = (max(w, round(img.width * scale)), max(h, round(img.height * scale)))
    img = img.resize(size, Image.Resampling.LANCZOS)
    left, top = (img.width - w) // 2, (img.height - h) // 2
    return img.crop((left, top, left + w, top + h))


def make_inputs(source: Path, photos: int, out: Path) -> dict[str, list[Path]]:
    files = sorted(p for p in source.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    files = files[:: max(1, len(files) // photos)][:photos] if files else []
    rng = np.random.default_rng(0)
    result: dict[str, list[Path]] = {}
    for name, (w, h), fmt in KINDS:
        paths = []
        for i in range(photos):
            path = out / f"{i:02d}-{name}"
            if not path.exists():
                out.mkdir(parents=True, exist_ok=True)
                if files:
                    img = cover(Image.open(files[i % len(files)]).convert("RGB"), w, h)
                else:
                    noise = rng.integers(0, 256, (9, 12, 3), dtype=np.uint8)
                    img = Image.fromarray(noise).resize((w, h), Image.Resampling.BICUBIC)
                if w * h > 8_000_000:  # grain, so the 12 MP file is not a smooth upscale
                    grain = rng.normal(0, 3, (h, w, 1)).astype(np.int16)
                    img = Image.fromarray(np.clip(np.asarray(img) + grain, 0, 255).astype(np.uint8))
                img.save(path, fmt, **({} if fmt == "PNG" else {"quality": 90}))
            paths.append(path)
        result[name] = paths
    return result


class StageTimer:
    """Exclusive wall time per stage, by wrapping module functions by name."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.totals: dict[str, float] = {}
        self._stack: list[float] = []  # time spent in nested stages, per open frame

    def wrap(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._stack.append(0.0)
            start = self.clock()
            try:
                return fn(*args, **kwargs)
            finally:
                took = self.clock() - start
                nested = self._stack.pop()
                self.totals[stage] = self.totals.get(stage, 0.0) + took - nested
                if self._stack:
                    self._stack[-1] += took

        return timed


STAGES = [  # (module, attribute, stage); attributes missing in a version are skipped
    (signals, "open_source", "open (header)"),
    (signals, "load", "decode"),
    (signals, "to_rgb", "to RGB"),
    (_regions, "working_copy", "box resize"),
    (_regions, "small_array", "luma for borders"),
    (_regions, "small_from_copy", "luma for borders"),
    (_regions, "trim_box", "border boxes"),
    (_regions, "content_box", "border boxes"),
    (_regions, "pdq_pixels", "512 sampling"),
    (_regions, "sample_box", "512 sampling"),
    (signals, "dct_from_pixels", "PDQ core (C)"),
    (signals, "hash_from_dct", "threshold"),
]


@contextmanager
def instrumented(timer: StageTimer) -> Iterator[None]:
    saved: list[tuple[Any, str, Any]] = []
    for module, name, stage in STAGES:
        if hasattr(module, name):
            saved.append((module, name, getattr(module, name)))
            setattr(module, name, timer.wrap(stage, getattr(module, name)))
    shared = _shared_image.SharedImage  # the full-size array, made once an upload
    prop = shared.__dict__["pixels"]
    shared.pixels = property(timer.wrap("full-size array", prop.fget))  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        shared.pixels = prop  # type: ignore[method-assign]
        for module, name, fn in saved:
            setattr(module, name, fn)


CLOCKS = {"cpu": time.thread_time, "wall": time.perf_counter}


def stages(inputs: dict[str, list[Path]], rounds: int, clock: str) -> None:
    names = list(dict.fromkeys(stage for _m, _n, stage in STAGES))
    names.insert(3, "full-size array")
    print(f"\nstages: ms per image ({clock} time), median over rounds (exclusive time)")
    print(f"{'stage':>18} | " + " | ".join(f"{k:>14}" for k in inputs))
    table: dict[str, dict[str, float]] = {}
    for kind, paths in inputs.items():
        blobs = [p.read_bytes() for p in paths]
        signals.query_hashes(blobs[0])  # warm
        per_round: list[dict[str, float]] = []
        for _ in range(rounds):
            for blob in blobs:
                timer = StageTimer(CLOCKS[clock])
                with instrumented(timer):
                    start = timer.clock()
                    signals.query_hashes(blob, SS_IMG_1)
                    total = timer.clock() - start
                timer.totals["total"] = total
                timer.totals["other"] = total - sum(
                    v for k, v in timer.totals.items() if k != "total"
                )
                per_round.append(timer.totals)
        table[kind] = {
            k: statistics.median(r.get(k, 0.0) for r in per_round) * 1000
            for k in [*names, "other", "total"]
        }
    for stage in [*names, "other", "total"]:
        cells = " | ".join(f"{table[k][stage]:>11.2f} ms" for k in inputs)
        print(f"{stage:>18} | {cells}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(client: Any, proc: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            client.get("/healthz", timeout=5).raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.5)
    raise RuntimeError("the server did not answer /healthz")


def e2e(inputs: dict[str, list[Path]], rounds: int) -> None:
    import httpx

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "STOPSPREAD_DATA_DIR": tmp}
        made = subprocess.run(
            [*CLI, "client", "create", "bench", "--can-hash"],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        key = made.stdout.strip()
        port = free_port()
        proc = subprocess.Popen(
            [*CLI, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/octet-stream"}
            with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
                wait_ready(client, proc)
                print("\ne2e: POST /v1/hash, one at a time, ms per upload (wall; server CPU)")
                print(f"{'input':>15} | {'p50':>9} | {'p95':>9} | {'CPU p50':>9} | n")
                for kind, paths in inputs.items():
                    blobs = [p.read_bytes() for p in paths]
                    client.post("/v1/hash", content=blobs[0]).raise_for_status()  # warm
                    took, cpu = [], []
                    for _ in range(rounds):
                        for blob in blobs:
                            start, cpu_start = time.perf_counter(), cpu_seconds(proc.pid)
                            client.post("/v1/hash", content=blob).raise_for_status()
                            took.append((time.perf_counter() - start) * 1000)
                            cpu.append((cpu_seconds(proc.pid) - cpu_start) * 1000)
                    p95 = float(np.percentile(took, 95))
                    p50, cpu50 = statistics.median(took), statistics.median(cpu)
                    print(
                        f"{kind:>15} | {p50:>6.1f} ms | {p95:>6.1f} ms | {cpu50:>6.1f} ms"
                        f" | {len(took)}"
                    )
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def anchor(paths: list[Path], rounds: int) -> float:
    import pdqhash

    took = []
    for _ in range(rounds):
        for p in paths:
            start = time.perf_counter()
            with Image.open(io.BytesIO(p.read_bytes())) as img:
                pdqhash.compute(np.asarray(img.convert("RGB")))
            took.append((time.perf_counter() - start) * 1000)
    return statistics.median(took)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus" / "images" / "everyday")
    ap.add_argument("--photos", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "query_hashing")
    ap.add_argument("--only", choices=("stages", "e2e"), default=None)
    ap.add_argument("--clock", choices=tuple(CLOCKS), default="cpu")
    args = ap.parse_args()
    inputs = make_inputs(args.corpus, args.photos, args.out)
    origin = "real photos" if args.corpus.is_dir() else "synthetic images"
    code = Path(signals.__file__).resolve().parent.parent.parent
    shown = "this tree" if code == ROOT / "src" else "PYTHONPATH tree"
    print(f"inputs: {args.photos} per kind from {origin}; code: {shown}; cores: {os.cpu_count()}")
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    anchor_ms = anchor(inputs["1920x1080.jpg"], args.rounds)
    print(f"anchor: pdqhash.compute of the 1920x1080 JPEGs (decode + PDQ) p50 {anchor_ms:.1f} ms")
    if args.only in (None, "stages"):
        stages(inputs, args.rounds, args.clock)
    if args.only in (None, "e2e"):
        e2e(inputs, args.rounds)
    anchor_ms = anchor(inputs["1920x1080.jpg"], args.rounds)
    print(f"\nanchor again: p50 {anchor_ms:.1f} ms")
    print(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
