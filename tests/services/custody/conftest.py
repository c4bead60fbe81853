"""A migrated database with one case, and an evidence store over it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from stopspread.evidence import EvidenceRef, HttpCapture
from stopspread.services import cases
from stopspread.services.context import Services
from stopspread.services.custody import EvidenceStore
from stopspread.services.signal_input import parse_signal
from stopspread.storage.models import Case
from tests.conftest import encode, make_services, synthetic_rgb


@dataclass
class Stored:
    svc: Services
    store: EvidenceStore
    case_id: int
    refs: list[EvidenceRef]


def sample_captures() -> list[HttpCapture]:
    at = datetime(2026, 11, 25, 15, 30, 0, 123456, tzinfo=UTC)  # 00:30 the next day in Seoul
    page = b"<html><body><img src='/m/a.jpg'><video src='/m/v.mp4'></video></body></html>"
    return [
        HttpCapture(
            "http://127.0.0.1:8080/gallery?p=1",
            200,
            [("Content-Type", "text/html; charset=utf-8"), ("Transfer-Encoding", "chunked")],
            page,
            at,
            [("Host", "127.0.0.1:8080"), ("User-Agent", "StopSpread-test")],
            "127.0.0.1",
        ),
        HttpCapture(
            "http://127.0.0.1:8080/m/a.jpg",
            200,
            [("Content-Type", "image/jpeg")],
            encode(synthetic_rgb(96, 72, seed=5), "JPEG", quality=80),
            at,
        ),
        HttpCapture(
            "file:///srv/folder/b.png",
            200,
            [("Content-Type", "image/png")],
            encode(synthetic_rgb(40, 30, seed=6), "PNG"),
            at,
        ),
    ]


def new_case(svc: Services, n: int = 0) -> int:
    made = cases.create_case(svc, [parse_signal("md5", f"{n + 1:032x}")])
    with svc.db.read() as session:
        return session.scalars(select(Case.id).where(Case.code == made.code)).one()


def fill(svc: Services, tmp_path: Path) -> Stored:
    store = EvidenceStore.from_settings(svc.settings, svc.db)
    case_id = new_case(svc)
    with svc.db.write() as (session, _head):
        refs = store.capture(session, case_id, sample_captures(), reason="test")
    return Stored(svc, store, case_id, refs)


@pytest.fixture
def stored(database_url: str, tmp_path: Path, migrated_database: None) -> Iterator[Stored]:
    svc = make_services(database_url, tmp_path)
    yield fill(svc, tmp_path)
    svc.db.dispose()


@pytest.fixture
def stored_sqlite(sqlite_url: str, tmp_path: Path) -> Iterator[Stored]:
    svc = make_services(sqlite_url, tmp_path)
    yield fill(svc, tmp_path)
    svc.db.dispose()
