"""Keypoint records (``ss-kp-1``) of a case's enrolled photos: checked, sealed, stored, read.

A record is what ``hashing.keypoints.KeypointSet.to_bytes`` makes of one photo (at most
:data:`MAX_RECORD_BYTES`). The CLI's ``case create`` computes them on the center's machine;
a survivor's browser may send them base64-encoded beside her hashes (``docs/api.md``).
Each is checked strictly (:func:`parse_record`: a wrong size, version or count is a
:class:`~stopspread.errors.InvalidRequestError`, 422) and sealed with AES-GCM under the
case's own evidence key (``services.custody``), bound to the case id: destroying that key
(her withdrawal with "delete") makes every copy unreadable, and a withdrawal deletes the rows
whatever she chose (:func:`delete_records`). Scans read them back (:func:`load_records`).
Nothing here logs a record.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from stopspread.errors import EvidenceError, InvalidRequestError
from stopspread.evidence import crypto
from stopspread.hashing.keypoints import (
    GRID,
    KEYPOINT_VERSION,
    LONG_SIDE,
    N_FEATURES,
    KeypointFormatError,
    KeypointSet,
)
from stopspread.services.custody import EvidenceStore
from stopspread.storage.models import Bank, Signal, SignalType
from stopspread.storage.models_keypoints import KeypointRecord
from stopspread.storage.models_worker import CaseKey

__all__ = [
    "MAX_RECORDS_PER_REQUEST",
    "MAX_RECORD_BYTES",
    "EnrolledKeypoints",
    "KeypointIn",
    "decode_record",
    "delete_records",
    "load_records",
    "open_records",
    "parse_record",
    "record_counts",
    "record_ids",
    "records_after",
    "store_records",
]

MAX_RECORD_BYTES: Final = 16 * 1024  # the budget per photo (a record is <= 13,607 bytes)
MAX_RECORDS_PER_REQUEST: Final = 20  # photos a request may carry keypoints for


@dataclass(frozen=True, slots=True)
class KeypointIn:
    """One photo's keypoints as enrolled, and (when known) the hex of the photo's
    whole-picture PDQ hash among the case's signals, so that a hit names the photo."""

    keypoints: KeypointSet
    pdq: str | None = None

    def __repr__(self) -> str:  # never a hash or a descriptor in a log
        return f"KeypointIn({len(self.keypoints)} keypoints)"


@dataclass(frozen=True, slots=True, eq=False)
class EnrolledKeypoints:
    """One enrolled photo's keypoints, opened for a scan."""

    record_id: int
    signal_id: int | None  # the photo's PDQ signal (None: sent without one, or withdrawn)
    keypoints: KeypointSet

    def __repr__(self) -> str:
        return f"EnrolledKeypoints(record_id={self.record_id}, signal_id={self.signal_id})"


def parse_record(data: bytes) -> KeypointSet:
    """A stored-form record checked strictly; :class:`InvalidRequestError` says what is wrong."""
    if len(data) > MAX_RECORD_BYTES:
        raise InvalidRequestError(f"a keypoint record is at most {MAX_RECORD_BYTES} bytes")
    try:
        kp = KeypointSet.from_bytes(data)
    except KeypointFormatError as exc:
        raise InvalidRequestError(f"not an {KEYPOINT_VERSION} keypoint record: {exc}") from exc
    if len(kp) > N_FEATURES:
        raise InvalidRequestError(f"a keypoint record has at most {N_FEATURES} keypoints")
    if max(kp.width, kp.height) != LONG_SIDE or min(kp.width, kp.height) < 1:
        raise InvalidRequestError(f"a keypoint record's long side is {LONG_SIDE} px")
    if len(kp) and int(kp.cells.max()) >= GRID:
        raise InvalidRequestError(f"a keypoint's cell is below {GRID}")
    return kp


def decode_record(text: str, name: str) -> KeypointSet:
    """A record sent as base64 text (``name`` says where, e.g. ``keypoints[2]``), decoded
    and checked strictly: :class:`InvalidRequestError` says what is wrong."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequestError(f"{name}: data is not base64") from exc
    try:
        return parse_record(data)
    except InvalidRequestError as exc:
        raise InvalidRequestError(f"{name}: {exc}") from exc


def _aad(case_id: int) -> bytes:
    return f"stopspread-keypoints-v1\n{case_id}\n{KEYPOINT_VERSION}".encode()


def _photo_signals(session: Session, case_id: int, pdqs: set[str]) -> dict[str, int]:
    """The case's PDQ signal id of each hex in ``pdqs`` (exact look-ups: sealed values too)."""
    if not pdqs:
        return {}
    query = (
        select(Signal.value, Signal.id)
        .join(Bank, Bank.id == Signal.bank_id)
        .where(Bank.case_id == case_id, Signal.type == SignalType.PDQ)
        .where(Signal.value.in_(sorted(pdqs)))
        .order_by(Signal.id)
    )
    found: dict[str, int] = {}
    for value, signal_id in session.execute(query):
        found.setdefault(str(value), int(signal_id))
    return found


