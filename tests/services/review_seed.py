"""A small world for the review tests: two centers, their workers, cases, evidence, sightings.

Everything is synthetic (made in code): smooth random pictures and a short panning video.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from stopspread.evidence import HttpCapture
from stopspread.services import cases
from stopspread.services.context import Services
from stopspread.services.custody import EvidenceStore
from stopspread.services.signal_input import parse_signal
from stopspread.services.workers import accounts
from stopspread.storage.models import Case
from stopspread.storage.models_scan import MatchKind, ReviewState, Sighting
from stopspread.storage.models_worker import Worker, WorkerRole
from tests.cli.conftest import write_video
from tests.conftest import encode, synthetic_rgb

PASSWORD = "correct horse battery"
SITE = "http://127.0.0.1:8081"


@dataclass
class World:
    svc: Services
    store: EvidenceStore
    case_a: int  # assigned to the Seoul center (worker "mina", admin "hana")
    case_b: int  # assigned to the Busan center (worker "jiwoo")
    code_a: str
    sightings_a: list[int]  # image, video, re-upload
    sighting_b: int
    image_a: bytes
    video_a: bytes


def _case(svc: Services, n: int) -> tuple[int, str]:
    made = cases.create_case(svc, [parse_signal("md5", f"{n:032x}")])
    with svc.db.read() as session:
        case = session.query(Case).filter(Case.code == made.code).one()
        return case.id, made.code


def _sighting(
    case_id: int, url: str, evidence: tuple[int, int], kind: MatchKind, **extra: object
) -> Sighting:
    seen = datetime(2026, 11, 20, 3, 4, 5, tzinfo=UTC)
    values: dict[str, object] = {
        "case_id": case_id,
        "media_url": url,
        "url_key": hashlib.sha256(url.encode()).hexdigest(),
        "page_url": f"{SITE}/gallery/1.html",
        "media_sha256": "0" * 64,
        "first_seen": seen,
        "last_seen": seen + timedelta(days=2, hours=5),
        "distance": 6 if kind is MatchKind.IMAGE else 12,
        "signal_type": "pdq" if kind is MatchKind.IMAGE else "vpdq",
        "match_kind": kind,
        "review_status": ReviewState.PENDING,
        "reupload": False,
        "media_evidence_id": evidence[0],
        "page_evidence_id": evidence[1],
    }
    values.update(extra)
    return Sighting(**values)


def _capture(
    svc: Services, store: EvidenceStore, case_id: int, media: HttpCapture
) -> tuple[int, int]:
    page = HttpCapture(
        f"{SITE}/gallery/1.html",
        200,
        [("Content-Type", "text/html")],
        b"<html><img src='a.jpg'></html>",
        media.fetched_at,
    )
    with svc.db.write() as (session, _head):
        page_ref, media_ref = store.capture(session, case_id, [page, media], reason="test seed")
    return media_ref.id, page_ref.id


def _profiles(svc: Services, names: dict[str, str]) -> None:
    """The names that sign their notices (a login name never does)."""
    with svc.db.write() as (session, _head):
        for worker in session.query(Worker).filter(Worker.username.in_(names)):
            worker.display_name = names[worker.username]
            worker.role_title = "삭제지원 상담원"


def build_world(svc: Services, tmp_path: Path) -> World:
    accounts.create_center(svc, "Seoul Center")
    accounts.create_center(svc, "Busan Center")
    accounts.create_worker(svc, "Seoul Center", "mina", PASSWORD, WorkerRole.WORKER)
    accounts.create_worker(svc, "Seoul Center", "hana", PASSWORD, WorkerRole.ADMIN)
    accounts.create_worker(svc, "Busan Center", "jiwoo", PASSWORD, WorkerRole.WORKER)
    _profiles(svc, {"mina": "이미나", "hana": "김하나", "jiwoo": "박지우"})
    store = EvidenceStore.from_settings(svc.settings, svc.db)
    case_a, code_a = _case(svc, 1)
    case_b, code_b = _case(svc, 2)
    accounts.assign_case(svc, code_a, "Seoul Center")
    accounts.assign_case(svc, code_b, "Busan Center")
    at = datetime(2026, 11, 22, 8, 9, 10, tzinfo=UTC)
    image = encode(synthetic_rgb(320, 240, seed=11), "JPEG", quality=85)
    video = write_video(tmp_path / "seed.mp4", seed=4, seconds=1).read_bytes()
    jpeg = [("Content-Type", "image/jpeg")]
    ev_img = _capture(svc, store, case_a, HttpCapture(f"{SITE}/m/a.jpg", 200, jpeg, image, at))
    mp4 = [("Content-Type", "video/mp4")]
    ev_vid = _capture(svc, store, case_a, HttpCapture(f"{SITE}/m/v.mp4", 200, mp4, video, at))
    other = encode(synthetic_rgb(200, 200, seed=12), "JPEG")
    ev_b = _capture(svc, store, case_b, HttpCapture(f"{SITE}/m/b.jpg", 200, jpeg, other, at))
    rows = [
        _sighting(case_a, f"{SITE}/m/a.jpg", ev_img, MatchKind.IMAGE),
        _sighting(case_a, f"{SITE}/m/v.mp4", ev_vid, MatchKind.VIDEO),
        _sighting(case_a, f"{SITE}/m/a-again.jpg", ev_img, MatchKind.IMAGE, reupload=True),
        _sighting(case_b, f"{SITE}/m/b.jpg", ev_b, MatchKind.IMAGE),
    ]
    with svc.db.write() as (session, _head):
        session.add_all(rows)
        session.flush()
        rows[2].reupload_of = rows[0].id  # as a scan links a re-upload to the earlier item
        ids = [r.id for r in rows]
    return World(svc, store, case_a, case_b, code_a, ids[:3], ids[3], image, video)
