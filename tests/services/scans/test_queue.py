"""Scans against a local website and a folder: hits, evidence, dedupe, removal, re-upload,
rejected matches, per-item errors, claiming, schedules, cancelling."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from stopspread.errors import InvalidRequestError
from stopspread.services.cases import withdraw
from stopspread.services.context import Services
from stopspread.services.scans import queue as scans
from stopspread.services.scans.queue import ScanDeps
from stopspread.services.scans.scheduler import ScanScheduler
from stopspread.storage.models_scan import (
    ReviewState,
    ScanStatus,
    Sighting,
    SightingEvent,
    SightingEventKind,
    SourceKind,
)
from stopspread.storage.models_worker import EvidenceKind, EvidenceRecord
from tests.conftest import make_services
from tests.scankit import edited_copies, enrol, original, plant_site
from tests.sources.site import LocalSite, local_site

# every database here is used through services: a migrated copy (tests/dbtemplate.py)
pytestmark = pytest.mark.usefixtures("migrated_database")

SEEDS = (1, 2)


@pytest.fixture
def svc(sqlite_url: str, tmp_path: Path) -> Iterator[Services]:
    s = make_services(sqlite_url, tmp_path, fetch_allow_loopback=True, fetch_host_interval_s=0.0)
    yield s
    s.db.dispose()


@pytest.fixture
def svc_any(database_url: str, tmp_path: Path) -> Iterator[Services]:
    """As ``svc``, on SQLite and on PostgreSQL."""
    s = make_services(database_url, tmp_path, fetch_allow_loopback=True, fetch_host_interval_s=0.0)
    yield s
    s.db.dispose()


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with local_site() as s:
        yield s


def scan(deps: ScanDeps, source_id: int) -> scans.ScanView:
    seen: list[dict[str, int]] = []
    view = scans.run_scan(deps, scans.queue_scan(deps.db, source_id, trigger="test"), seen.append)
    assert seen, "progress was reported"
    assert view.status is ScanStatus.DONE, view.last_error
    return view


def sightings(svc: Services, case_id: int) -> list[Sighting]:
    with svc.db.read() as session:
        query = select(Sighting).where(Sighting.case_id == case_id).order_by(Sighting.id)
        return list(session.scalars(query))


def test_crawl_finds_copies_dedupes_and_flags_reuploads(svc: Services, site: LocalSite) -> None:
    _code, case_id = enrol(svc, [original(s) for s in SEEDS], [])
    planted = plant_site(site, SEEDS, video=None)
    deps = ScanDeps.build(svc.settings, svc.db)
    source = scans.add_source(
        svc.db,
        case_id,
        SourceKind.CRAWL,
        {"start": site.url("/")},
        created_by="t",
        allow_loopback=True,
    )

    first = scan(deps, source)
    found = sightings(svc, case_id)
    assert sorted(s.media_url for s in found) == sorted(planted.copies.values())
    assert first.counts["pages"] == 3
    assert first.counts["new_sightings"] == len(planted.copies) == first.counts["hits"]
    assert first.counts["media_hashed"] == len(planted.copies) + len(planted.unrelated) + 1
    assert all(s.page_evidence_id is not None and s.media_evidence_id for s in found)
    with svc.db.read() as session:
        kinds = session.scalars(select(EvidenceRecord.kind)).all()
    assert kinds.count(EvidenceKind.MEDIA) == len(planted.copies)
    assert kinds.count(EvidenceKind.PAGE) == 3  # each page once, however many hits it holds

    second = scan(deps, source)
    assert (second.counts["hits"], second.counts["new_sightings"]) == (len(planted.copies), 0)
    again = sightings(svc, case_id)
    assert [s.id for s in again] == [s.id for s in found]
    assert all(b.last_seen > a.last_seen for a, b in zip(found, again, strict=True))

    # the site takes one copy down: the next scan marks it removed
    gone_url = planted.copies["1-caption"]
    body = site.routes.pop(gone_url.removeprefix(site.base_url))
    third = scan(deps, source)
    assert third.counts["removed"] == 1
    removed = next(s for s in sightings(svc, case_id) if s.media_url == gone_url)
    assert removed.removed_at is not None

    # ... and puts it back at the same URL: a re-upload, with evidence captured again
    site.routes[gone_url.removeprefix(site.base_url)] = body
    fourth = scan(deps, source)
    assert (fourth.counts["reuploads"], fourth.counts["new_sightings"]) == (1, 1)
    back = sightings(svc, case_id)[-1]
    assert (back.media_url, back.reupload, back.reupload_of) == (gone_url, True, removed.id)
    assert back.media_evidence_id != removed.media_evidence_id
    with svc.db.read() as session:
        events = session.scalars(
            select(SightingEvent.kind).where(SightingEvent.sighting_id.in_([removed.id, back.id]))
        ).all()
    assert sorted(events) == sorted(
        [SightingEventKind.FOUND, SightingEventKind.REMOVED, SightingEventKind.REUPLOAD]
    )


def test_content_at_a_new_url_links_and_rejected_never_alerts(
    svc_any: Services, site: LocalSite
) -> None:
    svc = svc_any
    _code, case_id = enrol(svc, [original(1)], [])
    copies = edited_copies(1)
    site.file("/a.jpg", copies["border"], "image/jpeg")
    site.html("/", '<img src="/a.jpg">')
    deps = ScanDeps.build(svc.settings, svc.db)
    source = scans.add_source(
        svc.db,
        case_id,
        SourceKind.URLS,
        {"urls": [site.url("/")]},
        created_by="t",
        allow_loopback=True,
    )
    scan(deps, source)
    [first] = sightings(svc, case_id)

    # the same bytes at a second URL: a new sighting, linked to the first
    site.file("/b.jpg", copies["border"], "image/jpeg")
    site.html("/", '<img src="/a.jpg"><img src="/b.jpg">')
    scan(deps, source)
    second = sightings(svc, case_id)[-1]
    assert (second.same_content_as, second.reupload) == (first.id, False)

    # a worker rejects them: the same bytes at a third URL never alert again
    with svc.db.write() as (session, _head):
        for row in session.scalars(select(Sighting)):
            row.review_status = ReviewState.REJECTED
    site.file("/c.jpg", copies["border"], "image/jpeg")
    site.html("/", '<img src="/a.jpg"><img src="/b.jpg"><img src="/c.jpg">')
    view = scan(deps, source)
    assert (view.counts["hits"], view.counts["new_sightings"]) == (3, 0)
    assert len(sightings(svc, case_id)) == 2


def test_item_errors_are_counted_and_the_scan_goes_on(svc: Services, site: LocalSite) -> None:
    _code, case_id = enrol(svc, [original(1)], [])
    site.file("/broken.jpg", b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg")
    site.file("/ok.jpg", edited_copies(1)["resized"], "image/jpeg")
    site.html(
        "/",
        '<img src="/broken.jpg"><img src="/missing.jpg"><img src="http://10.0.0.1/x.jpg">'
        '<img src="/ok.jpg">',
    )
    deps = ScanDeps.build(svc.settings, svc.db)
    source = scans.add_source(
        svc.db,
        case_id,
        SourceKind.CRAWL,
        {"start": site.url("/")},
        created_by="t",
        allow_loopback=True,
    )
    view = scan(deps, source)
    assert view.counts["errors"] == 3
    assert view.error_kinds == {
        "CorruptMediaError": 1,
        "FetchRefusedError": 1,
        "FetchStatusError": 1,
    }
    assert view.counts["new_sightings"] == 1


def test_folder_source(svc: Services, tmp_path: Path) -> None:
    _code, case_id = enrol(svc, [original(2)], [])
    folder = tmp_path / "downloads" / "deep"
    folder.mkdir(parents=True)
    (folder / "copy.jpg").write_bytes(edited_copies(2)["flipped"])
    (folder / "other.jpg").write_bytes(edited_copies(5)["flipped"])
    (folder.parent / "readme.txt").write_text("not media")
    deps = ScanDeps.build(svc.settings, svc.db)
    source = scans.add_source(
        svc.db,
        case_id,
        SourceKind.FOLDER,
        {"path": str(folder.parent)},
        created_by="t",
        allow_loopback=True,
    )
    view = scan(deps, source)
    assert (view.counts["media_hashed"], view.counts["new_sightings"]) == (2, 1)
    [hit] = sightings(svc, case_id)
    assert hit.media_url == (folder / "copy.jpg").resolve().as_uri()
    with svc.db.read() as session:
        assert session.get(EvidenceRecord, hit.media_evidence_id).kind is EvidenceKind.RESOURCE  # type: ignore[union-attr]


def test_claims_are_exclusive_schedules_queue_and_cancel(services: Services) -> None:
    _code, case_id = enrol(services, [original(1)], [])
    db = services.db
    on_demand = scans.add_source(
        db,
        case_id,
        SourceKind.URLS,
        {"urls": ["https://example.com/"]},
        created_by="t",
        allow_loopback=True,
    )
    scan_id = scans.queue_scan(db, on_demand, trigger="t")
    assert scans.queue_scan(db, on_demand, trigger="t") == scan_id  # one at a time per source
    assert scans.claim_next(db, "a") == scan_id
    assert scans.claim_next(db, "b") is None
    with pytest.raises(InvalidRequestError):
        scans.run_scan(ScanDeps.build(services.settings, db), scan_id)

    with pytest.raises(InvalidRequestError):
        scans.add_source(
            db,
            case_id,
            SourceKind.URLS,
            {"urls": ["https://example.com/"]},
            created_by="t",
            allow_loopback=True,
            schedule_s=60,
        )
    scheduled = scans.add_source(
        db,
        case_id,
        SourceKind.CRAWL,
        {"start": "https://example.org/"},
        created_by="t",
        allow_loopback=True,
        schedule_s=3600,
    )
    [due] = scans.queue_due(db)
    assert scans.queue_due(db) == []  # its next run moved an hour on
    assert scans.scan_view(db, due).source_id == scheduled
    scans.cancel_scan(db, due)
    assert scans.scan_view(db, due).status is ScanStatus.CANCELLED
    assert [s.id for s in scans.list_sources(db, case_id)] == [on_demand, scheduled]
    assert {v.id for v in scans.list_scans(db, [case_id])} == {scan_id, due}


def test_sources_are_checked(svc: Services) -> None:
    _code, case_id = enrol(svc, [original(1)], [])
    for kind, spec in [
        (SourceKind.CRAWL, {"start": "ftp://example.com/"}),
        (SourceKind.CRAWL, {"start": "http://user:pw@example.com/"}),
        (SourceKind.URLS, {"urls": []}),
        (SourceKind.URLS, {"urls": ["file:///etc/passwd"]}),
        (SourceKind.FOLDER, {"path": "/no/such/folder"}),
        (SourceKind.CRAWL, {}),
    ]:
        with pytest.raises(InvalidRequestError):
            scans.add_source(svc.db, case_id, kind, spec, created_by="t", allow_loopback=True)
    with svc.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Sighting)) == 0


def test_scheduler_runs_due_and_queued_scans(svc: Services, site: LocalSite) -> None:
    _code, case_id = enrol(svc, [original(1)], [])
    site.file("/a.jpg", edited_copies(1)["caption"], "image/jpeg")
    site.html("/", '<img src="/a.jpg">')
    deps = ScanDeps.build(svc.settings, svc.db)
    spec = {"urls": [site.url("/")]}
    scheduled = scans.add_source(
        svc.db, case_id, SourceKind.URLS, spec, created_by="t", allow_loopback=True, schedule_s=3600
    )
    scheduler = ScanScheduler(deps, interval_s=3600)
    assert scheduler.tick() == 1  # the scheduled source was due
    assert scheduler.tick() == 0  # and is not again for an hour
    scheduler.start()
    try:
        scan_id = scans.queue_scan(svc.db, scheduled, trigger="worker")
        scheduler.wake()
        deadline = time.monotonic() + 60
        while scans.scan_view(svc.db, scan_id).active:
            assert time.monotonic() < deadline, "the scheduler did not run the queued scan"
            time.sleep(0.05)
    finally:
        scheduler.stop()
    assert scans.scan_view(svc.db, scan_id).status is ScanStatus.DONE
    assert len(sightings(svc, case_id)) == 1


def test_a_withdrawn_case_is_never_scanned_again(svc: Services, site: LocalSite) -> None:
    _code, case_id = enrol(svc, [original(1)], [])
    site.file("/a.jpg", edited_copies(1)["caption"], "image/jpeg")
    site.html("/", '<img src="/a.jpg">')
    deps = ScanDeps.build(svc.settings, svc.db)
    spec = {"urls": [site.url("/")]}
    on_demand = scans.add_source(
        svc.db, case_id, SourceKind.URLS, spec, created_by="t", allow_loopback=True
    )
    scheduled = scans.add_source(
        svc.db, case_id, SourceKind.URLS, spec, created_by="t", allow_loopback=True, schedule_s=3600
    )
    scan_id = scans.queue_scan(svc.db, on_demand, trigger="t")
    withdraw(svc, case_id)
    view = scans.run_scan(deps, scan_id)  # queued before the withdrawal: stops at once
    assert (view.status, view.counts["hits"]) == (ScanStatus.CANCELLED, 0)
    with pytest.raises(InvalidRequestError):
        scans.queue_scan(svc.db, on_demand, trigger="t")
    assert scans.queue_due(svc.db) == []
    assert [s.id for s in scans.list_sources(svc.db, case_id)] == [on_demand]  # scheduled: off
    assert scheduled not in [s.id for s in scans.list_sources(svc.db, case_id)]
    assert sightings(svc, case_id) == []
