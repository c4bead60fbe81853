"""Starting from an index snapshot: snapshot + change-log replay equals the database exactly.

Issue 18: the replica and so its snapshots hold cloaked values (PDQ XOR a mask from the hash
key, MD5 keyed): the files hold none of the enrolled values in any form, matches are the same,
and a clear (format 1) snapshot or one of another key is refused, logged and rebuilt."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from stopspread.config import IndexKind
from stopspread.matching import MihIndex
from stopspread.services import cases, platform
from stopspread.services.context import Services
from stopspread.services.replica import IndexReplica
from stopspread.services.signal_input import parse_signal
from stopspread.services.snapshots import SnapshotStore, SnapshotWriter
from stopspread.storage.models import Signal, SignalStatus, SignalType
from tests.conftest import make_services, random_pdq
from tests.security.disk_scan import forms

# every database here is used through services: a migrated copy (tests/dbtemplate.py)
pytestmark = pytest.mark.usefixtures("migrated_database")

Contents = tuple[set[tuple[int, str]], set[tuple[int, str]]]


def _replica_contents(replica: IndexReplica) -> Contents:
    """(id, hex) of every PDQ signal in the index, and of every MD5 signal."""
    index, md5, _seq = replica.capture()
    assert isinstance(index, MihIndex)
    pdq: set[tuple[int, str]] = set()
    for seg in index._state.all():
        hashes, ids = seg.live()
        pdq.update(zip(ids.tolist(), (h.tobytes().hex() for h in hashes), strict=True))
    return pdq, set(md5)


def _database_contents(svc: Services) -> Contents:
    """As the replica holds them: cloaked (sealing is on in the test services)."""
    cloak = svc.replica.cloak
    assert cloak is not None
    pdq, md5 = _clear_contents(svc)
    return set(cloak.rows("pdq", sorted(pdq))), set(cloak.rows("md5", sorted(md5)))


def _clear_contents(svc: Services) -> Contents:
    with svc.db.read() as session:
        rows = session.execute(
            select(Signal.id, Signal.type, Signal.value).where(Signal.status == SignalStatus.ACTIVE)
        ).all()
    pdq = {(r[0], r[2]) for r in rows if r[1] is SignalType.PDQ}
    return pdq, {(r[0], r[2]) for r in rows if r[1] is SignalType.MD5}


def _signals(rng: np.random.Generator, n: int) -> list[str]:
    return [random_pdq(rng) for _ in range(n)]


def test_snapshot_plus_replay_equals_the_database(database_url: str, tmp_path: Path) -> None:
    svc = make_services(
        database_url,
        tmp_path,
        index_kind=IndexKind.MIH,
        quarantine_min_matches=3,
        quarantine_factor=1.0,
    )
    rng = np.random.default_rng(17)
    kept = cases.create_case(svc, [parse_signal("pdq", v) for v in _signals(rng, 40)])
    hot = random_pdq(rng)
    gone = cases.create_case(
        svc,
        [parse_signal("pdq", hot), parse_signal("md5", "cd" * 16)]
        + [parse_signal("pdq", v) for v in _signals(rng, 10)],
    )
    svc.replica.sync()
    store = SnapshotStore(tmp_path / "snapshots", cloak=svc.replica.cloak_id)
    writer = SnapshotWriter(store, svc.replica.capture, 600.0)
    assert writer.write_once() is not None
    assert writer.write_once() is None  # nothing changed since
    snap_seq = store.sequences()[0]

    # between the snapshot and the next start: adds, a quarantine, a withdrawal
    cases.create_case(
        svc, [parse_signal("pdq", v) for v in _signals(rng, 15)] + [parse_signal("md5", "ef" * 16)]
    )
    client, _key = platform.create_client(svc.db, "p")
    while platform.match(svc, client, parse_signal("pdq", hot)).match:
        pass  # until the sudden popularity quarantines it
    cases.withdraw(svc, cases.authenticate(svc, gone.code, gone.secret, "x"))
    assert kept.code

    fresh = IndexReplica(svc.db, IndexKind.MIH, svc.policy)
    fresh.load(store)
    assert fresh.source.startswith("snapshot")
    assert fresh.seq > snap_seq
    expected = _database_contents(svc)
    assert len(expected[0]) == 55 and len(expected[1]) == 1
    assert _replica_contents(fresh) == expected
    rebuilt = IndexReplica(svc.db, IndexKind.MIH, svc.policy)
    rebuilt.load()
    assert rebuilt.source == "database" and rebuilt.seq == fresh.seq
    assert _replica_contents(rebuilt) == expected
    svc.db.dispose()


def _snapshotted(sqlite_url: str, tmp_path: Path) -> tuple[Services, SnapshotStore, Path]:
    svc = make_services(sqlite_url, tmp_path, index_kind=IndexKind.MIH)
    rng = np.random.default_rng(18)
    cases.create_case(svc, [parse_signal("pdq", v) for v in _signals(rng, 30)])
    svc.replica.sync()
    store = SnapshotStore(tmp_path / "snapshots", cloak=svc.replica.cloak_id)
    meta = SnapshotWriter(store, svc.replica.capture, 600.0).write_once()
    assert meta is not None
    return svc, store, meta.with_suffix(".ssmih")


def test_a_corrupted_snapshot_falls_back_to_a_rebuild(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    svc, store, data = _snapshotted(sqlite_url, tmp_path)
    raw = bytearray(data.read_bytes())
    raw[-40] ^= 0xFF  # one byte of the hash or id arrays, far past the header
    data.write_bytes(bytes(raw))
    fresh = IndexReplica(svc.db, IndexKind.MIH, svc.policy)
    with caplog.at_level(logging.INFO, logger="stopspread.replica"):
        fresh.load(store)
    assert fresh.source == "database"
    assert "not used" in caplog.text and "checksum" in caplog.text
    assert "rebuilding the index from the database" in caplog.text
    assert _replica_contents(fresh) == _database_contents(svc)
    svc.db.dispose()


def test_a_snapshot_ahead_of_the_database_is_stale(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    svc, store, _data = _snapshotted(sqlite_url, tmp_path)
    other = make_services(
        f"sqlite:///{tmp_path / 'other.db'}", tmp_path / "o", index_kind=IndexKind.MIH
    )
    fresh = IndexReplica(other.db, IndexKind.MIH, other.policy)
    with caplog.at_level(logging.INFO, logger="stopspread.replica"):
        fresh.load(store)  # a restored (older) or another database: never trust the snapshot
    assert fresh.source == "database" and len(fresh) == 0
    assert "stale" in caplog.text
    svc.db.dispose()
    other.db.dispose()


def test_a_snapshot_never_holds_a_removed_row(tmp_path: Path) -> None:
    """Removed rows (dead in their segment, and in its search tables) are not written; after
    a removal ``erase_once`` leaves one snapshot, at the current position; files 0600, 0700."""
    rng = np.random.default_rng(181)
    hashes = rng.integers(0, 256, (50, 32), dtype=np.uint8)
    index = MihIndex.from_arrays(hashes, np.arange(50, dtype=np.int64))
    store = SnapshotStore(tmp_path / "snapshots")
    position = {"seq": 1}
    writer = SnapshotWriter(store, lambda: (index, [], position["seq"]), 600.0)
    assert writer.write_once() is not None
    index.remove([7, 8])
    position["seq"] = 2
    assert writer.erase_once()
    assert store.sequences() == [2]
    on_disk = b"".join(p.read_bytes() for p in store.dir.iterdir())
    assert hashes[7].tobytes() not in on_disk and hashes[8].tobytes() not in on_disk
    assert hashes[9].tobytes() in on_disk
    loaded = store.load(2, db_seq=2)
    assert len(loaded.index) == 48 and 7 not in loaded.index and 9 in loaded.index
    assert stat.S_IMODE(store.dir.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in store.dir.iterdir()} == {0o600}
    idle = SnapshotWriter(store, lambda: (index, [], 2), 0.0, writes=False)
    assert idle.erase_once() and store.sequences() == []  # no writer: deleted


def _near(value: str, bits: int) -> str:
    """``value`` with its first ``bits`` bits flipped."""
    flipped = int(value, 16) ^ (((1 << bits) - 1) << (256 - bits))
    return f"{flipped:064x}"


def test_a_snapshot_holds_no_enrolled_value_and_matches_as_before(
    database_url: str, tmp_path: Path
) -> None:
    svc = make_services(database_url, tmp_path, index_kind=IndexKind.MIH)
    rng = np.random.default_rng(183)
    pdqs = _signals(rng, 40)
    md5s = [rng.bytes(16).hex() for _ in range(3)]  # random: zero padding is no hit
    case = cases.create_case(
        svc, [parse_signal("pdq", v) for v in pdqs] + [parse_signal("md5", v) for v in md5s]
    )
    svc.replica.sync()
    store = SnapshotStore(tmp_path / "snapshots", cloak=svc.replica.cloak_id)
    assert SnapshotWriter(store, svc.replica.capture, 600.0).write_once() is not None
    on_disk = b"".join(p.read_bytes() for p in store.dir.iterdir() if p.is_file())
    held = [v for v in pdqs + md5s if any(form in on_disk for form in forms(v))]
    assert held == []  # hex both cases, raw bytes, base64 (standard and URL-safe): 0

    fresh = IndexReplica(svc.db, IndexKind.MIH, svc.policy)
    fresh.load(store)
    clear = IndexReplica(svc.db, IndexKind.MIH, svc.policy)
    clear.cloak = None  # the same signals held in the clear, as before this change
    clear.load()
    assert fresh.source.startswith("snapshot") and clear.source == "database"
    queries = [parse_signal("pdq", _near(v, bits)) for v in pdqs[:10] for bits in (0, 12, 40)]
    queries += [parse_signal("md5", v) for v in md5s] + [parse_signal("md5", "ab" * 16)]
    answers = [fresh.lookup(q) for q in queries]
    assert answers == [clear.lookup(q) for q in queries]
    assert sum(bool(a) for a in answers) == 10 * 2 + 3  # near copies match, far ones do not
    assert case.code
    svc.db.dispose()


def test_a_clear_or_foreign_snapshot_is_refused_logged_and_rebuilt(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    svc, store, data = _snapshotted(sqlite_url, tmp_path)
    sidecar = data.with_suffix(".json")
    written = json.loads(sidecar.read_text())
    for change, words in (
        ({"format": 1, "cloak": None}, "format 1 holds hash values in the clear"),
        ({"cloak": "0" * 24}, "another hash key"),
    ):
        sidecar.write_text(json.dumps(written | change))
        fresh = IndexReplica(svc.db, IndexKind.MIH, svc.policy)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="stopspread.replica"):
            fresh.load(store)
        assert fresh.source == "database" and words in caplog.text
        assert fresh.erased.is_set()  # the writer replaces the old files at once
        assert _replica_contents(fresh) == _database_contents(svc)
    svc.db.dispose()
