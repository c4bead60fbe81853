"""The platform API's keypoint bank (``services/keypoint_bank.py``, issue 14): built from the
stored, sealed records; enrolments after start-up reach it on the next sync, withdrawals
leave it at once; records without their photo's PDQ signal are left out. The bank keeps no
record in memory: each lookup reads and opens its shortlist's records from the database, so
a photo withdrawn after the last poll is never verified, and a record that cannot be read
(damaged, its case key gone) is a miss, never an error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select, update

from stopspread.hashing.keypoints import KeypointSet, extract_keypoints, query_keypoint_sets
from stopspread.services.cases import create_case, withdraw
from stopspread.services.context import Services
from stopspread.services.custody import EvidenceStore
from stopspread.services.custody.erase import destroy_case_key
from stopspread.services.keypoint_bank import KeypointBank, load_vocabulary
from stopspread.services.keypoint_records import KeypointIn
from stopspread.services.scans.queue import case_id_for_code
from stopspread.services.signal_input import SignalIn, SignalType
from stopspread.storage.models import Bank, Signal
from stopspread.storage.models_keypoints import KeypointRecord
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


def _bank(svc: Services) -> KeypointBank:
    def store() -> EvidenceStore:
        return EvidenceStore.from_settings(svc.settings, svc.db)

    return KeypointBank(svc.db, store, load_vocabulary(), shortlist=3).load()


def test_the_bank_keeps_words_not_records(database_url: str, tmp_path: Path) -> None:
    svc = make_services(database_url, tmp_path)
    photo = scene(71, (1200, 900))
    case_id = _enrol(svc, photo, 11)
    bank = _bank(svc)
    held = list(bank._photos.values())
    assert len(held) == 1 and not hasattr(held[0], "keypoints")
    assert held[0].words.dtype == np.uint16 and len(held[0].words) <= 200  # 10^4 words
    signatures = held[0].signatures  # ss-kp-vocab-2: 8 signature bits a word, 1 byte each
    assert signatures is not None and signatures.dtype == np.uint8
    assert len(signatures) == len(held[0].words)
    assert bank._static.vocabulary.signature_bits == 8
    assert bank.find(_crop(photo)) == _signal_of(svc, case_id)  # read back from the database
    svc.db.dispose()


def test_a_withdrawal_after_the_last_poll_is_never_verified(
    database_url: str, tmp_path: Path
) -> None:
    svc = make_services(database_url, tmp_path)
    photos = [scene(seed, (1200, 900)) for seed in (81, 82)]
    gone, kept = _enrol(svc, photos[0], 21), _enrol(svc, photos[1], 22)
    bank = _bank(svc)
    assert bank.find(_crop(photos[0])) == _signal_of(svc, gone)
    withdraw(svc, gone)  # no sync: the bank still shortlists it, the database no longer has it
    assert len(bank) == 2
    assert bank.find(_crop(photos[0])) is None
    assert bank.find(_crop(photos[1])) == _signal_of(svc, kept)
    assert bank.sync() is True and len(bank) == 1
    svc.db.dispose()


def test_an_unreadable_record_is_a_miss_not_an_error(database_url: str, tmp_path: Path) -> None:
    svc = make_services(database_url, tmp_path)
    photos = [scene(seed, (1200, 900)) for seed in (91, 92, 93)]
    damaged, keyless, fine = (_enrol(svc, p, 30 + i) for i, p in enumerate(photos))
    bank = _bank(svc)
    with svc.db.write() as (session, _head):
        row = session.scalars(select(KeypointRecord).where(KeypointRecord.case_id == damaged)).one()
        sealed = bytearray(row.sealed)
        sealed[100] ^= 0xFF
        session.execute(
            update(KeypointRecord).where(KeypointRecord.id == row.id).values(sealed=bytes(sealed))
        )
        destroy_case_key(session, keyless)
    assert bank.find(_crop(photos[0])) is None  # does not decrypt
    assert bank.find(_crop(photos[1])) is None  # no key to open it with
    assert bank.find(_crop(photos[2])) == _signal_of(svc, fine)
    svc.db.dispose()
