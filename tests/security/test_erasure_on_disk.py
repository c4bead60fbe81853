"""Finding 10, measured as the issue asks: bytes of a withdrawn hash found anywhere on disk
after erasure: 0.

Hash sealing is on (the default). A case is enrolled, a MIH index snapshot holds its hashes
cloaked (``matching/cloak.py``: PDQ XOR a mask from the hash key, MD5 keyed; a snapshot is
memory-mapped, not sealed), so no file holds her values in the clear even before; she
withdraws with erasure, the background work finishes (a fresh snapshot without her rows,
every older one deleted); then every file under the data folder — the database and its
``-wal``/``-shm``, the snapshots, the journal, the evidence folder, the key files — is
searched for each of her hash values as hex (both cases), raw bytes and base64
(``disk_scan.py``): 0 hits, and for her cloaked values (found in the snapshot before, so the
scan would see her rows): 0; nor does any log record. The database files alone hold
no enrolled hash at any time (a stolen database file yields none). On PostgreSQL the clear
value is never sent: the test cluster's files (heap, indexes, WAL) hold none, while a
control database with sealing off shows the scan finds values there.
"""

from __future__ import annotations

import logging
import secrets
import stat
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from stopspread.config import IndexKind, Settings
from stopspread.services import cases
from stopspread.services.context import Services
from stopspread.services.signal_input import SignalIn, parse_signal
from stopspread.services.snapshots import SnapshotStore, SnapshotWriter
from stopspread.storage import Database
from stopspread.storage.models import ChainHead
from tests.conftest import fast_settings, make_services
from tests.pg import PgCluster
from tests.security.disk_scan import DiskScan, forms, scan
from tests.web.support import api_client, auth, new_client_key, pdq_body

DB_FILES = {"stopspread.db", "stopspread.db-wal", "stopspread.db-shm"}
WAIT_S = 60.0  # a bound on waiting for the background work; no timing is asserted


def _pdqs(n: int) -> list[str]:
    return [secrets.token_hex(32) for _ in range(n)]  # fresh: no other test holds them


def _signals(pdqs: list[str], md5s: list[str]) -> list[SignalIn]:
    return [parse_signal("pdq", v) for v in pdqs] + [parse_signal("md5", v) for v in md5s]


def _settings(data: Path, kind: IndexKind = IndexKind.MIH) -> Settings:
    return fast_settings(
        f"sqlite:///{data / 'stopspread.db'}",
        data,
        index_kind=kind,
        index_snapshot_interval_s=600.0,
    )


def _enrol_and_snapshot(settings: Settings) -> tuple[Services, cases.NewCase, list[str], list[str]]:
    """Two cases (hers and another), and a snapshot holding both; returns (services, her case,
    her values, the other case's values)."""
    svc = make_services(settings.url, settings.data_dir, index_kind=IndexKind.MIH)
    hers_pdq, hers_md5 = _pdqs(20), [secrets.token_hex(16) for _ in range(2)]
    others = _pdqs(5)
    cases.create_case(svc, _signals(others, []))
    hers = cases.create_case(svc, _signals(hers_pdq, hers_md5))
    svc.replica.sync()
    cloak = svc.replica.cloak_id
    store = SnapshotStore(settings.snapshot_dir, svc.policy.pdq.min_enrolled_quality, cloak)
    assert SnapshotWriter(store, svc.replica.capture, 600.0).write_once() is not None
    return svc, hers, hers_pdq + hers_md5, others


def _cloaked(svc: Services, values: list[str]) -> list[str]:
    """The values as the replica and its snapshots hold them."""
    cloak = svc.replica.cloak
    assert cloak is not None  # sealing is on by default
    return [cloak.value("pdq" if len(v) == 64 else "md5", v) for v in values]


def _change_seq(settings: Settings) -> int:
    db = Database(settings.url)
    with db.read() as session:
        head = session.get(ChainHead, 1)
        assert head is not None
        seq = head.change_seq
    db.dispose()
    return seq


