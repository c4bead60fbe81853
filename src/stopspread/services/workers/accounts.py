"""Support workers: centers, accounts, case assignments, password sign-in and sessions.

- Passwords are stored as argon2id hashes. Unknown names are checked against a dummy hash,
  so a miss takes as long as a wrong password.
- ``worker_login_attempts`` wrong passwords in a row lock the account for
  ``worker_lockout_s`` (kept in the database, so across processes); each client address is
  also held to the per-process ``address_attempts_per_minute`` bucket.
- A session is a random 256-bit token in an HttpOnly cookie; the database keeps only its
  SHA-256, an absolute expiry and the session's CSRF token. Signing out deletes the row.
- A worker sees only the cases assigned to her center; everything else is "not found".

Every sign-in (and failed one), sign-out, account change and assignment is an audit event.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stopspread.errors import (
    AuthError,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    ServiceError,
)
from stopspread.services import audit
from stopspread.services.context import Services
from stopspread.services.keys import normalise_case_code
from stopspread.storage.models import Case, ChainHead
from stopspread.storage.models_worker import (
    CaseAssignment,
    Center,
    Worker,
    WorkerRole,
    WorkerSession,
)

__all__ = [
    "MIN_PASSWORD_CHARS",
    "NewSession",
    "SessionInfo",
    "WorkerIdentity",
    "WorkerRole",
    "assign_case",
    "case_center_name",
    "create_center",
    "create_worker",
    "disable_worker",
    "find_center",
    "find_worker",
    "login",
    "logout",
    "require_case",
    "session_info",
    "set_password",
    "visible_case_ids",
]

MIN_PASSWORD_CHARS: Final = 12
TOKEN_BYTES: Final = 32


@dataclass(frozen=True, slots=True)
class WorkerIdentity:
    worker_id: int
    center_id: int
    role: WorkerRole
    username: str = ""


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str  # for the cookie only; the database keeps its SHA-256
    csrf_token: str
    expires_at: datetime
    identity: WorkerIdentity


@dataclass(frozen=True, slots=True)
class SessionInfo:
    identity: WorkerIdentity
    csrf_token: str
    expires_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _center(session: Session, name: str) -> Center:
    center = session.scalars(select(Center).where(Center.name == name)).one_or_none()
    if center is None:
        raise NotFoundError(f"no center named {name!r}")
    return center


def _worker(session: Session, username: str) -> Worker:
    worker = session.scalars(select(Worker).where(Worker.username == username)).one_or_none()
    if worker is None:
        raise NotFoundError(f"no worker named {username!r}")
    return worker


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidRequestError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")


def find_center(svc: Services, name: str) -> int:
    """The center's id; :class:`NotFoundError` if there is none of that name."""
    with svc.db.read() as session:
        return _center(session, name).id


def find_worker(svc: Services, username: str) -> int:
    """The worker's id; :class:`NotFoundError` if there is none of that name."""
    with svc.db.read() as session:
        return _worker(session, username).id


def create_center(svc: Services, name: str) -> int:
    name = name.strip()
    if not 0 < len(name) <= 100:
        raise InvalidRequestError("a center name has 1 to 100 characters")
    try:
        with svc.db.write() as (session, head):
            center = Center(name=name)
            session.add(center)
            session.flush()
            audit.append(session, head, audit.AuditKind.CENTER_CREATED, {"center": center.id})
            return center.id
    except IntegrityError as exc:
        raise InvalidRequestError(f"a center named {name!r} exists already") from exc


