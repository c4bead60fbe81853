"""Takedown use cases: draft a notice for a confirmed sighting, send it, record its status.

Only a *confirmed* sighting gets a notice (a match starts a human review, never a notice by
itself). The host comes from the registry: the shipped file, the center's file, then the
center's own edits (``host_edits``). Every change of status is a ``takedown_events`` row and
an audit event (ids and statuses only). Follow-up checks and re-upload links are in
:mod:`stopspread.services.removal.rechecks`.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from stopspread.errors import (
    HostRegistryError,
    InvalidRequestError,
    NotFoundError,
    NoticeError,
    SignerMissingError,
    TransitionError,
)
from stopspread.languages import Language
from stopspread.services import audit
from stopspread.services.context import Services
from stopspread.services.workers.accounts import WorkerIdentity, require_case
from stopspread.storage.models import Case, ChainHead
from stopspread.storage.models_scan import ReviewState, Sighting
from stopspread.storage.models_takedown import Channel, HostEdit, TakedownEvent, TakedownRequest
from stopspread.storage.models_worker import Center, EvidenceRecord, Worker
from stopspread.takedown.consent import ConsentBasis
from stopspread.takedown.hosts import (
    HostEntry,
    HostRegistry,
    KnownHost,
    parse_registry,
    registry_from_settings,
)
from stopspread.takedown.mail import SmtpConfig, send_message
from stopspread.takedown.notices import (
    Notice,
    NoticeItem,
    NoticeRequest,
    Sender,
    WebFormExport,
    new_reference,
    notice_email,
    render_notice,
    stored_notice,
    web_form_export,
)
from stopspread.takedown.requests import (
    TRANSITIONS,
    DeadlinePolicy,
    RequestState,
    RequestStatus,
    advance,
)

__all__ = [
    "RequestStatus",  # a request's statuses (the status form's choices)
    "answer_statuses",
    "apply_status",
    "center_name",
    "draft_request",
    "export_request",
    "host_edits",
    "host_from_form",
    "host_registry",
    "next_statuses",
    "record_status",
    "save_host",
    "save_host_form",
    "send_request",
    "sender_for",
    "set_status",
]


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def host_registry(svc: Services, center_id: int) -> HostRegistry:
    """Shipped placeholders, the center's file (``hosts_file``), then her center's edits."""
    with svc.db.read() as session:
        rows = session.scalars(select(HostEdit).where(HostEdit.center_id == center_id)).all()
    edits = [
        HostEntry(
            domain=row.domain,
            language=Language(row.language),
            jurisdiction=row.jurisdiction,
            abuse_email=row.abuse_email,
            form_url=row.form_url,
            notes=row.notes,
            source="database",
        )
        for row in rows
    ]
    return registry_from_settings(svc.settings, edits)


def host_edits(svc: Services, who: WorkerIdentity) -> list[HostEntry]:
    """Her center's own host entries, by domain."""
    registry = host_registry(svc, who.center_id)
    return sorted(
        (e for e in registry.entries.values() if e.source == "database"), key=lambda e: e.domain
    )


def save_host(svc: Services, who: WorkerIdentity, entry: HostEntry) -> None:
    """Add or replace her center's entry for ``entry.domain`` (validated by the caller)."""
    with svc.db.write() as (session, head):
        row = session.scalars(
            select(HostEdit).where(
                HostEdit.center_id == who.center_id, HostEdit.domain == entry.domain
            )
        ).first()
        if row is None:
            row = HostEdit(center_id=who.center_id, domain=entry.domain)
            session.add(row)
        row.abuse_email, row.form_url = entry.abuse_email, entry.form_url
        row.language, row.jurisdiction = entry.language.value, entry.jurisdiction
        row.notes, row.updated_by = entry.notes, who.username[:100]
        row.updated_at = datetime.now(UTC)
        payload = {"center": who.center_id, "domain": entry.domain, "by": who.username[:100]}
        audit.append(session, head, audit.AuditKind.HOST_EDITED, payload)


