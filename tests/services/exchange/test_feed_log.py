"""The feed's records follow every signal change in commit order: adds, quarantine, purge."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select, update

from stopspread.services import cases, platform
from stopspread.services.context import Services
from stopspread.services.exchange.feed_log import (
    TOMBSTONE_RETENTION_S,
    FeedStatus,
    purge_tombstones,
)
from stopspread.services.signal_input import parse_signal
from stopspread.storage.models import ChainHead
from stopspread.storage.models_exchange import FeedRecord
from tests.conftest import make_services, random_pdq

# every database here is used through services: a migrated copy (tests/dbtemplate.py)
pytestmark = pytest.mark.usefixtures("migrated_database")


def _records(svc: Services) -> dict[str, tuple[str, int, int]]:
    with svc.db.read() as session:
        rows = session.execute(
            select(FeedRecord.value, FeedRecord.status, FeedRecord.seq, FeedRecord.modified_ts)
        ).all()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def test_quarantine_leaves_a_deleted_tombstone_and_seq_is_the_change_log(
    database_url: str, tmp_path: Path
) -> None:
    svc = make_services(database_url, tmp_path, quarantine_min_matches=3, quarantine_factor=1.0)
    rng = np.random.default_rng(4)
    hot, calm = random_pdq(rng), random_pdq(rng)
    cases.create_case(svc, [parse_signal("pdq", hot, 95), parse_signal("pdq", calm, 95)])
    svc.replica.sync()
    clients = [platform.create_client(svc.db, f"p{n}")[0] for n in range(3)]
    before = _records(svc)
    assert {v: s for v, (s, _q, _t) in before.items()} == {hot: "Active", calm: "Active"}
    for client in clients:  # quarantine for everyone takes several platforms (issue 18)
        platform.match(svc, client, parse_signal("pdq", hot))
    after = _records(svc)
    assert after[hot][0] == FeedStatus.DELETED.value
    assert after[hot][1] > before[hot][1] and after[hot][2] >= before[hot][2]
    assert after[calm] == before[calm]
    with svc.db.read() as session:
        head = session.get(ChainHead, 1)
        assert head is not None and head.change_seq == after[hot][1]
    # old tombstones go; active records stay whatever their age
    with svc.db.write() as (session, _head):
        session.execute(
            update(FeedRecord).values(modified_ts=int(time.time()) - TOMBSTONE_RETENTION_S - 5)
        )
        assert purge_tombstones(session) == 1
    assert set(_records(svc)) == {calm}
    svc.db.dispose()