def create_worker(
    svc: Services, center: str, username: str, password: str, role: WorkerRole, by: str = "cli"
) -> WorkerIdentity:
    """A new account; ``by`` is who made it (an admin's username, or ``cli``)."""
    username = username.strip()
    if not 0 < len(username) <= 100:
        raise InvalidRequestError("a worker name has 1 to 100 characters")
    _check_password(password)
    hashed = svc.hasher.hash(password)
    try:
        with svc.db.write() as (session, head):
            worker = Worker(
                center_id=_center(session, center).id,
                username=username,
                role=role,
                password_hash=hashed,
                active=True,
                failed_logins=0,
            )
            session.add(worker)
            session.flush()
            payload = {"worker": worker.id, "center": worker.center_id, "role": role.value}
            audit.append(session, head, audit.AuditKind.WORKER_CREATED, {**payload, "by": by})
            return WorkerIdentity(worker.id, worker.center_id, role, username)
    except IntegrityError as exc:
        raise InvalidRequestError(f"a worker named {username!r} exists already") from exc


def set_password(svc: Services, username: str, password: str, by: str = "cli") -> None:
    """A new password; unlocks the account and ends its sessions."""
    _check_password(password)
    hashed = svc.hasher.hash(password)
    with svc.db.write() as (session, head):
        worker = _worker(session, username)
        worker.password_hash, worker.failed_logins, worker.locked_until = hashed, 0, None
        session.execute(delete(WorkerSession).where(WorkerSession.worker_id == worker.id))
        payload = {"worker": worker.id, "change": "password", "by": by}
        audit.append(session, head, audit.AuditKind.WORKER_CHANGED, payload)


def disable_worker(svc: Services, username: str, by: str = "cli") -> None:
    """The account can no longer sign in; its sessions end now."""
    with svc.db.write() as (session, head):
        worker = _worker(session, username)
        worker.active = False
        session.execute(delete(WorkerSession).where(WorkerSession.worker_id == worker.id))
        payload = {"worker": worker.id, "change": "disabled", "by": by}
        audit.append(session, head, audit.AuditKind.WORKER_CHANGED, payload)


def assign_case(svc: Services, code: str, center: str, by: str = "cli") -> None:
    """Let a center see a case (the survivor gave it her case code)."""
    with svc.db.write() as (session, head):
        case = session.scalars(
            select(Case).where(Case.code == normalise_case_code(code))
        ).one_or_none()
        if case is None:
            raise NotFoundError("no case with this code")
        center_id = _center(session, center).id
        exists = session.scalars(
            select(CaseAssignment.id).where(
                CaseAssignment.case_id == case.id, CaseAssignment.center_id == center_id
            )
        ).first()
        if exists is not None:
            return
        session.add(CaseAssignment(case_id=case.id, center_id=center_id, assigned_by=by[:100]))
        payload = {"case": case.id, "center": center_id, "by": by[:100]}
        audit.append(session, head, audit.AuditKind.CASE_ASSIGNED, payload)


def case_center_name(svc: Services, case_id: int) -> str | None:
    """The name of the first center the case was assigned to (None: not assigned)."""
    query = (
        select(Center.name)
        .join(CaseAssignment, CaseAssignment.center_id == Center.id)
        .where(CaseAssignment.case_id == case_id)
        .order_by(CaseAssignment.id)
    )
    with svc.db.read() as session:
        return session.scalars(query).first()


def visible_case_ids(session: Session, identity: WorkerIdentity) -> list[int]:
    rows = session.scalars(
        select(CaseAssignment.case_id)
        .where(CaseAssignment.center_id == identity.center_id)
        .order_by(CaseAssignment.case_id)
    )
    return list(rows)


def require_case(session: Session, identity: WorkerIdentity, case_id: int) -> None:
    """Raises :class:`NotFoundError` unless the case is assigned to her center."""
    found = session.scalars(
        select(CaseAssignment.id).where(
            CaseAssignment.case_id == case_id, CaseAssignment.center_id == identity.center_id
        )
    ).first()
    if found is None:
        raise NotFoundError("no such case")


