"""Room checks kept as evidence under a case: stored, listed, exported, verified, guarded."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stopspread.errors import CaseWithdrawnError, NotFoundError
from stopspread.languages import Language
from stopspread.roomcheck import Device, Reason, RoomCheck, Weight
from stopspread.roomcheck._wire import Exchange
from stopspread.services import roomcheck as service
from stopspread.services.case_report import export_report
from stopspread.services.cases import withdraw
from stopspread.services.custody import EvidenceStore, verify_evidence
from stopspread.services.workers import accounts
from stopspread.services.workers.accounts import WorkerIdentity
from stopspread.storage.models_worker import WorkerRole
from tests.conftest import make_services
from tests.report.test_pdf import pdftotext
from tests.services.custody.conftest import new_case


def sample_check() -> RoomCheck:
    """A finished check, as the library returns it (built directly: no network needed)."""
    started = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    camera = Device("192.168.0.23", "44:47:cc:00:00:01", "Hangzhou Hikvision", ["IPC"], [554])
    camera.reasons += [
        Reason("rtsp", Weight.CAMERA, "554"),
        Reason("vendor-camera", Weight.CAMERA, "Hikvision"),
    ]
    printer = Device(
        "192.168.0.40",
        names=["EPSON L3150"],
        reasons=[Reason("says-ordinary", Weight.ORDINARY, "Printer")],
    )
    answer = Exchange(
        "2026-12-01T14:00:01.000+00:00",
        "tcp",
        "192.168.0.23",
        554,
        "rtsp-options",
        b"OPTIONS rtsp://192.168.0.23:554/ RTSP/1.0\r\nCSeq: 1\r\n\r\n",
        b"RTSP/1.0 200 OK\r\n\r\n",
    )
    return RoomCheck(
        "c0ffee",
        "192.168.0.0/24",
        started,
        started + timedelta(seconds=20),
        4321,
        [],
        [camera, printer],
        [answer],
    )


def test_a_check_is_kept_listed_exported_and_verified(tmp_path: Path) -> None:
    svc = make_services(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path)
    store = EvidenceStore.from_settings(svc.settings, svc.db)
    case_id = new_case(svc)
    kept = service.record_check(svc.db, store, case_id, sample_check(), by="mina")
    assert kept.counts == {"likely": 1, "check": 0, "unlikely": 1}
    assert kept.captured_at.startswith("2026-12-01T14:00:20") and kept.captured_at_kst.endswith(
        "+09:00"
    )
    (listed,) = service.list_checks(svc.db, store, case_id)
    assert listed.evidence_id == kept.evidence_id and listed.recorded_by == "mina"
    exported = service.export_check(svc.db, store, case_id, kept.evidence_id)
    data = json.loads(exported)
    assert data["devices"][0]["verdict"] == "likely"
    assert data["devices"][0]["responses"][0]["answer"].startswith("RTSP/1.0 200")
    assert data["started_at_kst"] == "2026-12-01T23:00:00.000+09:00"
    loaded = service.load_check(svc.db, store, case_id, kept.evidence_id)
    assert loaded["evidence"]["payload_sha256"] == hashlib.sha256(exported).hexdigest()
    assert verify_evidence(svc.db, store).ok
    svc.db.dispose()


def test_only_her_centers_cases_and_never_a_withdrawn_one(tmp_path: Path) -> None:
    svc = make_services(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path)
    store = EvidenceStore.from_settings(svc.settings, svc.db)
    case_id = new_case(svc)
    center = accounts.create_center(svc, "Seoul")
    stranger = WorkerIdentity(worker_id=999, center_id=center, role=WorkerRole.WORKER, username="x")
    with pytest.raises(NotFoundError):
        service.record_check(svc.db, store, case_id, sample_check(), by="x", who=stranger)
    with pytest.raises(NotFoundError):
        service.list_checks(svc.db, store, case_id, who=stranger)
    kept = service.record_check(svc.db, store, case_id, sample_check(), by="cli")
    with pytest.raises(NotFoundError):
        service.export_check(svc.db, store, case_id + 1, kept.evidence_id)
    withdraw(svc, case_id)
    with pytest.raises((CaseWithdrawnError, NotFoundError)):
        service.record_check(svc.db, store, case_id, sample_check(), by="cli")
    svc.db.dispose()


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            Language.KO,
            ["5. 방 점검 (숨은 카메라)", "카메라일 가능성이 높아요", "192.168.0.23"],
        ),
        (Language.EN, ["5. Room checks (hidden cameras)", "Likely a camera", "192.168.0.23"]),
    ],
)
def test_a_kept_check_is_in_the_evidence_report_with_its_warc(
    tmp_path: Path, language: Language, words: list[str]
) -> None:
    svc = make_services(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path)
    store = EvidenceStore.from_settings(svc.settings, svc.db)
    case_id = new_case(svc)
    kept = service.record_check(svc.db, store, case_id, sample_check(), by="mina")
    out = tmp_path / "out"
    done = export_report(svc, store, case_id, out, language=language, center="Seoul", worker="mina")
    assert done.verified
    (warc,) = done.warc_files
    assert warc.name == f"evidence-{kept.evidence_id}-resource.warc"
    text = pdftotext(done.pdf.read_bytes(), out)
    flat = " ".join(text.split())
    for word in words:
        assert word in flat, word
    assert "EPSON" not in flat  # only flagged devices are described
    svc.db.dispose()