def store_records(
    session: Session, store: EvidenceStore, case_id: int, records: Sequence[KeypointIn]
) -> int:
    """Seal and add ``records`` to the case (inside the caller's write transaction, after its
    signals); the case key is made on first use. How many were stored."""
    if not records:
        return 0
    key = store.case_key(session, case_id)
    signals = _photo_signals(session, case_id, {r.pdq.lower() for r in records if r.pdq})
    for record in records:
        nonce, sealed = crypto.seal(key, record.keypoints.to_bytes(), _aad(case_id))
        session.add(
            KeypointRecord(
                case_id=case_id,
                signal_id=signals.get(record.pdq.lower()) if record.pdq else None,
                version=KEYPOINT_VERSION,
                nonce=nonce.hex(),
                sealed=sealed,
            )
        )
    session.flush()
    return len(records)


def load_records(session: Session, store: EvidenceStore, case_id: int) -> list[EnrolledKeypoints]:
    """The case's keypoint records, opened, in enrolment order (none: an empty list, and the
    evidence key is not touched)."""
    rows = session.scalars(
        select(KeypointRecord)
        .where(KeypointRecord.case_id == case_id, KeypointRecord.version == KEYPOINT_VERSION)
        .order_by(KeypointRecord.id)
    ).all()
    if not rows:
        return []
    key = store.case_key(session, case_id, create=False)
    out: list[EnrolledKeypoints] = []
    for row in rows:
        plain = crypto.open_sealed(key, bytes.fromhex(row.nonce), row.sealed, _aad(case_id))
        out.append(EnrolledKeypoints(row.id, row.signal_id, KeypointSet.from_bytes(plain)))
    return out


def delete_records(session: Session, case_id: int) -> int:
    """Delete the case's keypoint records (her withdrawal, inside its transaction)."""
    done = session.execute(delete(KeypointRecord).where(KeypointRecord.case_id == case_id))
    return int(getattr(done, "rowcount", 0) or 0)


def records_after(
    session: Session, store: EvidenceStore, after_id: int, limit: int = 1000
) -> list[EnrolledKeypoints]:
    """Every case's records with an id above ``after_id``, opened, in id order (at most
    ``limit``): the platform API's keypoint bank reads the new ones on every poll."""
    rows = session.scalars(
        select(KeypointRecord)
        .where(KeypointRecord.id > after_id, KeypointRecord.version == KEYPOINT_VERSION)
        .order_by(KeypointRecord.id)
        .limit(limit)
    ).all()
    keys: dict[int, bytes] = {}
    out: list[EnrolledKeypoints] = []
    for row in rows:
        if row.case_id not in keys:
            keys[row.case_id] = store.case_key(session, row.case_id, create=False)
        aad = _aad(row.case_id)
        plain = crypto.open_sealed(keys[row.case_id], bytes.fromhex(row.nonce), row.sealed, aad)
        out.append(EnrolledKeypoints(row.id, row.signal_id, KeypointSet.from_bytes(plain)))
    return out


def open_records(
    session: Session, store: EvidenceStore, record_ids: Sequence[int]
) -> dict[int, EnrolledKeypoints]:
    """The records of ``record_ids`` still stored, opened: one query for the rows and their
    cases' wrapped keys, unwrapped as ``EvidenceStore.case_key`` unwraps them — what the
    platform API's keypoint bank verifies per lookup. A withdrawn photo's row is gone, so it
    is not there; a record that cannot be opened (its case key destroyed, the sealed bytes
    damaged, a record that does not parse) is left out too, and never raises: to the caller
    it is a miss."""
    if not record_ids:
        return {}
    rows = session.execute(
        select(
            KeypointRecord.id,
            KeypointRecord.case_id,
            KeypointRecord.signal_id,
            KeypointRecord.nonce,
            KeypointRecord.sealed,
            CaseKey.nonce,
            CaseKey.wrapped,
        )
        .join(CaseKey, CaseKey.case_id == KeypointRecord.case_id)  # no key: nothing to open
        .where(
            KeypointRecord.id.in_(sorted(set(record_ids))),
            KeypointRecord.version == KEYPOINT_VERSION,
        )
    ).all()
    keys: dict[int, bytes | None] = {}
    out: dict[int, EnrolledKeypoints] = {}
    for record_id, case_id, signal_id, nonce, sealed, key_nonce, wrapped in rows:
        if case_id not in keys:
            try:
                keys[case_id] = store.files.case_key(
                    case_id, bytes.fromhex(key_nonce), bytes.fromhex(wrapped)
                )
            except (EvidenceError, ValueError):
                keys[case_id] = None
        key = keys[case_id]
        if key is None:
            continue
        try:
            plain = crypto.open_sealed(key, bytes.fromhex(nonce), sealed, _aad(case_id))
            keypoints = KeypointSet.from_bytes(plain)
        except (EvidenceError, KeypointFormatError, ValueError):
            continue
        out[int(record_id)] = EnrolledKeypoints(int(record_id), signal_id, keypoints)
    return out


def record_ids(session: Session) -> set[int]:
    """The ids of every stored record (withdrawals delete theirs)."""
    query = select(KeypointRecord.id).where(KeypointRecord.version == KEYPOINT_VERSION)
    return set(session.scalars(query))


def record_counts(session: Session) -> tuple[int, int]:
    """The highest record id (0: none) and how many records are stored."""
    newest, count = session.execute(
        select(func.max(KeypointRecord.id), func.count(KeypointRecord.id)).where(
            KeypointRecord.version == KEYPOINT_VERSION
        )
    ).one()
    return int(newest or 0), int(count or 0)