def host_from_form(domain: str, fields: Mapping[str, str]) -> HostEntry:
    """A host entry from the dashboard's form, checked by the registry's own parser.

    The fields go through a registry file's TOML form, so the form accepts exactly what a
    ``hosts_file`` accepts; :class:`HostRegistryError` says what is wrong.
    """
    lines = [f"{k} = {_toml_string(v)}" for k, v in fields.items() if v.strip()]
    text = f"version = 1\n[hosts.{_toml_string(domain.strip())}]\n" + "\n".join(lines) + "\n"
    entries = parse_registry(text, "form").entries
    if not entries:
        raise HostRegistryError("no host entry", "form")
    return next(iter(entries.values()))


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def save_host_form(
    svc: Services, who: WorkerIdentity, domain: str, fields: Mapping[str, str]
) -> HostEntry:
    """Check the form's entry (:func:`host_from_form`) and save it for her center."""
    entry = host_from_form(domain, fields)
    save_host(svc, who, entry)
    return entry


def next_statuses(status: RequestStatus) -> list[str]:
    """The statuses a request in ``status`` may move to, by value."""
    return sorted(s.value for s in TRANSITIONS[status])


def answer_statuses(status: RequestStatus, channel: Channel | str) -> list[str]:
    """What a worker may record by hand for a request in ``status``: the moves of
    :func:`next_statuses`, less *sent* for an e-mail request (only sending makes it sent; a
    web-form request is sent when she has pasted it into the host's form)."""
    allowed = next_statuses(status)
    if Channel(channel) is Channel.EMAIL:
        allowed = [s for s in allowed if s != RequestStatus.SENT.value]
    return allowed


def center_name(svc: Services, center_id: int) -> str:
    with svc.db.read() as session:
        center = session.get(Center, center_id)
        if center is None:
            raise NotFoundError("no such center")
        return center.name


def sender_for(svc: Services, who: WorkerIdentity) -> Sender:
    """Her center and she sign the notice, with her name, role and contact from her profile
    (never her login name); replies go to ``smtp_from``."""
    if not svc.settings.smtp_from:
        raise NoticeError("set STOPSPREAD_SMTP_FROM: the reply address every notice carries")
    name = center_name(svc, who.center_id)
    with svc.db.read() as session:
        worker = session.get(Worker, who.worker_id)
        if worker is None:
            raise NotFoundError("no such worker")
        if not worker.display_name.strip():
            raise SignerMissingError("enter your name in your profile: it signs every notice")
        return Sender(
            organisation=name,
            email=svc.settings.smtp_from,
            person=worker.display_name,
            role=worker.role_title,
            phone=worker.contact_phone,
            contact_email=worker.contact_email,
        )


def case_consent(session: Session, case_id: int) -> ConsentBasis:
    """The consent basis her worker recorded for the case (unknown until one is chosen)."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFoundError("no such case")
    return case.consent_basis


@dataclass(frozen=True, slots=True)
class _Facts:
    sighting_id: int
    case_id: int
    url: str
    page_url: str
    captured_at: datetime
    sha256: str
    consent: ConsentBasis


def _facts(session: Session, who: WorkerIdentity, sighting_id: int) -> _Facts:
    sighting = session.get(Sighting, sighting_id)
    if sighting is None:
        raise NotFoundError("no such sighting")
    require_case(session, who, sighting.case_id)
    if sighting.review_status is not ReviewState.CONFIRMED:
        raise InvalidRequestError("only a confirmed sighting gets a takedown notice")
    media = session.get(EvidenceRecord, sighting.media_evidence_id)
    if media is None:
        raise NotFoundError("the sighting's evidence is missing")
    return _Facts(
        sighting_id=sighting.id,
        case_id=sighting.case_id,
        url=sighting.media_url,
        page_url=sighting.page_url or sighting.media_url,
        captured_at=datetime.fromisoformat(media.captured_at),
        sha256=media.payload_sha256,
        consent=case_consent(session, sighting.case_id),
    )


def _host_for(svc: Services, who: WorkerIdentity, url: str) -> HostEntry:
    found = host_registry(svc, who.center_id).lookup(url)
    if not isinstance(found, KnownHost):
        raise NoticeError(f"unknown host: add {found.registrable} to the host registry")
    return found.entry


def _notice(
    svc: Services,
    who: WorkerIdentity,
    facts: _Facts,
    host: HostEntry,
    reference: str,
    language: Language | None,
    at: datetime,
) -> Notice:
    """The notice as of ``at``: its answer-by time is ``at`` plus the host's deadline."""
    policy = DeadlinePolicy.from_settings(svc.settings)
    return render_notice(
        NoticeRequest(
            reference=reference,
            host=host,
            items=(NoticeItem(facts.url, facts.page_url, facts.captured_at, facts.sha256),),
            sender=sender_for(svc, who),
            created_at=at,
            answer_by=policy.deadline(at, host.jurisdiction),
            language=language,
            consent=facts.consent,
        )
    )


