"""Worker accounts: sign-in, lockout, sessions and expiry, centers and case visibility."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from stopspread.errors import (
    AuthError,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
)
from stopspread.services import cases
from stopspread.services.audit import verify
from stopspread.services.context import Services
from stopspread.services.ratelimit import KeyedLimiter
from stopspread.services.signal_input import parse_signal
from stopspread.services.workers import accounts
from stopspread.storage.models import AuditEvent
from stopspread.storage.models_worker import WorkerRole, WorkerSession
from tests.conftest import make_services

# every database here is used through services: a migrated copy (tests/dbtemplate.py)
pytestmark = pytest.mark.usefixtures("migrated_database")

PASSWORD = "correct horse battery"


@pytest.fixture
def svc(database_url: str, tmp_path: Path) -> Iterator[Services]:
    s = make_services(database_url, tmp_path, worker_login_attempts=3, worker_lockout_s=600)
    accounts.create_center(s, "Seoul Center")
    accounts.create_center(s, "Busan Center")
    accounts.create_worker(s, "Seoul Center", "mina", PASSWORD, WorkerRole.WORKER)
    accounts.create_worker(s, "Busan Center", "jiwoo", PASSWORD, WorkerRole.ADMIN)
    yield s
    s.db.dispose()


def _kinds(svc: Services) -> list[str]:
    with svc.db.read() as session:
        return list(session.scalars(select(AuditEvent.kind).order_by(AuditEvent.seq)))


def test_login_opens_a_session_and_logout_ends_it(svc: Services) -> None:
    new = accounts.login(svc, "mina", PASSWORD, "127.0.0.1")
    info = accounts.session_info(svc, new.token)
    assert info.identity == new.identity and info.identity.role is WorkerRole.WORKER
    assert info.csrf_token == new.csrf_token and len(new.token) >= 40
    with svc.db.read() as session:
        stored = session.scalars(select(WorkerSession.token_hash)).one()
    assert stored != new.token and new.token not in stored  # only its hash is kept
    accounts.logout(svc, new.token)
    with pytest.raises(AuthError):
        accounts.session_info(svc, new.token)
    assert _kinds(svc)[-2:] == ["worker_login", "worker_logout"]
    verify(svc.db)


@pytest.mark.parametrize(("name", "password"), [("mina", "wrong password!"), ("nobody", PASSWORD)])
def test_wrong_name_or_password_is_the_same_refusal(
    svc: Services, name: str, password: str
) -> None:
    with pytest.raises(ForbiddenError, match="wrong name or password"):
        accounts.login(svc, name, password, "127.0.0.1")
    assert _kinds(svc)[-1] == "worker_login_failed"


def test_wrong_passwords_slow_the_guesser_not_the_worker(svc: Services) -> None:
    for _ in range(4):  # worker_login_attempts=3 free, the 4th starts a wait
        with pytest.raises(ForbiddenError):
            accounts.login(svc, "mina", "wrong password!", "10.0.0.1")
    with pytest.raises(RateLimitedError) as waiting:
        accounts.login(svc, "mina", PASSWORD, "10.0.0.1")  # that address waits
    assert 0 < waiting.value.retry_after <= 600
    assert accounts.login(svc, "mina", PASSWORD, "10.0.0.2").identity.username == "mina"


def test_address_limit(svc: Services) -> None:
    svc.address_limiter = KeyedLimiter(rate_per_s=0.001, burst=2)
    for _ in range(2):
        with pytest.raises(ForbiddenError):
            accounts.login(svc, "nobody", "x" * 12, "10.9.9.9")
    with pytest.raises(RateLimitedError):
        accounts.login(svc, "nobody", "x" * 12, "10.9.9.9")


def test_session_expires(svc: Services) -> None:
    new = accounts.login(svc, "mina", PASSWORD, "127.0.0.1")
    past = datetime.now(UTC) - timedelta(seconds=1)
    with svc.db.write() as (session, _head):
        session.execute(update(WorkerSession).values(expires_at=past))
    with pytest.raises(AuthError, match="ended"):
        accounts.session_info(svc, new.token)
    for token in (None, "", "made-up"):
        with pytest.raises(AuthError):
            accounts.session_info(svc, token)


def test_disabled_worker_loses_sessions_and_cannot_sign_in(svc: Services) -> None:
    new = accounts.login(svc, "mina", PASSWORD, "127.0.0.1")
    accounts.disable_worker(svc, "mina")
    with pytest.raises(AuthError):
        accounts.session_info(svc, new.token)
    with pytest.raises(ForbiddenError):
        accounts.login(svc, "mina", PASSWORD, "127.0.0.1")


def test_assigned_cases_are_visible_to_that_center_only(svc: Services) -> None:
    made = cases.create_case(svc, [parse_signal("md5", "1" * 32)])
    accounts.assign_case(svc, made.code.lower(), "Seoul Center", by="admin")
    accounts.assign_case(svc, made.code, "Seoul Center")  # twice: no second row
    mina = accounts.login(svc, "mina", PASSWORD, "127.0.0.1").identity
    jiwoo = accounts.login(svc, "jiwoo", PASSWORD, "127.0.0.1").identity
    with svc.db.read() as session:
        (case_id,) = accounts.visible_case_ids(session, mina)
        accounts.require_case(session, mina, case_id)
        assert accounts.visible_case_ids(session, jiwoo) == []
        with pytest.raises(NotFoundError):
            accounts.require_case(session, jiwoo, case_id)
    assert _kinds(svc).count("case_assigned") == 1
    with pytest.raises(NotFoundError):
        accounts.assign_case(svc, "NOPE-NOPE-NOPE", "Seoul Center")


def test_invalid_accounts_are_refused(svc: Services) -> None:
    with pytest.raises(InvalidRequestError, match="12 characters"):
        accounts.create_worker(svc, "Seoul Center", "short", "short", WorkerRole.WORKER)
    with pytest.raises(InvalidRequestError, match="exists"):
        accounts.create_worker(svc, "Seoul Center", "mina", PASSWORD, WorkerRole.WORKER)
    with pytest.raises(NotFoundError):
        accounts.create_worker(svc, "Nowhere", "new", PASSWORD, WorkerRole.WORKER)
    with pytest.raises(InvalidRequestError, match="exists"):
        accounts.create_center(svc, "Seoul Center")
