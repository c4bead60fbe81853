"""What a center's admin may do: manage the workers of her own center, assign cases to it.

Every call checks that the caller is an admin and that the worker belongs to her center;
anything else is "not found" (a worker of another center does not exist for her). Each
change is an audit event naming the admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from stopspread.errors import ForbiddenError, InvalidRequestError, NotFoundError
from stopspread.services import cases
from stopspread.services.context import Services
from stopspread.services.workers import accounts
from stopspread.services.workers.accounts import WorkerIdentity
from stopspread.storage.models_worker import Center, Worker, WorkerRole

__all__ = [
    "WorkerRole",  # the roles an admin gives (the form's choices)
    "WorkerRow",
    "assign_case",
    "create_worker",
    "disable_worker",
    "list_workers",
    "reset_password",
]


@dataclass(frozen=True, slots=True)
class WorkerRow:
    id: int
    username: str
    role: WorkerRole
    active: bool
    locked: bool
    last_login_at: datetime | None


def _require_admin(who: WorkerIdentity) -> None:
    if who.role is not WorkerRole.ADMIN:
        raise NotFoundError("no such page")


def _center_name(svc: Services, who: WorkerIdentity) -> str:
    with svc.db.read() as session:
        center = session.get(Center, who.center_id)
        if center is None:
            raise NotFoundError("no such center")
        return center.name


def _own_worker(svc: Services, who: WorkerIdentity, worker_id: int) -> str:
    _require_admin(who)
    with svc.db.read() as session:
        worker = session.get(Worker, worker_id)
        if worker is None or worker.center_id != who.center_id:
            raise NotFoundError("no such worker")
        return worker.username


def list_workers(svc: Services, who: WorkerIdentity) -> list[WorkerRow]:
    _require_admin(who)
    now = datetime.now(UTC)
    with svc.db.read() as session:
        rows = session.scalars(
            select(Worker).where(Worker.center_id == who.center_id).order_by(Worker.username)
        ).all()
    out = []
    for w in rows:
        locked_until = w.locked_until
        locked = locked_until is not None and locked_until > now
        out.append(WorkerRow(w.id, w.username, w.role, w.active, locked, w.last_login_at))
    return out


def create_worker(
    svc: Services, who: WorkerIdentity, username: str, password: str, role: WorkerRole
) -> WorkerIdentity:
    _require_admin(who)
    center = _center_name(svc, who)
    return accounts.create_worker(svc, center, username, password, role, by=who.username)


def reset_password(svc: Services, who: WorkerIdentity, worker_id: int, password: str) -> None:
    username = _own_worker(svc, who, worker_id)
    accounts.set_password(svc, username, password, by=who.username)


def disable_worker(svc: Services, who: WorkerIdentity, worker_id: int) -> None:
    if worker_id == who.worker_id:
        raise InvalidRequestError("you cannot disable your own account")
    username = _own_worker(svc, who, worker_id)
    accounts.disable_worker(svc, username, by=who.username)


def assign_case(svc: Services, who: WorkerIdentity, code: str, secret: str, address: str) -> None:
    """The survivor gave this center her case code *and* secret: let the center see the case.

    The code alone grants nothing (it is printed, shared, guessable from a screenshot):
    the secret is checked exactly as for her own requests (same limits, same refusals:
    :class:`ForbiddenError` for a wrong secret or an unknown code alike).
    """
    _require_admin(who)
    if not secret:
        raise ForbiddenError("the case code or the secret is wrong")
    cases.authenticate(svc, code, secret, address)
    accounts.assign_case(svc, code, _center_name(svc, who), by=who.username)