def draft_request(
    svc: Services,
    who: WorkerIdentity,
    sighting_id: int,
    *,
    language: Language | None = None,
    previous_request_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """A draft request with its notice rendered; raises :class:`NoticeError` for an unknown host."""
    at = _now(now)
    with svc.db.read() as session:
        facts = _facts(session, who, sighting_id)
    host = _host_for(svc, who, facts.url)
    notice = _notice(svc, who, facts, host, new_reference(at), language, at)
    row = TakedownRequest(
        reference=notice.reference,
        case_id=facts.case_id,
        center_id=who.center_id,
        sighting_id=facts.sighting_id,
        previous_request_id=previous_request_id,
        url=facts.url,
        page_url=facts.page_url,
        sha256=facts.sha256,
        domain=host.domain,
        channel=Channel.EMAIL if host.abuse_email else Channel.WEB_FORM,
        recipient=host.abuse_email or host.form_url or "",
        language=notice.language.value,
        jurisdiction=host.jurisdiction,
        status=RequestStatus.DRAFT,
        subject=notice.subject,
        notice_text=notice.text,
        created_by=who.username[:100],
        created_at=at,
    )
    with svc.db.write() as (session, head):
        session.add(row)
        session.flush()
        _event(session, head, row, RequestStatus.DRAFT, who.username, "", at)
        return row.id


def _refreshed(svc: Services, who: WorkerIdentity, request_id: int, at: datetime) -> Notice:
    """Render the notice again as of sending (its answer-by time counts from now), store it."""
    with svc.db.read() as session:
        row = _request(session, who, request_id)
        facts = _facts(session, who, row.sighting_id)
        reference, domain, language = row.reference, row.domain, Language(row.language)
    host = host_registry(svc, who.center_id).get(domain) or _host_for(svc, who, facts.url)
    notice = _notice(svc, who, facts, host, reference, language, at)
    with svc.db.write() as (session, _head):
        row = _request(session, who, request_id)
        row.subject, row.notice_text = notice.subject, notice.text
    return notice


def _event(
    session: Session,
    head: ChainHead,
    row: TakedownRequest,
    status: RequestStatus,
    actor: str,
    note: str,
    at: datetime,
) -> None:
    session.add(
        TakedownEvent(request_id=row.id, status=status, at=at, actor=actor[:100], note=note[:500])
    )
    kind = (
        audit.AuditKind.TAKEDOWN_DRAFTED
        if status is RequestStatus.DRAFT
        else audit.AuditKind.TAKEDOWN_STATUS
    )
    payload = {"request": row.id, "case": row.case_id, "status": status.value, "by": actor[:100]}
    audit.append(session, head, kind, payload)


def _request(session: Session, who: WorkerIdentity | None, request_id: int) -> TakedownRequest:
    row = session.get(TakedownRequest, request_id)
    if row is None or (who is not None and row.center_id != who.center_id):
        raise NotFoundError("no such takedown request")
    return row


def _state(row: TakedownRequest) -> RequestState:
    return RequestState(
        status=row.status,
        jurisdiction=row.jurisdiction,
        sent_at=row.sent_at,
        deadline=row.deadline,
        removed_at=row.removed_at,
    )


def set_status(
    svc: Services,
    who: WorkerIdentity | None,
    request_id: int,
    status: RequestStatus,
    *,
    actor: str,
    note: str = "",
    now: datetime | None = None,
    message_id: str | None = None,
) -> RequestState:
    """Move a request (raises :class:`TransitionError` for a move the machine refuses)."""
    at = _now(now)
    policy = DeadlinePolicy.from_settings(svc.settings)
    with svc.db.write() as (session, head):
        return apply_status(
            session, head, who, request_id, status, policy,
            actor=actor, note=note, at=at, message_id=message_id,
        )  # fmt: skip


def apply_status(
    session: Session,
    head: ChainHead,
    who: WorkerIdentity | None,
    request_id: int,
    status: RequestStatus,
    policy: DeadlinePolicy,
    *,
    actor: str,
    note: str,
    at: datetime,
    message_id: str | None = None,
) -> RequestState:
    """:func:`set_status` inside the caller's write transaction (one notice's requests move
    together)."""
    row = _request(session, who, request_id)
    state = advance(_state(row), status, at, policy)
    row.status, row.sent_at, row.deadline = state.status, state.sent_at, state.deadline
    row.removed_at = state.removed_at
    if status is RequestStatus.SENT and row.first_sent_at is None:
        row.first_sent_at = at
    if message_id is not None:
        row.message_id = message_id[:300]
    _event(session, head, row, status, actor, note, at)
    return state


def record_status(
    svc: Services,
    who: WorkerIdentity,
    request_id: int,
    status: RequestStatus,
    note: str = "",
    now: datetime | None = None,
) -> RequestState:
    """A worker records the host's answer (acknowledged, removed, refused, no answer); *sent*
    only for a web-form request (an e-mail request is sent by sending it)."""
    with svc.db.read() as session:
        channel = _request(session, who, request_id).channel
    if status is RequestStatus.SENT and channel is Channel.EMAIL:
        raise TransitionError("an e-mail request becomes sent only by sending it")
    return set_status(svc, who, request_id, status, actor=who.username, note=note, now=now)


def send_request(
    svc: Services,
    who: WorkerIdentity,
    request_id: int,
    *,
    smtp: SmtpConfig | None = None,
    tls_context: ssl.SSLContext | None = None,
    now: datetime | None = None,
) -> str:
    """E-mail the notice (rendered again as of now); returns the Message-ID. It becomes *sent*.

    As for a notice per host (:func:`stopspread.services.removal.notices.send_notice`), the
    Message-ID is recorded before the e-mail leaves. A draft that holds one is *sending*: its
    last send was interrupted and the host may have it, so it goes again as it was stored, with
    the same Message-ID, never rendered again."""
    at = _now(now)
    with svc.db.read() as session:
        row = _request(session, who, request_id)
        if row.channel is not Channel.EMAIL:
            raise InvalidRequestError("this host takes notices by web form: export it")
        if row.notice_id is not None:
            raise InvalidRequestError("this item is sent with its host's notice: send that")
        recipient, interrupted = row.recipient, row.message_id is not None
        advance(_state(row), RequestStatus.SENT, at, DeadlinePolicy.from_settings(svc.settings))
    config = smtp or SmtpConfig.from_settings(svc.settings)
    if not interrupted:
        _refreshed(svc, who, request_id, at)
    with svc.db.read() as session:
        notice = _stored_notice(_request(session, who, request_id))
    message = notice_email(notice, recipient, sender_for(svc, who), at)
    message_id = _intend(svc, who, request_id, str(message["Message-ID"]))
    message.replace_header("Message-ID", message_id)
    send_message(message, config, tls_context=tls_context)
    set_status(
        svc, who, request_id, RequestStatus.SENT, actor=who.username,
        note=f"e-mail to {recipient}", now=at, message_id=message_id,
    )  # fmt: skip
    return message_id


def _intend(svc: Services, who: WorkerIdentity, request_id: int, message_id: str) -> str:
    """Record durably, before the e-mail leaves, the Message-ID this send uses (a draft keeps
    the one an interrupted send recorded). Returns the one to use."""
    with svc.db.write() as (session, _head):
        row = _request(session, who, request_id)
        if row.status is not RequestStatus.DRAFT:
            raise TransitionError("this request has already been sent")
        if row.message_id is None:
            row.message_id = message_id[:300]
        return row.message_id


def _stored_notice(row: TakedownRequest) -> Notice:
    urls = [row.url] if row.page_url in (None, row.url) else [row.url, row.page_url or ""]
    return stored_notice(
        reference=row.reference,
        language=Language(row.language),
        domain=row.domain,
        subject=row.subject,
        text=row.notice_text,
        urls=urls,
        sha256s=[row.sha256],
    )


def export_request(svc: Services, who: WorkerIdentity, request_id: int) -> WebFormExport:
    """The notice's fields for the host's web form (any channel); a request that is not hers
    is :class:`NotFoundError` before anything else is looked at."""
    with svc.db.read() as session:
        notice = _stored_notice(_request(session, who, request_id))
    return web_form_export(notice, sender_for(svc, who))
