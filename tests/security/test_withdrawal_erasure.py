"""Finding 10 (in part): withdrawn hashes stayed on disk (35 of 35 in SQLite's ``-wal`` file
until later writes overwrote it), database files were created 0644, the evidence folder 0755.

Against a real server: after a withdrawal no file under the data folder holds any of her
hash values (SQLite ``secure_delete`` zeroes the rows, a WAL checkpoint drops the older
copies); the database, its journal and the evidence folder are private to the service.

Finding 6 with her choice "delete": the case's wrapped evidence key and its sealed files are
gone from the data folder too (no 32-byte window of either is left), so a copy of a file
taken before, in a backup, can never be opened again.
"""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from stopspread.config import Settings
from stopspread.evidence import HttpCapture
from stopspread.services.custody import EvidenceStore
from stopspread.storage import Database
from stopspread.storage.models import Case
from stopspread.storage.models_worker import CaseKey, EvidenceRecord
from tests.conftest import fast_settings, random_pdq
from tests.web.support import api_client, auth, new_client_key, pdq_body


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _on_disk(root: Path) -> bytes:
    """Every file's bytes under ``root``; a file the running server removes between the
    listing and the read (a journal segment once applied) has no bytes left on disk."""
    found = []
    for path in _files(root):
        try:
            found.append(path.read_bytes())
        except FileNotFoundError:
            continue
    return b"".join(found)


def test_no_byte_of_a_withdrawn_hash_stays_on_disk(tmp_path: Path) -> None:
    """Sealing off (the opt-out): ``secure_delete`` and the checkpoint alone erase them.
    Sealing on (the default): test_erasure_on_disk.py."""
    data = tmp_path / "data"
    settings = fast_settings(f"sqlite:///{data / 'stopspread.db'}", data, seal_hashes=False)
    key = new_client_key(settings)
    rng = np.random.default_rng(10)
    hers = [random_pdq(rng) for _ in range(35)]
    others = [random_pdq(rng) for _ in range(5)]
    with api_client(settings) as client:
        kept = client.post("/v1/cases", json={"signals": [pdq_body(v) for v in others]})
        assert kept.status_code == 201
        made = client.post("/v1/cases", json={"signals": [pdq_body(v) for v in hers]}).json()
        for value in hers[:3]:  # matched too: refs, review items
            client.post("/v1/match", json=pdq_body(value), headers=auth(key))
        on_disk = _on_disk(data)
        assert sum(v.encode() in on_disk for v in hers) == 35  # the test sees them before
        headers = {"X-Case-Secret": made["secret"]}
        gone = client.post(f"/v1/cases/{made['case_code']}/withdraw", headers=headers)
        assert gone.json()["withdrawn"] == 35
        on_disk = _on_disk(data)
    found = [v for v in hers if v.encode() in on_disk or bytes.fromhex(v) in on_disk]
    assert found == []
    assert all(v.encode() in on_disk for v in others)  # the other case is untouched


def test_database_and_evidence_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = fast_settings(f"sqlite:///{data / 'stopspread.db'}", data)
    with api_client(settings) as client:
        client.post("/v1/cases", json={"signals": [{"type": "md5", "value": "d" * 32}]})
        db = Database(settings.url)
        store = EvidenceStore.from_settings(settings, db)
        now = datetime.now(UTC)
        capture = HttpCapture("https://example.org/a.jpg", 200, [], b"x" * 100, now)
        with db.write() as (session, _head):
            store.capture(session, 1, [capture], reason="test")
        db.dispose()
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.rglob("*")}
    for name in ("stopspread.db", "stopspread.db-wal", "stopspread.db-shm"):
        if name in modes:
            assert modes[name] == 0o600, name
    assert stat.S_IMODE(data.stat().st_mode) & 0o077 == 0
    assert modes["evidence"] == 0o700
    assert all(mode & 0o077 == 0 for mode in modes.values())


WINDOW = 32  # bytes: a run this long found on disk counts as a copy


def _windows_found(data: bytes, on_disk: bytes) -> int:
    return sum(data[i : i + WINDOW] in on_disk for i in range(0, len(data) - WINDOW + 1, WINDOW))


def _capture_case(settings: Settings, code: str, body: bytes) -> tuple[int, bytes, bytes]:
    """Evidence of the case as a scan would keep it: (case id, its sealed file, its wrapped key)."""
    db = Database(settings.url)
    store = EvidenceStore.from_settings(settings, db)
    with db.read() as session:
        case_id = session.scalars(select(Case.id).where(Case.code == code)).one()
    capture = HttpCapture("https://example.org/a.jpg", 200, [], body, datetime.now(UTC))
    with db.write() as (session, _head):
        store.capture(session, case_id, [capture], reason="test")
    with db.read() as session:
        row = session.scalars(select(EvidenceRecord).where(EvidenceRecord.case_id == case_id)).one()
        key = session.get(CaseKey, case_id)
        assert key is not None
        wrapped = bytes.fromhex(key.wrapped)
        sealed = store.read_file(row.file_name)
    db.dispose()
    return case_id, sealed, wrapped


@pytest.mark.parametrize("choice", ["delete", "keep"])
def test_erasure_leaves_no_byte_of_her_hashes_nor_of_the_deleted_capture(
    tmp_path: Path, choice: str
) -> None:
    """Measured: windows of her hashes, of the capture's ciphertext and of its wrapped key
    found anywhere under the data folder after the withdrawal ("delete": 0 of each)."""
    data = tmp_path / "data"
    settings = fast_settings(f"sqlite:///{data / 'stopspread.db'}", data)
    rng = np.random.default_rng(11)
    hers = [random_pdq(rng) for _ in range(20)]
    body = bytes(rng.integers(0, 256, 4096, dtype=np.uint8))  # synthetic bytes, not an image
    with api_client(settings) as client:
        made = client.post("/v1/cases", json={"signals": [pdq_body(v) for v in hers]}).json()
        _case_id, sealed, wrapped = _capture_case(settings, made["case_code"], body)
        on_disk = _on_disk(data)
        assert _windows_found(sealed, on_disk) == len(sealed) // WINDOW  # the test sees it
        assert wrapped.hex().encode() in on_disk
        headers = {"X-Case-Secret": made["secret"]}
        gone = client.post(
            f"/v1/cases/{made['case_code']}/withdraw",
            headers=headers,
            json={"center_evidence": choice},
        )
        assert gone.status_code == 200
        assert gone.json() == {
            "withdrawn": 20,
            "center_evidence": choice,
            "evidence_records": 1,
            "evidence_erased": choice == "delete",
        }
        on_disk = _on_disk(data)
    hashes_left = [v for v in hers if v.encode() in on_disk or bytes.fromhex(v) in on_disk]
    assert hashes_left == []
    sealed_left = _windows_found(sealed, on_disk)
    key_left = wrapped.hex().encode() in on_disk or wrapped in on_disk
    if choice == "delete":
        assert (sealed_left, key_left) == (0, False)
    else:  # kept for her legal case: still there, still readable by the center
        assert sealed_left == len(sealed) // WINDOW and key_left
