"""The audit chain: appended by every state change; edits and deletions are detected."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from stopspread import hashchain
from stopspread.errors import AuditChainError
from stopspread.services import audit, cases
from stopspread.services.context import Services
from stopspread.services.signal_input import parse_signal
from stopspread.storage.models import AuditEvent


def _events(svc: Services, n: int) -> None:
    for i in range(n):
        cases.create_case(svc, [parse_signal("md5", f"{i:032x}")])


def test_chain_verifies_and_holds_no_hashes(services: Services) -> None:
    _events(services, 3)
    report = audit.verify(services.db)
    assert report.events == 3
    with services.db.read() as session:
        payloads = session.scalars(select(AuditEvent.payload)).all()
    assert all(f"{i:032x}" not in p for i, p in enumerate(payloads))


@pytest.mark.parametrize("field", ["payload", "kind", "at"])
def test_edited_row_is_detected(services: Services, field: str) -> None:
    _events(services, 3)
    value = {"payload": '{"case":99,"signals":1}', "kind": "case_withdrawn", "at": "2020-01-01"}[
        field
    ]
    with services.db.write() as (session, _head):
        session.execute(update(AuditEvent).where(AuditEvent.seq == 2).values({field: value}))
    with pytest.raises(AuditChainError, match="event 2"):
        audit.verify(services.db)


@pytest.mark.parametrize(
    ("seq", "message"),
    [(1, "event 1 is missing"), (2, "event 2 is missing"), (3, "ends at event 2")],
)
def test_deleted_row_is_detected(services: Services, seq: int, message: str) -> None:
    _events(services, 3)
    with services.db.write() as (session, _head):
        session.execute(delete(AuditEvent).where(AuditEvent.seq == seq))
    with pytest.raises(AuditChainError, match=message):
        audit.verify(services.db)


def test_rehashed_edit_is_still_detected(services: Services) -> None:
    """Recomputing the edited row's own hash breaks the link to the next row."""
    _events(services, 3)
    with services.db.write() as (session, _head):
        row = session.get(AuditEvent, 2)
        assert row is not None
        row.payload = '{"case":2,"signals":0}'
        row.hash = hashchain.entry_hash(row.prev_hash, row.seq, row.at, row.kind, row.payload)
    with pytest.raises(AuditChainError, match="event 3"):
        audit.verify(services.db)
