"""A case with confirmed sightings on chosen URLs, each with its own captured file (synthetic
images made in code), and a worker of the case's center with a profile."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from stopspread.evidence import HttpCapture
from stopspread.languages import Language
from stopspread.services.context import Services
from stopspread.services.custody import EvidenceStore
from stopspread.services.removal.workflow import save_host
from stopspread.services.workers import accounts
from stopspread.services.workers.accounts import WorkerIdentity
from stopspread.services.workers.profile import WorkerProfile, save_profile
from stopspread.storage.models_scan import MatchKind, ReviewState
from stopspread.storage.models_worker import WorkerRole
from stopspread.takedown.hosts import HostEntry
from tests.conftest import encode, synthetic_rgb
from tests.services.review_seed import PASSWORD, _capture, _case, _sighting

PROFILE = WorkerProfile("김하나", "삭제지원 상담원", "hana.kim@center.example", "+82-2-000-0000")
HOSTS = (
    HostEntry("hosta.example", Language.KO, "KR", abuse_email="abuse@hosta.example"),
    HostEntry("hostb.example", Language.EN, "US", abuse_email="abuse@hostb.example"),
    HostEntry("hostc.example", Language.EN, "ZZ", form_url="https://hostc.example/report"),
)


@dataclass
class NoticeWorld:
    who: WorkerIdentity
    case_id: int
    code: str
    sighting_ids: list[int]


def url_on(host: str, n: int) -> str:
    return f"https://cdn.{host}/m/{n:02d}.jpg"


def notice_world(
    svc: Services, urls: list[str], *, profile: WorkerProfile | None = PROFILE
) -> NoticeWorld:
    accounts.create_center(svc, "서울 지원센터")
    accounts.create_worker(svc, "서울 지원센터", "hana", PASSWORD, WorkerRole.WORKER)
    who = accounts.login(svc, "hana", PASSWORD, "127.0.0.1").identity
    case_id, code = _case(svc, 7)
    accounts.assign_case(svc, code, "서울 지원센터")
    for host in HOSTS:
        save_host(svc, who, host)
    if profile is not None:
        save_profile(svc, who, profile)
    store = EvidenceStore.from_settings(svc.settings, svc.db)
    at = datetime(2026, 11, 22, 8, 9, 10, tzinfo=UTC)
    rows = []
    for n, url in enumerate(urls):
        body = encode(synthetic_rgb(64, 48, seed=100 + n), "JPEG")
        capture = HttpCapture(url, 200, [("Content-Type", "image/jpeg")], body, at)
        evidence = _capture(svc, store, case_id, capture)
        rows.append(
            _sighting(
                case_id,
                url,
                evidence,
                MatchKind.IMAGE,
                review_status=ReviewState.CONFIRMED,
                page_url=url.replace("/m/", "/board/").replace(".jpg", ""),
                url_key=hashlib.sha256(url.encode()).hexdigest(),
            )
        )
    with svc.db.write() as (session, _head):
        session.add_all(rows)
        session.flush()
        ids = [r.id for r in rows]
    return NoticeWorld(who, case_id, code, ids)