def _erased(store: SnapshotStore, seq: int, keep: bool) -> bool:
    """Waits (bounded) until the snapshot folder holds only a snapshot at ``seq`` or later
    (``keep``), or none at all."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        held = store.sequences()
        if (len(held) == 1 and held[0] >= seq) if keep else not held:
            return True
        time.sleep(0.05)
    return False


def _private(root: Path) -> None:
    for folder in ("snapshots", "journal"):
        path = root / folder
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, folder
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in path.iterdir()), folder


def _report(label: str, found: DiskScan, values: list[str]) -> None:
    held = found.found() & set(values)
    print(f"{label}: {len(held)}/{len(values)} found, {found.files} files, {found.bytes} bytes")


def test_withdrawn_hashes_leave_every_file_while_serving(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every log record of the run, searched at the end
    data = tmp_path / "data"
    settings = _settings(data)
    svc, case, hers, others = _enrol_and_snapshot(settings)
    her_rows, other_rows = _cloaked(svc, hers), _cloaked(svc, others)
    svc.db.dispose()
    key = new_client_key(settings)
    before = scan(data, hers + others)
    _report("sqlite before", before, hers)
    assert before.found() == set()  # the snapshot holds them cloaked, the database sealed
    rows = scan(data, her_rows + other_rows)
    assert rows.found() == set(her_rows + other_rows)  # her rows in the snapshot: seen
    with api_client(settings) as client:
        hit = client.post("/v1/match", json=pdq_body(hers[0]), headers=auth(key)).json()
        assert hit["match"] is True
        gone = client.post(
            f"/v1/cases/{case.code}/withdraw",
            headers={"X-Case-Secret": case.secret},
            json={"center_evidence": "delete"},
        )
        assert gone.json()["withdrawn"] == len(hers)
        store = SnapshotStore(settings.snapshot_dir)
        assert _erased(store, _change_seq(settings), keep=True)
        miss = client.post("/v1/match", json=pdq_body(hers[0]), headers=auth(key)).json()
        assert miss["match"] is False
        during = scan(data, hers + her_rows)  # the server still running: its files now
    after = scan(data, hers + others + her_rows + other_rows)
    _report("sqlite after (serving)", during, hers)
    _report("sqlite after (stopped)", after, hers)
    assert during.found() == set() and after.found() == set(other_rows)
    assert after.in_files(DB_FILES) == set()
    _private(data)
    logged = caplog.text.encode()
    assert caplog.records and not [v for v in hers + others if any(f in logged for f in forms(v))]


@pytest.mark.parametrize("kind", [IndexKind.MIH, IndexKind.BRUTE])
def test_a_withdrawal_made_while_stopped_is_erased_at_the_next_start(
    tmp_path: Path, kind: IndexKind
) -> None:
    """Withdrawn while no server ran (or the snapshot's writer died first): the next start
    replays the removal and replaces the snapshots (MIH), or deletes them (brute: no writer)."""
    data = tmp_path / "data"
    settings = _settings(data, kind)
    svc, case, hers, others = _enrol_and_snapshot(settings)
    her_rows, other_rows = _cloaked(svc, hers), _cloaked(svc, others)
    case_id = cases.authenticate(svc, case.code, case.secret, "127.0.0.1")
    cases.withdraw(svc, case_id)
    svc.db.dispose()
    assert scan(data, her_rows).found() == set(her_rows)  # the old snapshot still holds them
    with api_client(settings):
        store = SnapshotStore(settings.snapshot_dir)
        assert _erased(store, _change_seq(settings), keep=kind is IndexKind.MIH)
    after = scan(data, hers + others + her_rows + other_rows)
    _report(f"sqlite after a start ({kind})", after, hers)
    assert after.found() == (set(other_rows) if kind is IndexKind.MIH else set())


def _checkpoint(cluster: PgCluster) -> None:
    engine = sa.create_engine(cluster.admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("CHECKPOINT")  # every page in the files, not only in WAL
    engine.dispose()


def test_postgresql_never_receives_a_clear_hash(pg_cluster: PgCluster, tmp_path: Path) -> None:
    assert pg_cluster.data_dir is not None, "the test needs the throwaway cluster's files"
    url, control_url = pg_cluster.new_database(), pg_cluster.new_database()
    try:
        svc = make_services(url, tmp_path / "a", index_kind=IndexKind.MIH)
        hers, others = _pdqs(20), _pdqs(5)
        cases.create_case(svc, _signals(others, []))
        case = cases.create_case(svc, _signals(hers, []))
        svc.replica.sync()
        control = make_services(control_url, tmp_path / "c", seal_hashes=False)
        canary = _pdqs(1)
        cases.create_case(control, _signals(canary, []))
        control.db.dispose()
        _checkpoint(pg_cluster)
        before = scan(pg_cluster.data_dir, hers + others + canary)
        _report("postgresql before", before, hers + others)
        assert before.found() == set(canary)  # the scan finds a clear value; none of ours
        cases.withdraw(svc, cases.authenticate(svc, case.code, case.secret, "127.0.0.1"))
        svc.db.dispose()
        _checkpoint(pg_cluster)
        after = scan(pg_cluster.data_dir, hers + others)
        _report("postgresql after", after, hers)
        assert after.found() == set()
    finally:
        pg_cluster.drop_database(url)
        pg_cluster.drop_database(control_url)
