"""Her choice at withdrawal, enforced in storage (issue 16 item 6, issue 18 finding 6).

"delete": the case's evidence key is destroyed (crypto-shredding) and its files deleted, so a
copy made before (a backup) no longer decrypts even with the master key; previews, reveals,
decisions and the report are refused at once. "keep": the evidence stays readable for her legal
case; only decisions stop. Real SQLite/PostgreSQL, real files, real keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from stopspread.cli import cli
from stopspread.errors import CaseWithdrawnError, EvidenceErasedError, EvidenceError
from stopspread.languages import Language
from stopspread.services import cases
from stopspread.services.case_report import build_report, report_case_id
from stopspread.services.custody import verify_evidence
from stopspread.services.workers import accounts, review
from stopspread.services.workers.review import Decision
from stopspread.storage.models import Case, CenterEvidence
from stopspread.storage.models_worker import CaseKey, EvidenceRecord
from tests.conftest import make_services
from tests.services.review_seed import PASSWORD, World, build_world

# every database here is used through services: a migrated copy (tests/dbtemplate.py)
pytestmark = pytest.mark.usefixtures("migrated_database")


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    svc = make_services(database_url, tmp_path)
    yield build_world(svc, tmp_path)
    svc.db.dispose()


def _mina(world: World) -> accounts.WorkerIdentity:
    return accounts.login(world.svc, "mina", PASSWORD, "127.0.0.1").identity


def _records(world: World, case_id: int) -> list[EvidenceRecord]:
    with world.svc.db.read() as session:
        query = select(EvidenceRecord).where(EvidenceRecord.case_id == case_id)
        return list(session.scalars(query))


def _has_key(world: World, case_id: int) -> bool:
    with world.svc.db.read() as session:
        return session.get(CaseKey, case_id) is not None


def test_each_case_has_its_own_wrapped_key(world: World) -> None:
    with world.svc.db.read() as session:
        keys = {k.case_id: k for k in session.scalars(select(CaseKey))}
    assert set(keys) == {world.case_a, world.case_b}
    assert keys[world.case_a].wrapped != keys[world.case_b].wrapped
    row = _records(world, world.case_a)[0]
    sealed = world.store.read_file(row.file_name)
    with pytest.raises(EvidenceError):  # sealed with the case key, not the master key
        world.store.files.decrypt(row.case_id, row.warc_record_id, row.sha256, row.nonce, sealed)
    assert world.store.open_warc(row)  # through the case key


def test_delete_shreds_the_key_and_refuses_everything_at_once(world: World) -> None:
    mina = _mina(world)
    rows = _records(world, world.case_a)
    backup = {r.id: world.store.read_file(r.file_name) for r in rows}  # a backup taken before
    card = review.list_sightings(world.svc, mina, case_id=world.case_a)[0]

    done = cases.withdraw(world.svc, world.case_a, CenterEvidence.DELETE)

    assert done == cases.Withdrawal(1, CenterEvidence.DELETE, len(rows), True)
    assert not _has_key(world, world.case_a)  # the wrapped key is gone
    assert _has_key(world, world.case_b)  # another case keeps its own
    assert not (world.store.root / str(world.case_a)).exists()  # the files are deleted
    for row in rows:  # and the backup copies no longer open, even with the master key
        with pytest.raises(EvidenceError):
            world.store.decrypt(
                row.case_id, row.warc_record_id, row.sha256, row.nonce, backup[row.id]
            )
        with pytest.raises(EvidenceError):
            world.store.files.decrypt(
                row.case_id, row.warc_record_id, row.sha256, row.nonce, backup[row.id]
            )
    with pytest.raises(EvidenceErasedError):
        review.preview(world.svc, world.store, mina, card.evidence_id)
    with pytest.raises(EvidenceErasedError):
        review.reveal(world.svc, world.store, mina, card.id)
    with pytest.raises(EvidenceErasedError):
        review.revealed_media(world.svc, world.store, mina, card.evidence_id)
    with pytest.raises(CaseWithdrawnError):
        review.decide(world.svc, mina, card.id, Decision.CONFIRM)
    with pytest.raises(EvidenceErasedError):
        report_case_id(world.svc, world.code_a)
    with pytest.raises(EvidenceErasedError):
        build_report(
            world.svc, world.store, world.case_a, language=Language.KO, center="c", worker="w"
        )
    cards = review.list_sightings(world.svc, mina, case_id=world.case_a)
    assert cards and all(c.case_withdrawn and c.evidence_erased for c in cards)
    (listed,) = review.list_cases(world.svc, mina)
    assert listed.withdrawn and listed.evidence_erased
    check = verify_evidence(world.svc.db, world.store)
    assert check.ok, check.problems  # the chain stays whole; the erased files are counted
    assert check.erased == len(rows)


def test_keep_leaves_the_evidence_for_her_legal_case(world: World) -> None:
    mina = _mina(world)
    card = next(c for c in review.list_sightings(world.svc, mina) if c.id == world.sightings_a[0])

    done = cases.withdraw(world.svc, world.case_a, CenterEvidence.KEEP)

    assert done.center_evidence is CenterEvidence.KEEP and not done.evidence_erased
    assert done.evidence_records == len(_records(world, world.case_a))
    assert _has_key(world, world.case_a)
    assert review.reveal(world.svc, world.store, mina, card.id).body == world.image_a
    assert review.preview(world.svc, world.store, mina, card.evidence_id)
    with pytest.raises(CaseWithdrawnError) as refused:
        review.decide(world.svc, mina, card.id, Decision.CONFIRM)
    assert not isinstance(refused.value, EvidenceErasedError)
    assert report_case_id(world.svc, world.code_a) == world.case_a
    report, records = build_report(
        world.svc, world.store, world.case_a, language=Language.KO, center="c", worker="w"
    )
    assert report.proof.verified and records
    (listed,) = review.list_cases(world.svc, mina)
    assert listed.withdrawn and not listed.evidence_erased
    with world.svc.db.read() as session:
        case = session.get(Case, world.case_a)
        assert case is not None and case.center_evidence is CenterEvidence.KEEP


def test_files_sealed_before_case_keys_still_open(world: World) -> None:
    """Evidence written with the master key (before this release) reads as before."""
    row = _records(world, world.case_b)[0]
    plain = world.store.open_warc(row)
    sealed = world.store.files.write(row.case_id, row.warc_record_id, row.sha256, plain)  # master
    again = world.store.decrypt(row.case_id, row.warc_record_id, row.sha256, sealed.nonce,
                                world.store.read_file(sealed.file_name))  # fmt: skip
    assert again == plain


def test_cli_report_names_the_right_reason(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    svc = make_services(url, tmp_path)
    world = build_world(svc, tmp_path)
    cases.withdraw(svc, world.case_a, CenterEvidence.DELETE)
    svc.db.dispose()
    env = {"STOPSPREAD_DATA_DIR": str(tmp_path), "STOPSPREAD_DATABASE_URL": url}
    result = CliRunner().invoke(
        cli, ["report", world.code_a, "--author", "김하나", "--out", str(tmp_path / "o")], env=env
    )
    assert result.exit_code == 2
    assert "evidence to be deleted" in result.output
    assert "nothing to scan for" not in result.output
    assert not (tmp_path / "o").exists()
