"""Survivor use cases on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from stopspread.errors import ForbiddenError, InvalidRequestError, RateLimitedError
from stopspread.services import cases
from stopspread.services.context import Services
from stopspread.services.signal_input import parse_signal
from stopspread.storage.models import Case, Signal
from tests.conftest import flip_bits, make_services, random_pdq


def test_case_lifecycle(services: Services) -> None:
    rng = np.random.default_rng(1)
    value = random_pdq(rng)
    new = cases.create_case(services, [parse_signal("pdq", value, 90)])
    assert len(new.secret) == 34  # 140 bits: 7 groups of 4, Crockford base32
    case_id = cases.authenticate(services, new.code, new.secret, "1.2.3.4")
    assert cases.add_signals(services, case_id, [parse_signal("md5", "0" * 32)]) == 1
    assert cases.case_status(services, case_id).signals == 2
    services.replica.sync()
    assert services.replica.lookup(parse_signal("pdq", flip_bits(value, 29, rng))) != []
    assert cases.withdraw(services, case_id).signals == 2
    assert services.replica.lookup(parse_signal("pdq", value)) == []
    with services.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Signal)) == 0
        case = session.get(Case, case_id)
        assert case is not None
        assert case.secret_hash is None
        assert case.signals_withdrawn == 2
    with pytest.raises(ForbiddenError):  # final: the secret no longer opens anything
        cases.authenticate(services, new.code, new.secret, "1.2.3.4")


def test_secret_is_stored_only_as_argon2(services: Services) -> None:
    new = cases.create_case(services, [parse_signal("md5", "1" * 32)])
    with services.db.read() as session:
        stored = session.scalar(select(Case.secret_hash))
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert new.secret not in stored


def test_wrong_secret_and_unknown_code_are_refused_alike(services: Services) -> None:
    new = cases.create_case(services, [parse_signal("md5", "1" * 32)])
    with pytest.raises(ForbiddenError) as wrong:
        cases.authenticate(services, new.code, "x" * 32, "a")
    with pytest.raises(ForbiddenError) as unknown:
        cases.authenticate(services, "AAAA-AAAA-AAAA", new.secret, "b")
    assert str(wrong.value) == str(unknown.value)


def test_secret_guessing_is_limited_per_code(database_url: str, tmp_path: Path) -> None:
    """5 wrong answers a minute per code, whatever the address; the right secret still works."""
    svc = make_services(
        database_url, tmp_path, case_attempts_per_minute=5.0, address_attempts_per_minute=1000.0
    )
    new = cases.create_case(svc, [parse_signal("md5", "1" * 32)])
    for i in range(5):
        with pytest.raises(ForbiddenError):
            cases.authenticate(svc, new.code, f"guess{i}", f"10.0.0.{i}")
    with pytest.raises(RateLimitedError) as limited:
        cases.authenticate(svc, new.code, "guess6", "10.0.1.1")
    assert 0 < limited.value.retry_after <= 12.0
    assert cases.authenticate(svc, new.code, new.secret, "10.0.1.1") > 0  # never locked out
    svc.db.dispose()


def test_secret_guessing_is_limited_per_address(sqlite_url: str, tmp_path: Path) -> None:
    svc = make_services(sqlite_url, tmp_path, address_attempts_per_minute=3.0)
    codes = [cases.create_case(svc, [parse_signal("md5", "1" * 32)]).code for _ in range(4)]
    for code in codes[:3]:
        with pytest.raises(ForbiddenError):
            cases.authenticate(svc, code, "guess", "10.9.9.9")
    with pytest.raises(RateLimitedError):
        cases.authenticate(svc, codes[3], "guess", "10.9.9.9")
    svc.db.dispose()


def test_bad_signals_are_refused_without_echoing_them(services: Services) -> None:
    with pytest.raises(InvalidRequestError) as err:
        parse_signal("pdq", "zz" * 32)
    assert "zz" not in str(err.value)
    with pytest.raises(InvalidRequestError):
        parse_signal("sha1", "0" * 40)
    with pytest.raises(InvalidRequestError):
        cases.create_case(services, [])
    assert "<redacted>" in repr(parse_signal("md5", "a" * 32))


def test_withdrawn_ids_are_never_reused_and_new_signals_still_match(services: Services) -> None:
    rng = np.random.default_rng(8)
    first, second = random_pdq(rng), random_pdq(rng)
    new = cases.create_case(services, [parse_signal("pdq", first)])
    services.replica.sync()
    with services.db.read() as session:
        old_id = session.scalar(select(Signal.id))
    cases.withdraw(services, cases.authenticate(services, new.code, new.secret, "a"))
    cases.create_case(services, [parse_signal("pdq", second)])
    services.replica.sync()
    with services.db.read() as session:
        assert session.scalar(select(Signal.id)) != old_id
    assert services.replica.lookup(parse_signal("pdq", second)) != []
    assert services.replica.lookup(parse_signal("pdq", first)) == []


def test_a_stale_poll_cannot_bring_a_withdrawn_hash_back(services: Services) -> None:
    """A poll that read the rows just before a withdrawal committed must not re-add them."""
    from stopspread.storage.models import SignalType

    value = random_pdq(np.random.default_rng(10))
    new = cases.create_case(services, [parse_signal("pdq", value)])
    with services.db.read() as session:
        sid = session.scalar(select(Signal.id))
    assert sid is not None
    stale_seq = services.replica.seq + 1
    cases.withdraw(services, cases.authenticate(services, new.code, new.secret, "a"))
    services.replica._apply([sid], [(sid, SignalType.PDQ, value)], stale_seq, [])
    assert services.replica.lookup(parse_signal("pdq", value)) == []
    services.replica.sync()  # then the removal itself arrives
    assert services.replica.lookup(parse_signal("pdq", value)) == []
