"""The platform API's keypoint bank (``services/keypoint_bank.py``, issue 14): built from the
stored, sealed records; enrolments after start-up reach it on the next sync, withdrawals
leave it at once; records without their photo's PDQ signal are left out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from stopspread.hashing.keypoints import KeypointSet, extract_keypoints, query_keypoint_sets
from stopspread.services.cases import create_case, withdraw
from stopspread.services.context import Services
from stopspread.services.custody import EvidenceStore
from stopspread.services.keypoint_bank import KeypointBank, load_vocabulary
from stopspread.services.keypoint_records import KeypointIn
from stopspread.services.scans.queue import case_id_for_code
from stopspread.services.signal_input import SignalIn, SignalType
from stopspread.storage.models import Bank, Signal
from tests.conftest import make_services, random_pdq
from tests.hashing.test_keypoints import scene

# every database here is used through services: a migrated copy (tests/dbtemplate.py)
pytestmark = pytest.mark.usefixtures("migrated_database")


def _enrol(svc: Services, photo: Image.Image, seed: int, with_pdq: bool = True) -> int:
    value = random_pdq(np.random.default_rng(seed))
    record = KeypointIn(extract_keypoints(photo), value if with_pdq else None)
    new = create_case(svc, [SignalIn(SignalType.PDQ, value, 90)], keypoints=[record])
    return case_id_for_code(svc.db, new.code)


def _signal_of(svc: Services, case_id: int) -> int:
    with svc.db.read() as session:
        found = session.scalar(
            select(Signal.id).join(Bank, Bank.id == Signal.bank_id).where(Bank.case_id == case_id)
        )
    assert found is not None
    return int(found)


def _crop(photo: Image.Image) -> list[KeypointSet]:
    w, h = photo.size
    return query_keypoint_sets(photo.crop((int(w * 0.1), int(h * 0.1), int(w * 0.9), int(h * 0.9))))


def test_enrolments_and_withdrawals_reach_the_bank(database_url: str, tmp_path: Path) -> None:
    svc = make_services(database_url, tmp_path)
    photos = [scene(seed, (1200, 900)) for seed in (61, 62, 63, 64)]
    first = _enrol(svc, photos[0], 1)
    _enrol(svc, photos[1], 2, with_pdq=False)  # no photo signal: cannot open a review

    def store() -> EvidenceStore:
        return EvidenceStore.from_settings(svc.settings, svc.db)

    bank = KeypointBank(svc.db, store, load_vocabulary(), shortlist=3).load()
    assert len(bank) == 1 and bank.load_s > 0
    assert bank.find(_crop(photos[0])) == _signal_of(svc, first)
    assert bank.find(_crop(photos[1])) is None  # left out
    later = _enrol(svc, photos[2], 3)  # after start-up: the delta index
    assert bank.find(_crop(photos[2])) is None  # not synced yet
    assert bank.sync() is True and len(bank) == 2
    assert bank.find(_crop(photos[2])) == _signal_of(svc, later)
    assert bank.find(_crop(photos[3])) is None  # never enrolled
    first_signal = _signal_of(svc, first)
    withdraw(svc, first)
    assert bank.sync() is True and len(bank) == 1
    assert bank.find(_crop(photos[0])) is None  # withdrawn: never again
    assert first_signal != _signal_of(svc, later)
    assert bank.sync() is False  # nothing changed: one small query
    svc.db.dispose()
