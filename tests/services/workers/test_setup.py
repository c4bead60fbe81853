"""First-run set-up: a one-time, expiring token makes the first center and its admin, once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from stopspread.errors import ForbiddenError, InvalidRequestError
from stopspread.services.context import Services
from stopspread.services.workers import accounts, setup
from stopspread.storage.models import AuditEvent, Meta
from stopspread.storage.models_worker import WorkerRole

PASSWORD = "a long enough password"


def test_the_token_works_once_and_makes_the_center_and_its_admin(services: Services) -> None:
    assert not setup.admin_exists(services)
    token = setup.issue_setup_token(services)
    assert token is not None and len(token) >= 40
    with services.db.read() as session:
        stored = session.get(Meta, setup.SETUP_TOKEN_KEY)
        assert stored is not None and token not in stored.value  # only its SHA-256 is kept
    setup.check_setup_token(services, token)
    done = setup.complete_setup(services, token, " Seoul Center ", "hana", PASSWORD)
    assert done.admin.role is WorkerRole.ADMIN and done.admin.username == "hana"
    assert accounts.find_center(services, "Seoul Center") == done.center_id
    assert setup.admin_exists(services)
    with pytest.raises(setup.AdminExistsError):
        setup.complete_setup(services, token, "Other", "x", PASSWORD)
    with pytest.raises(setup.AdminExistsError):
        setup.check_setup_token(services, token)
    assert setup.issue_setup_token(services) is None  # no new link once an admin exists
    with services.db.read() as session:
        assert session.get(Meta, setup.SETUP_TOKEN_KEY) is None
        kinds = session.scalars(select(AuditEvent.kind).order_by(AuditEvent.seq)).all()
    assert list(kinds) == ["center_created", "worker_created"]
    assert accounts.login(services, "hana", PASSWORD, "t").token


def test_wrong_expired_and_replaced_tokens_are_refused(services: Services) -> None:
    expired = setup.issue_setup_token(services, ttl_s=-1)
    assert expired is not None
    with pytest.raises(ForbiddenError, match="wrong, used or expired"):
        setup.check_setup_token(services, expired)
    first = setup.issue_setup_token(services)
    second = setup.issue_setup_token(services)  # a restarted server prints a new link
    assert first is not None and second is not None and first != second
    for wrong in (first, "", second + "x"):
        with pytest.raises(ForbiddenError):
            setup.complete_setup(services, wrong, "Seoul Center", "hana", PASSWORD)
    with pytest.raises(InvalidRequestError, match="12 characters"):
        setup.complete_setup(services, second, "Seoul Center", "hana", "short")
    with pytest.raises(InvalidRequestError):
        setup.complete_setup(services, second, "  ", "hana", PASSWORD)
    assert not setup.admin_exists(services)
    setup.complete_setup(services, second, "Seoul Center", "hana", PASSWORD)  # still valid


def test_a_taken_user_name_keeps_the_token(services: Services) -> None:
    accounts.create_center(services, "Seoul Center")
    accounts.create_worker(services, "Seoul Center", "mina", PASSWORD, WorkerRole.WORKER)
    token = setup.issue_setup_token(services)  # a plain worker is not an admin: set-up is open
    assert token is not None
    with pytest.raises(InvalidRequestError, match="exists already"):
        setup.complete_setup(services, token, "Seoul Center", "mina", PASSWORD)
    done = setup.complete_setup(services, token, "Seoul Center", "hana", PASSWORD)
    assert done.center_id == accounts.find_center(services, "Seoul Center")  # joined, not new
