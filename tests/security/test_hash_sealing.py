"""Finding 10, the rest: hash values encrypted at rest with a key kept outside the database.

With ``seal_hashes`` on, against a real server: enrolment, matching (near PDQ and exact MD5)
and withdrawal work as before, while no file of the data folder but the key file holds any
hash value, and the database file alone (opened without the key) yields none. Plain values
stored before sealing was turned on are sealed when the services start.
"""

from __future__ import annotations

import stat
import time
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import select, text

from stopspread.config import Settings
from stopspread.services import cases
from stopspread.services.context import build_services
from stopspread.services.signal_input import parse_signal
from stopspread.storage import Database, upgrade
from stopspread.storage.models import Signal
from stopspread.storage.sealing import HASH_KEY_FILE
from tests.conftest import fast_settings, random_pdq
from tests.web.support import api_client, auth, new_client_key, pdq_body


def _flip(value: str, bits: int) -> str:
    number = int(value, 16) ^ ((1 << bits) - 1)
    return f"{number:064x}"


def _match(client: httpx.Client, key: str, body: dict[str, str], want: bool) -> bool:
    """The answer once the server's index has the change (it polls; bounded wait, no timing
    is asserted)."""
    for _ in range(200):
        answer = client.post("/v1/match", json=body, headers=auth(key)).json()["match"]
        if answer is want:
            return want
        time.sleep(0.05)
    return not want


def _on_disk(data: Path) -> bytes:
    files = [p for p in data.rglob("*") if p.is_file() and p.name != HASH_KEY_FILE]
    return b"".join(p.read_bytes() for p in files)


def _found(values: list[str], on_disk: bytes) -> list[str]:
    return [v for v in values if v.encode() in on_disk or bytes.fromhex(v) in on_disk]


def _stored(settings: Settings) -> list[str]:
    """What a thief with the database file alone reads: no key."""
    db = Database(settings.url)
    with db.read() as session:
        rows = [str(v) for v in session.execute(text("SELECT value FROM signals")).scalars()]
    db.dispose()
    return rows


def test_a_stolen_database_file_yields_no_hash(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = fast_settings(f"sqlite:///{data / 'stopspread.db'}", data, seal_hashes=True)
    key = new_client_key(settings)
    rng = np.random.default_rng(18)
    pdqs = [random_pdq(rng) for _ in range(10)]
    md5s = [random_pdq(rng)[:32] for _ in range(2)]  # random: no chance runs of zeros
    signals = [pdq_body(v) for v in pdqs] + [{"type": "md5", "value": v} for v in md5s]
    with api_client(settings) as client:
        made = client.post("/v1/cases", json={"signals": signals})
        assert made.status_code == 201
        assert _match(client, key, pdq_body(_flip(pdqs[0], 8)), True)  # near
        assert _match(client, key, {"type": "md5", "value": md5s[0]}, True)  # exact
        on_disk = _on_disk(data)
        assert _found(pdqs + md5s, on_disk) == []  # while the case is active
        stolen = _stored(settings)
        assert len(stolen) == 12 and not set(stolen) & set(pdqs + md5s)
        headers = {"X-Case-Secret": made.json()["secret"]}
        gone = client.post(f"/v1/cases/{made.json()['case_code']}/withdraw", headers=headers)
        assert gone.json()["withdrawn"] == 12
        assert _match(client, key, pdq_body(pdqs[0]), False) is False
    assert _found(pdqs + md5s, _on_disk(data)) == []
    assert stat.S_IMODE((data / HASH_KEY_FILE).stat().st_mode) == 0o600


def test_plain_values_are_sealed_when_sealing_is_turned_on(tmp_path: Path) -> None:
    data = tmp_path / "data"
    plain = fast_settings(f"sqlite:///{data / 'stopspread.db'}", data, seal_hashes=False)
    rng = np.random.default_rng(19)
    pdqs = [random_pdq(rng) for _ in range(5)]
    with api_client(plain) as client:
        assert client.post("/v1/cases", json={"signals": [pdq_body(v) for v in pdqs]}).is_success
    assert sorted(_stored(plain)) == sorted(pdqs)  # before: plain text in the file
    sealed = plain.replace(seal_hashes=True)
    db = Database.from_settings(sealed)
    upgrade(db)
    svc = build_services(sealed, db)
    with db.read() as session:
        assert sorted(session.scalars(select(Signal.value))) == sorted(pdqs)  # the services see hex
    db.checkpoint()
    svc.db.dispose()
    assert not set(_stored(sealed)) & set(pdqs)
    key = new_client_key(sealed)
    with api_client(sealed) as client:
        assert _match(client, key, pdq_body(pdqs[1]), True)


def test_sealed_values_fit_and_look_up_on_both_databases(database_url: str, tmp_path: Path) -> None:
    """SQLite and PostgreSQL: sealed values fit the columns (64 characters for a PDQ hash),
    exact look-ups and the index see the plain values, the raw column holds none."""
    settings = fast_settings(database_url, tmp_path, seal_hashes=True)
    db = Database.from_settings(settings)
    upgrade(db)
    svc = build_services(settings, db)
    rng = np.random.default_rng(20)
    pdq, md5 = random_pdq(rng), random_pdq(rng)[:32]
    cases.create_case(svc, [parse_signal("pdq", pdq), parse_signal("md5", md5)])
    svc.replica.load()
    with db.read() as session:
        found = session.scalars(select(Signal.type).where(Signal.value.in_([pdq, md5]))).all()
        raw = [str(v) for v in session.execute(text("SELECT value FROM signals")).scalars()]
    assert sorted(found) == ["md5", "pdq"]
    assert sorted(len(v) for v in raw) == [43, 64] and not set(raw) & {pdq, md5}
    assert len(svc.replica.lookup(parse_signal("pdq", pdq))) == 1
    assert len(svc.replica.lookup(parse_signal("md5", md5))) == 1
    db.dispose()
