"""First-run set-up: the first center and its admin, made in the browser with a one-time link.

While no admin account exists, ``stopspread serve`` asks :func:`issue_setup_token` for a
random token and prints ``/setup?token=...`` once (like Jupyter's link). The database keeps
only the token's SHA-256 and its expiry (in ``meta``), so every server process can check it
and a restart replaces it. :func:`complete_setup` checks the token, that still no admin
exists, and makes the center and the admin in one write transaction that also deletes the
token: it works once. After that, ``/setup`` refuses: accounts are managed by the admin.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select

from stopspread.errors import ForbiddenError, InvalidRequestError, NotFoundError
from stopspread.services import audit
from stopspread.services.context import Services
from stopspread.services.workers.accounts import MIN_PASSWORD_CHARS, WorkerIdentity
from stopspread.storage.models import Meta
from stopspread.storage.models_worker import Center, Worker, WorkerRole

__all__ = [
    "SETUP_TOKEN_KEY",
    "SETUP_TTL_S",
    "AdminExistsError",
    "SetupDone",
    "admin_exists",
    "check_setup_token",
    "complete_setup",
    "issue_setup_token",
]

SETUP_TOKEN_KEY: Final = "setup_token"  # noqa: S105 (a meta key, not a secret); row: "<sha256 hex> <expiry, unix seconds>"
SETUP_TTL_S: Final = 3600  # a printed link works for one hour
TOKEN_BYTES: Final = 32


class AdminExistsError(NotFoundError):
    """Set-up is over: an admin exists (so ``/setup`` is gone for good)."""


@dataclass(frozen=True, slots=True)
class SetupDone:
    center_id: int
    admin: WorkerIdentity


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def admin_exists(svc: Services) -> bool:
    """Whether any admin account (active or not) exists."""
    with svc.db.read() as session:
        query = select(Worker.id).where(Worker.role == WorkerRole.ADMIN).limit(1)
        return session.scalars(query).first() is not None


def issue_setup_token(svc: Services, ttl_s: float = SETUP_TTL_S) -> str | None:
    """A new one-time token (replacing any earlier one), or None when an admin exists."""
    if admin_exists(svc):
        return None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    value = f"{_digest(token)} {int(time.time() + ttl_s)}"
    with svc.db.write() as (session, _head):
        row = session.get(Meta, SETUP_TOKEN_KEY)
        if row is None:
            session.add(Meta(key=SETUP_TOKEN_KEY, value=value))
        else:
            row.value = value
    return token


def _valid(stored: Meta | None, token: str) -> bool:
    if stored is None or not token:
        return False
    digest, _, expiry = stored.value.partition(" ")
    fresh = expiry.isdigit() and int(expiry) > time.time()
    return fresh and hmac.compare_digest(digest, _digest(token))


def check_setup_token(svc: Services, token: str) -> None:
    """:class:`AdminExistsError` when set-up is over; :class:`ForbiddenError` when the token
    is wrong, used or expired."""
    if admin_exists(svc):
        raise AdminExistsError("set-up is done: an admin account exists")
    with svc.db.read() as session:
        if not _valid(session.get(Meta, SETUP_TOKEN_KEY), token):
            raise ForbiddenError("this set-up link is wrong, used or expired")


def complete_setup(
    svc: Services, token: str, center_name: str, username: str, password: str
) -> SetupDone:
    """The first center and its admin, once; the token is used up in the same transaction."""
    center_name, username = center_name.strip(), username.strip()
    if not 0 < len(center_name) <= 100 or not 0 < len(username) <= 100:
        raise InvalidRequestError("a center name and a user name have 1 to 100 characters")
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidRequestError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    check_setup_token(svc, token)  # before the slow password hash
    hashed = svc.hasher.hash(password)
    with svc.db.write() as (session, head):
        admin = session.scalars(select(Worker.id).where(Worker.role == WorkerRole.ADMIN))
        if admin.first() is not None:
            raise AdminExistsError("set-up is done: an admin account exists")
        stored = session.get(Meta, SETUP_TOKEN_KEY)
        if stored is None or not _valid(stored, token):
            raise ForbiddenError("this set-up link is wrong, used or expired")
        session.delete(stored)
        center = session.scalars(select(Center).where(Center.name == center_name)).first()
        if center is None:
            center = Center(name=center_name)
            session.add(center)
            session.flush()
            audit.append(session, head, audit.AuditKind.CENTER_CREATED, {"center": center.id})
        taken = session.scalars(select(Worker.id).where(Worker.username == username)).first()
        if taken is not None:
            raise InvalidRequestError(f"a worker named {username!r} exists already")
        worker = Worker(
            center_id=center.id,
            username=username,
            role=WorkerRole.ADMIN,
            password_hash=hashed,
            active=True,
            failed_logins=0,
        )
        session.add(worker)
        session.flush()
        payload = {"worker": worker.id, "center": center.id, "role": "admin", "by": "setup"}
        audit.append(session, head, audit.AuditKind.WORKER_CREATED, payload)
        return SetupDone(
            center.id, WorkerIdentity(worker.id, center.id, WorkerRole.ADMIN, username)
        )
