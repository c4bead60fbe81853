"""A worker's profile: the name, role and contact that sign her center's takedown notices.

The login name is an account name, never a signature: a notice is signed with
``display_name`` (required before she drafts one), ``role_title`` and her contact e-mail or
phone. Changing the profile is an audit event (ids only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from stopspread.errors import InvalidRequestError, NotFoundError
from stopspread.services import audit
from stopspread.services.context import Services
from stopspread.services.workers.accounts import WorkerIdentity
from stopspread.storage.models_worker import Worker

__all__ = ["WorkerProfile", "author_name", "profile", "save_profile"]

_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE: Final = re.compile(r"^\+?[0-9][0-9 ()-]{5,38}$")  # e.g. +82-2-000-0000, 02 000 0000


@dataclass(frozen=True, slots=True)
class WorkerProfile:
    display_name: str = ""  # her real name, as it signs a notice
    role_title: str = ""  # e.g. 삭제지원 상담원 / Removal support counsellor
    contact_email: str = ""
    contact_phone: str = ""

    def checked(self) -> WorkerProfile:
        """The profile with spaces trimmed; :class:`InvalidRequestError` names a bad field."""
        trimmed = WorkerProfile(
            self.display_name.strip(),
            self.role_title.strip(),
            self.contact_email.strip(),
            self.contact_phone.strip(),
        )
        if not trimmed.display_name or len(trimmed.display_name) > 100:
            raise InvalidRequestError("display_name: 1 to 100 characters")
        if len(trimmed.role_title) > 100:
            raise InvalidRequestError("role_title: at most 100 characters")
        if trimmed.contact_email and not _EMAIL.match(trimmed.contact_email[:254]):
            raise InvalidRequestError("contact_email: not an e-mail address")
        if trimmed.contact_phone and not _PHONE.match(trimmed.contact_phone):
            raise InvalidRequestError("contact_phone: digits, spaces, +, - and ( )")
        return trimmed


def profile(svc: Services, who: WorkerIdentity) -> WorkerProfile:
    with svc.db.read() as session:
        worker = session.get(Worker, who.worker_id)
        if worker is None:
            raise NotFoundError("no such worker")
        return WorkerProfile(
            worker.display_name, worker.role_title, worker.contact_email, worker.contact_phone
        )


def author_name(svc: Services, who: WorkerIdentity) -> str:
    """The name a report or package she prepares names: her real name from her profile, her
    sign-in name only while her profile has none."""
    return profile(svc, who).display_name or who.username


def save_profile(svc: Services, who: WorkerIdentity, new: WorkerProfile) -> WorkerProfile:
    """Check and store her own profile."""
    checked = new.checked()
    with svc.db.write() as (session, head):
        worker = session.get(Worker, who.worker_id)
        if worker is None:
            raise NotFoundError("no such worker")
        worker.display_name, worker.role_title = checked.display_name, checked.role_title
        worker.contact_email, worker.contact_phone = checked.contact_email, checked.contact_phone
        payload = {"worker": worker.id, "change": "profile", "by": who.username[:100]}
        audit.append(session, head, audit.AuditKind.WORKER_CHANGED, payload)
    return checked
