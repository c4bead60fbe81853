"""Keypoint records (``ss-kp-1``) of a case: checked strictly, sealed with the case key,
read back for scans, deleted by her withdrawal (issue 14). Real SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from stopspread.errors import InvalidRequestError
from stopspread.hashing.keypoints import extract_keypoints
from stopspread.services import cases
from stopspread.services.context import Services
from stopspread.services.custody import EvidenceStore
from stopspread.services.keypoint_records import (
    MAX_RECORDS_PER_REQUEST,
    KeypointIn,
    load_records,
    open_records,
    parse_record,
)
from stopspread.services.signal_input import SignalIn
from stopspread.storage.models import SignalType
from stopspread.storage.models_keypoints import KeypointRecord
from stopspread.storage.models_worker import CaseKey
from tests.hashing.test_keypoints import scene

PDQ_HEX = "f" * 64


def _enrol(svc: Services, n: int = 2) -> tuple[int, list[KeypointIn]]:
    records = [KeypointIn(extract_keypoints(scene(seed)), PDQ_HEX) for seed in range(n)]
    signals = [SignalIn(SignalType.PDQ, PDQ_HEX, 90)]
    new = cases.create_case(svc, signals, keypoints=records)
    return cases.authenticate(svc, new.code, new.secret, "test"), records


def _count(svc: Services, case_id: int) -> int:
    with svc.db.read() as session:
        query = select(func.count()).where(KeypointRecord.case_id == case_id)
        return int(session.scalar(query) or 0)


def test_records_are_sealed_with_the_case_key_and_read_back(services: Services) -> None:
    case_id, records = _enrol(services)
    store = EvidenceStore.from_settings(services.settings, services.db)
    with services.db.read() as session:
        rows = session.scalars(select(KeypointRecord).order_by(KeypointRecord.id)).all()
        opened = load_records(session, store, case_id)
    assert len(rows) == 2
    for row, record, back in zip(rows, records, opened, strict=True):
        plain = record.keypoints.to_bytes()
        assert plain[7:200] not in row.sealed  # sealed, not stored in clear
        assert back.keypoints.to_bytes() == plain
        assert back.signal_id is not None  # the photo's PDQ signal: a hit names the photo
    assert "descriptor" not in repr(opened[0]) and PDQ_HEX not in repr(records[0])


def test_open_records_reads_the_ids_asked_for_and_skips_what_cannot_be_opened(
    services: Services,
) -> None:
    case_id, records = _enrol(services, 3)
    other_id, _ = _enrol(services, 1)
    store = EvidenceStore.from_settings(services.settings, services.db)
    with services.db.read() as session:
        ids = list(session.scalars(select(KeypointRecord.id).order_by(KeypointRecord.id)))
        opened = open_records(session, store, [ids[2], ids[0], ids[3], 10**9])
        assert open_records(session, store, []) == {}
    assert sorted(opened) == [ids[0], ids[2], ids[3]]  # an unknown id: not there, no error
    assert opened[ids[2]].keypoints.to_bytes() == records[2].keypoints.to_bytes()
    with services.db.write() as (session, _head):
        session.delete(session.get(CaseKey, other_id))  # her key destroyed: nothing opens
        row = session.get(KeypointRecord, ids[0])
        assert row is not None
        row.nonce = "00" * 12  # sealed under another nonce: does not decrypt
    with services.db.read() as session:
        assert sorted(open_records(session, store, ids)) == [ids[1], ids[2]]
    assert case_id != other_id


def test_withdrawal_deletes_them_and_erasure_destroys_their_key(services: Services) -> None:
    kept_id, _ = _enrol(services)
    erased_id, _ = _enrol(services)
    with services.db.read() as session:
        sealed_before = session.scalars(
            select(KeypointRecord.sealed).where(KeypointRecord.case_id == erased_id)
        ).all()
    cases.withdraw(services, kept_id, cases.CenterEvidence.KEEP)
    cases.withdraw(services, erased_id, cases.CenterEvidence.DELETE)
    assert _count(services, kept_id) == 0 and _count(services, erased_id) == 0
    with services.db.read() as session:
        assert session.get(CaseKey, kept_id) is not None  # her choice: evidence kept
        assert session.get(CaseKey, erased_id) is None  # a backup's copies stay sealed
    assert sealed_before  # (what a backup would hold: no key opens it any more)


def test_more_records_than_a_request_may_carry_are_refused(services: Services) -> None:
    one = KeypointIn(extract_keypoints(scene(0)))
    with pytest.raises(InvalidRequestError, match="at most 20 keypoint records"):
        cases.create_case(
            services,
            [SignalIn(SignalType.MD5, "a" * 32)],
            keypoints=[one] * (MAX_RECORDS_PER_REQUEST + 1),
        )


def test_parse_record_refuses_what_is_not_a_record() -> None:
    good = extract_keypoints(scene(3)).to_bytes()
    assert len(parse_record(good)) == len(extract_keypoints(scene(3)))
    for bad, why in [
        (b"", "not an ss-kp-1 keypoint record"),
        (good[:-1], "not an ss-kp-1 keypoint record"),
        (b"\x02" + good[1:], "not an ss-kp-1 keypoint record"),
        (good + b"\0" * 20_000, "at most 16384 bytes"),
        (good[:1] + (100).to_bytes(2, "big") + good[3:], "long side is 640 px"),
    ]:
        with pytest.raises(InvalidRequestError, match=why):
            parse_record(bad)
