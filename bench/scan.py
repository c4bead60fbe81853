"""Scan throughput on a local test site: pages/s and media/s, end to end.

Run by hand, not in CI::

    .venv/bin/python bench/scan.py            # writes bench/results/scan.txt too

The site is the end-to-end test's (``tests/scankit.py``: edited copies of two synthetic
images, a re-encoded reference test video from ``tests/data``, unrelated images), served
by ``http.server`` on 127.0.0.1, plus ``--extra-pages`` pages of unrelated images to give the
crawl some length. A scan does everything a real one does: fetch, robots.txt, parse, hash
(ss-img-1 query set; vPDQ fast mode for videos), match, capture evidence for hits (encrypted
WARC + hash-chained log, SQLite with synchronous=FULL). The per-host pause is 0 here (a real
site gets ``fetch_host_interval_s``, 1 s by default, which bounds a crawl at 1 page/s).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import TESTDATA, make_services  # noqa: E402
from tests.scankit import VIDEO, enrol, original, plant_site, reencode_video, shapes  # noqa: E402
from tests.sources.site import local_site  # noqa: E402

from stopspread.services.scans import queue as scans  # noqa: E402
from stopspread.services.scans.queue import ScanDeps  # noqa: E402
from stopspread.storage.models_scan import SourceKind  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--extra-pages", type=int, default=20)
    parser.add_argument("--images-per-page", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        svc = make_services(
            f"sqlite:///{tmp / 'db.sqlite'}", tmp, fetch_allow_loopback=True,
            fetch_host_interval_s=0.0, crawl_max_pages=1000,
        )  # fmt: skip
        video_path = TESTDATA / VIDEO
        video = reencode_video(video_path)
        _code, case_id = enrol(svc, [original(1), original(2)], [video_path])
        with local_site() as site:
            plant_site(site, (1, 2), video)
            links = []
            for page in range(args.extra_pages):
                tags = []
                for k in range(args.images_per_page):
                    path = f"/extra/{page}-{k}.jpg"
                    site.file(path, shapes(1000 + page * 100 + k), "image/jpeg")
                    tags.append(f'<img src="{path}" alt="">')
                site.html(f"/extra/{page}", "".join(tags))
                links.append(f'<a href="/extra/{page}">{page}</a>')
            home = site.routes["/"]
            site.html("/", home.body.decode() + "".join(links))  # type: ignore[union-attr]
            deps = ScanDeps.build(svc.settings, svc.db)
            spec = {"start": site.url("/"), "max_depth": 2, "max_pages": 1000}
            source = scans.add_source(
                svc.db, case_id, SourceKind.CRAWL, spec, created_by="bench", allow_loopback=True
            )
            started = time.perf_counter()
            view = scans.run_scan(deps, scans.queue_scan(svc.db, source, trigger="bench"))
            seconds = time.perf_counter() - started
        svc.db.dispose()
    counts = view.counts
    lines = [
        f"scan throughput, local site ({platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}, Python {platform.python_version()})",
        f"status {view.status.value}: {counts['pages']} pages, {counts['media_hashed']} media "
        f"hashed ({'with' if video else 'without'} the test video), {counts['hits']} hits "
        f"({counts['new_sightings']} new, evidence captured), {counts['errors']} errors",
        f"{seconds:.2f} s: {counts['pages'] / seconds:.1f} pages/s, "
        f"{counts['media_hashed'] / seconds:.1f} media/s",
    ]
    print("\n".join(lines))
    out = ROOT / "bench" / "results" / "scan.txt"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