def login(svc: Services, username: str, password: str, address: str) -> NewSession:
    """Check the password and open a session; a wrong name or password: the same refusal.

    Wrong passwords slow that name down from that address (and, much later, from addresses
    she never signed in from): growing waits, never a lock that keeps her out
    (:mod:`stopspread.services.workers.signin_throttle`). Unknown names count alike.
    """
    wait = svc.address_limiter.take(("worker-login", address))
    if wait > 0:
        raise RateLimitedError("too many sign-in attempts from this address", wait)
    wait = svc.signin.wait(username, address)
    if wait > 0:
        raise RateLimitedError("too many wrong passwords: wait a moment", wait)
    with svc.db.read() as session:
        worker = session.scalars(select(Worker).where(Worker.username == username)).one_or_none()
        stored = worker.password_hash if worker is not None and worker.active else None
    ok = svc.hasher.verify(stored, password)  # outside any transaction: it is slow on purpose
    with svc.db.write() as (session, head):
        outcome = _decide(svc, session, head, worker.id if worker else None, stored, ok)
    if isinstance(outcome, NewSession):
        svc.signin.succeeded(username, address)
        return outcome
    svc.signin.failed(username, address)
    raise outcome  # after the commit: failed attempts are stored


def _decide(
    svc: Services,
    session: Session,
    head: ChainHead,
    worker_id: int | None,
    stored: str | None,
    ok: bool,
) -> NewSession | ServiceError:
    current = session.get(Worker, worker_id) if worker_id is not None else None
    if current is None or not current.active:
        audit.append(session, head, audit.AuditKind.WORKER_LOGIN_FAILED, {"worker": None})
        return ForbiddenError("wrong name or password")
    now = _now()
    if not ok or current.password_hash != stored:
        current.failed_logins += 1  # shown to her admin; it locks nothing
        payload = {"worker": current.id, "locked": False}
        audit.append(session, head, audit.AuditKind.WORKER_LOGIN_FAILED, payload)
        return ForbiddenError("wrong name or password")
    return _open_session(svc, session, head, current, now)


def _open_session(
    svc: Services, session: Session, head: ChainHead, worker: Worker, now: datetime
) -> NewSession:
    worker.failed_logins, worker.locked_until, worker.last_login_at = 0, None, now
    session.execute(delete(WorkerSession).where(WorkerSession.expires_at < now))
    token, csrf = secrets.token_urlsafe(TOKEN_BYTES), secrets.token_urlsafe(TOKEN_BYTES)
    expires = now + timedelta(seconds=svc.settings.worker_session_ttl_s)
    session.add(
        WorkerSession(
            worker_id=worker.id,
            token_hash=token_hash(token),
            csrf_token=csrf,
            created_at=now,
            expires_at=expires,
        )
    )
    audit.append(session, head, audit.AuditKind.WORKER_LOGIN, {"worker": worker.id})
    identity = WorkerIdentity(worker.id, worker.center_id, worker.role, worker.username)
    return NewSession(token, csrf, expires, identity)


def session_info(svc: Services, token: str | None) -> SessionInfo:
    """The signed-in worker for a session cookie; :class:`AuthError` if none or expired."""
    if not token:
        raise AuthError("not signed in")
    with svc.db.read() as session:
        row = session.execute(
            select(WorkerSession, Worker)
            .join(Worker, Worker.id == WorkerSession.worker_id)
            .where(WorkerSession.token_hash == token_hash(token))
        ).one_or_none()
    if row is None:
        raise AuthError("not signed in")
    sess, worker = row
    expires = sess.expires_at
    if expires <= _now() or not worker.active:
        raise AuthError("the session has ended")
    identity = WorkerIdentity(worker.id, worker.center_id, worker.role, worker.username)
    return SessionInfo(identity, sess.csrf_token, expires)


def logout(svc: Services, token: str | None) -> None:
    if not token:
        return
    with svc.db.write() as (session, head):
        sess = session.scalars(
            select(WorkerSession).where(WorkerSession.token_hash == token_hash(token))
        ).one_or_none()
        if sess is None:
            return
        session.delete(sess)
        audit.append(session, head, audit.AuditKind.WORKER_LOGOUT, {"worker": sess.worker_id})
