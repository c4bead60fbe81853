"""A real folder scan, default settings, finds variants of an enrolled video and nothing else.

A case is enrolled from two of Meta's shared test videos with the robust enrolment views
(``stopspread hash --signal-set enrolment``: every frame, bars trimmed, centre views). The
folder holds one variant per kind, made at test time with PyAV (``tests.videovariants``:
other frame rates, letterbox, pillarbox, a logo, crops, a speed change, a low bit rate), and
different footage from ``tests/data``. ``docs/video.md`` has the table these give.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from stopspread.hashing import VideoMode, hash_video
from stopspread.hashing.vpdq import ENROL_SECONDS_PER_HASH
from stopspread.services.cases import create_case
from stopspread.services.context import Services
from stopspread.services.scans import queue as scans
from stopspread.services.scans.queue import ScanDeps, case_id_for_code
from stopspread.services.signal_input import SignalIn
from stopspread.storage.models import SignalType
from stopspread.storage.models_scan import ScanStatus, Sighting, SourceKind
from tests.conftest import TESTDATA, make_services
from tests.videovariants import VARIANTS, make_variant

VIDEOS = TESTDATA / "vpdq" / "videos"
ENROLLED = ("chair-19-sd-bar", "pattern-sd-grey-bar")
# Variants alternate between the two enrolled videos; 4 s of each, half size.
KINDS = sorted(VARIANTS)
OTHER_FOOTAGE = ("doorknob-hd-no-bar", "test-padded-dimensions")


@pytest.fixture
def svc(sqlite_url: str, tmp_path: Path) -> Iterator[Services]:
    # Every-frame enrolment of the two videos is ~2,000 signals: over the default 1,000 a
    # request (docs/video.md, "Enrolment size").
    s = make_services(sqlite_url, tmp_path, max_signals_per_request=4000)
    yield s
    s.db.dispose()


def _enrol(svc: Services) -> int:
    signals: list[SignalIn] = []
    for name in ENROLLED:
        frames = hash_video(
            VIDEOS / f"{name}.mp4",
            mode=VideoMode.ROBUST_ENROL,
            seconds_per_hash=ENROL_SECONDS_PER_HASH,
        ).frames
        signals += [SignalIn(SignalType.PDQ, f.pdq.hex, f.quality) for f in frames]
    return case_id_for_code(svc.db, create_case(svc, signals).code)


@pytest.mark.slow
def test_a_folder_scan_finds_the_variants_and_never_other_footage(
    svc: Services, tmp_path: Path
) -> None:
    case_id = _enrol(svc)
    folder = tmp_path / "downloads"
    folder.mkdir()
    for i, kind in enumerate(KINDS):
        source = VIDEOS / f"{ENROLLED[i % 2]}.mp4"
        make_variant(source, folder / f"variant-{kind}.mp4", kind, seconds=4.0)
    for name in OTHER_FOOTAGE:
        (folder / f"other-{name}.mp4").write_bytes((VIDEOS / f"{name}.mp4").read_bytes())
    deps = ScanDeps.build(svc.settings, svc.db)
    source_id = scans.add_source(
        svc.db, case_id, SourceKind.FOLDER, {"path": str(folder)}, created_by="t"
    )
    view = scans.run_scan(deps, scans.queue_scan(svc.db, source_id, trigger="test"))
    assert view.status is ScanStatus.DONE, view.last_error
    assert view.counts["media_hashed"] == len(KINDS) + len(OTHER_FOOTAGE)
    with svc.db.read() as session:
        urls = session.scalars(select(Sighting.media_url).where(Sighting.case_id == case_id))
        found = {Path(url).name for url in urls}
    assert not {f for f in found if f.startswith("other-")}, "different footage matched"
    assert found == {f"variant-{kind}.mp4" for kind in KINDS}
