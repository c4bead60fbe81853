"""Finding 10 (in part): withdrawn hashes stayed on disk (35 of 35 in SQLite's ``-wal`` file
until later writes overwrote it), database files were created 0644, the evidence folder 0755.

Against a real server: after a withdrawal no file under the data folder holds any of her
hash values (SQLite ``secure_delete`` zeroes the rows, a WAL checkpoint drops the older
copies); the database, its journal and the evidence folder are private to the service.
"""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from stopspread.evidence import HttpCapture
from stopspread.services.custody import EvidenceStore
from stopspread.storage import Database
from tests.conftest import fast_settings, random_pdq
from tests.web.support import api_client, auth, new_client_key, pdq_body


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_no_byte_of_a_withdrawn_hash_stays_on_disk(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = fast_settings(f"sqlite:///{data / 'stopspread.db'}", data)
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
        on_disk = b"".join(p.read_bytes() for p in _files(data))
        assert sum(v.encode() in on_disk for v in hers) == 35  # the test sees them before
        headers = {"X-Case-Secret": made["secret"]}
        gone = client.post(f"/v1/cases/{made['case_code']}/withdraw", headers=headers)
        assert gone.json()["withdrawn"] == 35
        on_disk = b"".join(p.read_bytes() for p in _files(data))
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
