"""Recall and latency of ``POST /v1/match`` with and without ss-kp-1 keypoints (issue 14).

DEV photos the shipped vocabulary was not trained on (``bench/keypoints_vocabulary.py``
leaves every 4th manifest row out): ``--enrolled`` of them are enrolled, each as its own case,
as ``case create --center`` enrols them (ss-img-1 enrolment hashes, the file's MD5 and the
photo's keypoint record); ``--unrelated`` others are never enrolled. One edit per photo and
family (``bench/robust_transforms.py`` design generators, seeded) is hashed as the CLI's
``--format match`` does, and sent to a real server on 127.0.0.1 (port 0, a fresh SQLite
database) twice: the PDQ-only body and the body with keypoints. Recall is answers ``match``
for enrolled photos' edits; a false match is ``match`` for an unrelated photo's edit.
Latency is each request's wall-clock time at the client, one request at a time, with the
load average beside it; the bank's start-up (reading, opening and indexing the records) is
timed too.

    .venv/bin/python bench/keypoints_api.py --corpus corpus/dev --enrolled 60 --unrelated 40
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvicorn
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.keypoints_vocabulary import bench_files
from bench.robust_transforms import FAMILIES

from stopspread.cli.hash import format_match_body
from stopspread.config import Settings
from stopspread.hashing import digest_bytes, enrolment_hashes, query_hashes
from stopspread.hashing.keypoints import extract_keypoints, query_keypoint_sets
from stopspread.services.cases import create_case
from stopspread.services.context import build_services
from stopspread.services.keypoint_records import KeypointIn, decode_record
from stopspread.services.platform import create_client
from stopspread.services.signal_input import SignalIn, SignalType
from stopspread.storage import Database, upgrade
from stopspread.web import create_app

DEFAULT_FAMILIES = ("jpeg", "crop>=80", "crop70-80", "border30-40", "rot5-10", "screenshot")


def _jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _enrol(svc: Any, data: bytes) -> None:
    hashes = enrolment_hashes(data)
    signals = [SignalIn(SignalType.PDQ, h.hash.hex, h.quality) for h in hashes]
    signals.append(SignalIn(SignalType.MD5, digest_bytes(data).md5))
    with Image.open(io.BytesIO(data)) as image:
        record = KeypointIn(extract_keypoints(image), hashes[0].hash.hex)
    create_case(svc, signals, keypoints=[record])


def _bodies(data: bytes) -> tuple[str, str]:
    """The PDQ-only body and the body with keypoints, as ``hash --format match`` prints."""
    signals = query_hashes(data)
    md5 = digest_bytes(data).md5
    with Image.open(io.BytesIO(data)) as image:
        sets = query_keypoint_sets(image)
    return format_match_body(signals, md5), format_match_body(signals, md5, sets)


def _serve(settings: Settings) -> tuple[uvicorn.Server, threading.Thread, str]:
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values) * 1000, q)) if values else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("corpus/dev"))
    ap.add_argument("--enrolled", type=int, default=60)
    ap.add_argument("--unrelated", type=int, default=40)
    ap.add_argument("--families", nargs="+", default=list(DEFAULT_FAMILIES))
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = ap.parse_args()
    files = bench_files(args.corpus)
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(files))
    enrolled = [files[int(i)] for i in order[: args.enrolled]]
    unrelated = [files[int(i)] for i in order[args.enrolled : args.enrolled + args.unrelated]]
    tmp = Path(tempfile.mkdtemp(prefix="kpapi-bench-"))
    settings = Settings(data_dir=tmp, database_url=f"sqlite:///{tmp / 'db.sqlite'}")
    db = Database.from_settings(settings)
    upgrade(db)
    svc = build_services(settings, db)
    for path in enrolled:
        _enrol(svc, _jpeg(Image.open(path)))
    _client, key = create_client(db, "bench")
    queries: list[tuple[str, bool, str, str]] = []  # family, enrolled?, pdq body, kp body
    for photos, is_enrolled in ((enrolled, True), (unrelated, False)):
        for path in photos:
            with Image.open(path) as image:
                photo = image.convert("RGB")
            for family in args.families:
                edited = FAMILIES[family](photo, rng)
                queries.append((family, is_enrolled, *_bodies(_jpeg(edited, 85))))
            print(f"{len(queries)} queries made", file=sys.stderr, flush=True)
    load_before = os.getloadavg()
    started = time.perf_counter()
    server, thread, base = _serve(settings)
    ready_s = time.perf_counter() - started
    results: dict[str, Any] = {"families": {}, "load_before": load_before, "ready_s": ready_s}
    times: dict[str, list[float]] = {"pdq": [], "keypoints": []}
    false_matches = {"pdq": 0, "keypoints": 0}
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    with httpx.Client(base_url=base, timeout=60) as client:
        for family, is_enrolled, *bodies in queries:
            row = results["families"].setdefault(family, {"n": 0, "pdq": 0, "keypoints": 0})
            row["n"] += is_enrolled
            for name, body in zip(("pdq", "keypoints"), bodies, strict=True):
                t0 = time.perf_counter()
                answer = client.post("/v1/match", content=body, headers=headers)
                times[name].append(time.perf_counter() - t0)
                matched = bool(answer.json()["match"])
                if is_enrolled:
                    row[name] += matched
                else:
                    false_matches[name] += matched
    bank = server.config.app.state.keypoint_bank
    server.should_exit = True
    thread.join(timeout=30)
    results["load_after"] = os.getloadavg()
    results["false_matches"] = false_matches
    results["unrelated_queries"] = args.unrelated * len(args.families)
    results["latency_ms"] = {
        name: {"p50": _pct(v, 50), "p99": _pct(v, 99), "n": len(v)} for name, v in times.items()
    }
    results["bank_photos"], results["bank_load_s"] = len(bank), bank.load_s
    cpu = []  # the keypoint work alone, on this thread: shortlist + verification
    for _family, _enrolled, _pdq, body in queries:
        sets = [decode_record(text, "k") for text in json.loads(body)["keypoints"]]
        t0 = time.thread_time()
        bank.find(sets)
        cpu.append(time.thread_time() - t0)
    results["find_cpu_ms"] = {"p50": _pct(cpu, 50), "p99": _pct(cpu, 99), "n": len(cpu)}
    results["body_bytes_keypoints_p50"] = float(np.median([len(q[3]) for q in queries]))
    print(json.dumps(results, indent=1))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
