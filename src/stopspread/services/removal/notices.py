"""Notices per host: one message to a host lists every confirmed item of a case there.

:func:`draft_case_notices` groups a case's confirmed sightings that have no request yet by host
(the registry's entry for their URL) and makes one *draft notice* per host, with one request
per item (statuses, follow-ups and removals stay per item). While it is a draft the worker may
edit its text (:func:`edit_notice`); :func:`prepare_notice` gives the confirmation — recipient,
items, subject and text — with a digest of exactly that, and :func:`send_notice` sends the
stored text only when the digest still matches, so what goes out is what she confirmed. The
consent sentence is the one chosen for the case (:func:`set_case_consent`).
"""

from __future__ import annotations

import enum
import hashlib
import json
import ssl
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from stopspread.errors import NotFoundError, NoticeError, NoticeRefusedError
from stopspread.languages import Language
from stopspread.services import audit
from stopspread.services.context import Services
from stopspread.services.removal.workflow import (
    _event,
    _Facts,
    _facts,
    _now,
    _state,
    apply_status,
    case_consent,
    host_registry,
    sender_for,
)
from stopspread.services.workers.accounts import WorkerIdentity, require_case
from stopspread.storage.models import Case
from stopspread.storage.models_scan import ReviewState, Sighting
from stopspread.storage.models_takedown import Channel, TakedownNotice, TakedownRequest
from stopspread.takedown.consent import ConsentBasis
from stopspread.takedown.hosts import HostEntry, KnownHost
from stopspread.takedown.mail import SmtpConfig, send_message
from stopspread.takedown.notices import (
    Notice,
    NoticeItem,
    NoticeRequest,
    WebFormExport,
    new_reference,
    notice_email,
    render_notice,
    stored_notice,
    web_form_export,
)
from stopspread.takedown.requests import DeadlinePolicy, RequestStatus, advance

__all__ = [
    "BulkDraft",
    "ConsentBasis",  # the consent form's choices
    "NoticeLine",
    "NoticeProblem",
    "NoticeView",
    "case_notices",
    "consent_of",
    "draft_case_notices",
    "edit_notice",
    "export_notice",
    "group_by_host",
    "notice_view",
    "prepare_notice",
    "record_form_sent",
    "reset_notice",
    "send_notice",
    "set_case_consent",
]

MAX_TEXT_CHARS: Final = 40_000  # an edited notice; a rendered one for 100 items is ~27 000


class NoticeProblem(enum.StrEnum):
    """Why a notice was not changed or sent (:class:`NoticeRefusedError`'s ``reason``)."""

    SUBJECT = "subject"  # not one line of 1 to 300 characters
    TOO_LONG = "too_long"  # the text is over MAX_TEXT_CHARS
    MISSING_URL = "missing_url"  # the text no longer names an item's URL (detail: the URL)
    CHANGED = "changed"  # changed since it was confirmed: confirm it again
    SENT = "sent"  # sent already: it cannot change or go out twice
    SENDING = "sending"  # a send was interrupted: it goes again as it was, same Message-ID
    WEB_FORM = "web_form"  # the host takes notices by web form
    EMAIL = "email"  # the host takes notices by e-mail: send it, do not record it by hand


def _refuse(problem: NoticeProblem, message: str, detail: str = "") -> NoticeRefusedError:
    return NoticeRefusedError(message, problem.value, detail)


@dataclass(frozen=True, slots=True)
class BulkDraft:
    notice_ids: list[int]
    unknown_hosts: list[str]  # registrable domains with no registry entry: no notice drafted


@dataclass(frozen=True, slots=True)
class NoticeLine:
    request_id: int
    url: str
    page_url: str
    sha256: str
    status: RequestStatus


@dataclass(frozen=True, slots=True)
class NoticeView:
    """A notice as the confirmation page shows it; ``digest`` covers exactly what goes out."""

    id: int
    reference: str
    case_id: int
    domain: str
    channel: Channel
    recipient: str
    language: Language
    subject: str
    text: str
    edited: bool
    sent: bool
    answer_by: datetime | None
    sent_at: datetime | None
    consent: ConsentBasis
    items: tuple[NoticeLine, ...]
    digest: str
    # The Message-ID recorded before the e-mail went out; set while not ``sent``, the last send
    # was interrupted (the SMTP server may or may not have taken it): :func:`send_notice` sends
    # it again only with this same Message-ID, so the host can tell it is one message.
    message_id: str | None = None

    @property
    def sending(self) -> bool:
        """A send was interrupted: it may have reached the host; send it again as it was."""
        return not self.sent and self.message_id is not None


def group_by_host(
    facts: Iterable[_Facts], lookup: Callable[[str], HostEntry | str]
) -> tuple[dict[str, list[_Facts]], list[str]]:
    """Items by host domain (in first-seen order), and the hosts the registry does not know.

    ``lookup`` gives a URL's registry entry, or the registrable domain it could not find.
    """
    groups: dict[str, list[_Facts]] = defaultdict(list)
    unknown: dict[str, None] = {}
    for item in facts:
        found = lookup(item.url)
        if isinstance(found, HostEntry):
            groups[found.domain].append(item)
        else:
            unknown[found] = None
    return dict(groups), list(unknown)


def set_case_consent(svc: Services, who: WorkerIdentity, case_id: int, basis: ConsentBasis) -> None:
    """Record what she did not agree to; unsent, unedited drafts of the case say it from now."""
    with svc.db.write() as (session, head):
        require_case(session, who, case_id)
        case = session.get(Case, case_id)
        if case is None:
            raise NotFoundError("no such case")
        case.consent_basis = basis
        payload = {"case": case_id, "change": "consent", "by": who.username[:100]}
        audit.append(session, head, audit.AuditKind.CASE_CONSENT_SET, payload)


def consent_of(svc: Services, who: WorkerIdentity, case_id: int) -> ConsentBasis:
    """The consent basis recorded for one of her cases."""
    with svc.db.read() as session:
        require_case(session, who, case_id)
        return case_consent(session, case_id)


def _lookup(svc: Services, who: WorkerIdentity) -> Callable[[str], HostEntry | str]:
    registry = host_registry(svc, who.center_id)

    def lookup(url: str) -> HostEntry | str:
        found = registry.lookup(url)
        return found.entry if isinstance(found, KnownHost) else found.registrable

    return lookup


def _waiting(session: Session, who: WorkerIdentity, case_id: int) -> list[_Facts]:
    require_case(session, who, case_id)
    ids = session.scalars(
        select(Sighting.id)
        .where(
            Sighting.case_id == case_id,
            Sighting.review_status == ReviewState.CONFIRMED,
            Sighting.id.not_in(select(TakedownRequest.sighting_id)),
        )
        .order_by(Sighting.id)
    ).all()
    return [_facts(session, who, i) for i in ids]


def draft_case_notices(
    svc: Services, who: WorkerIdentity, case_id: int, *, now: datetime | None = None
) -> BulkDraft:
    """One draft notice per host for the case's confirmed items that have no request yet.

    A host that already has an unsent, unedited draft for the case gets the items added to it
    (the text is rendered again); an edited draft is left as she wrote it and a new one made.
    """
    at = _now(now)
    sender_for(svc, who)  # no name in her profile, no reply address: say so before anything
    with svc.db.read() as session:
        waiting = _waiting(session, who, case_id)
    groups, unknown = group_by_host(waiting, _lookup(svc, who))
    registry = host_registry(svc, who.center_id)
    ids = []
    for domain, items in groups.items():
        host = registry.get(domain)
        if host is None:  # the lookup found it a moment ago
            raise NoticeError(f"unknown host: {domain}")
        ids.append(_draft_for_host(svc, who, case_id, host, items, at))
    return BulkDraft(ids, unknown)


def _draft_for_host(
    svc: Services,
    who: WorkerIdentity,
    case_id: int,
    host: HostEntry,
    items: Sequence[_Facts],
    at: datetime,
) -> int:
    with svc.db.write() as (session, head):
        notice = session.scalars(
            select(TakedownNotice).where(
                TakedownNotice.case_id == case_id,
                TakedownNotice.center_id == who.center_id,
                TakedownNotice.domain == host.domain,
                TakedownNotice.sent.is_(False),
                TakedownNotice.edited.is_(False),
            )
        ).first()
        if notice is None:
            notice = TakedownNotice(
                reference=new_reference(at), case_id=case_id, center_id=who.center_id,
                domain=host.domain, channel=Channel.EMAIL if host.abuse_email else Channel.WEB_FORM,
                recipient=host.abuse_email or host.form_url or "", language=host.language.value,
                jurisdiction=host.jurisdiction, sent=False, subject="", notice_text="",
                edited=False, created_by=who.username[:100], created_at=at,
            )  # fmt: skip
            session.add(notice)
            session.flush()
        start = len(_requests(session, notice.id))
        for n, item in enumerate(items, start=start + 1):
            row = TakedownRequest(
                reference=f"{notice.reference}-{n:03d}", case_id=case_id,
                center_id=who.center_id, sighting_id=item.sighting_id, notice_id=notice.id,
                url=item.url, page_url=item.page_url, sha256=item.sha256, domain=host.domain,
                channel=notice.channel, recipient=notice.recipient, language=notice.language,
                jurisdiction=notice.jurisdiction, status=RequestStatus.DRAFT, subject="",
                notice_text="", created_by=who.username[:100], created_at=at,
            )  # fmt: skip
            session.add(row)
            session.flush()
            _event(session, head, row, RequestStatus.DRAFT, who.username, notice.reference, at)
        notice_id = notice.id
    _render(svc, who, notice_id, at)
    return notice_id


def _requests(session: Session, notice_id: int) -> list[TakedownRequest]:
    return list(
        session.scalars(
            select(TakedownRequest)
            .where(TakedownRequest.notice_id == notice_id)
            .order_by(TakedownRequest.id)
        )
    )


def _notice_row(session: Session, who: WorkerIdentity, notice_id: int) -> TakedownNotice:
    row = session.get(TakedownNotice, notice_id)
    if row is None or row.center_id != who.center_id:
        raise NotFoundError("no such takedown notice")
    require_case(session, who, row.case_id)
    return row


def _render(svc: Services, who: WorkerIdentity, notice_id: int, at: datetime) -> None:
    """Render the text as of ``at`` (its answer-by time counts from then) and store it."""
    sender = sender_for(svc, who)
    with svc.db.read() as session:
        row = _notice_row(session, who, notice_id)
        facts = [_facts(session, who, r.sighting_id) for r in _requests(session, notice_id)]
        domain, language, reference = row.domain, Language(row.language), row.reference
    host = host_registry(svc, who.center_id).get(domain)
    if host is None:
        raise NoticeError(f"unknown host: add {domain} to the host registry")
    answer_by = DeadlinePolicy.from_settings(svc.settings).deadline(at, host.jurisdiction)
    answer_by = answer_by.replace(second=0, microsecond=0)  # a deadline is to the minute
    notice = render_notice(
        NoticeRequest(
            reference=reference,
            host=host,
            items=[NoticeItem(f.url, f.page_url, f.captured_at, f.sha256) for f in facts],
            sender=sender,
            created_at=at,
            answer_by=answer_by,
            language=language,
            consent=facts[0].consent,
        )
    )
    _store_text(svc, who, notice_id, notice.subject, notice.text, answer_by=answer_by)


def _store_text(
    svc: Services,
    who: WorkerIdentity,
    notice_id: int,
    subject: str,
    text: str,
    *,
    answer_by: datetime | None = None,
    edited: bool = False,
) -> None:
    with svc.db.write() as (session, _head):
        row = _notice_row(session, who, notice_id)
        if row.sent:
            raise _refuse(NoticeProblem.SENT, "this notice has been sent: it can no longer change")
        if row.message_id is not None:
            raise _refuse(NoticeProblem.SENDING, _INTERRUPTED)
        row.subject, row.notice_text, row.edited = subject, text, edited
        if answer_by is not None:
            row.answer_by = answer_by
        for request in _requests(session, notice_id):
            request.subject, request.notice_text = subject, text


def _digest(recipient: str, subject: str, text: str, request_ids: Sequence[int]) -> str:
    canonical = json.dumps([recipient, subject, text, sorted(request_ids)], ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _view(session: Session, who: WorkerIdentity, notice_id: int) -> NoticeView:
    row = _notice_row(session, who, notice_id)
    requests = _requests(session, notice_id)
    case = session.get(Case, row.case_id)
    return NoticeView(
        id=row.id, reference=row.reference, case_id=row.case_id, domain=row.domain,
        channel=row.channel, recipient=row.recipient, language=Language(row.language),
        subject=row.subject, text=row.notice_text, edited=row.edited, sent=row.sent,
        answer_by=row.answer_by, sent_at=row.sent_at,
        consent=case.consent_basis if case is not None else ConsentBasis.UNKNOWN,
        items=tuple(
            NoticeLine(r.id, r.url, r.page_url or r.url, r.sha256, r.status) for r in requests
        ),
        digest=_digest(row.recipient, row.subject, row.notice_text, [r.id for r in requests]),
        message_id=row.message_id,
    )  # fmt: skip


def notice_view(svc: Services, who: WorkerIdentity, notice_id: int) -> NoticeView:
    with svc.db.read() as session:
        return _view(session, who, notice_id)


def case_notices(svc: Services, who: WorkerIdentity, case_id: int) -> list[NoticeView]:
    """The case's notices of her center, newest first."""
    with svc.db.read() as session:
        require_case(session, who, case_id)
        ids = session.scalars(
            select(TakedownNotice.id)
            .where(TakedownNotice.case_id == case_id, TakedownNotice.center_id == who.center_id)
            .order_by(TakedownNotice.id.desc())
        ).all()
        return [_view(session, who, i) for i in ids]


def prepare_notice(
    svc: Services, who: WorkerIdentity, notice_id: int, *, now: datetime | None = None
) -> NoticeView:
    """The confirmation: an unedited draft is rendered again as of now (answer-by, consent,
    profile); an edited one stays as she wrote it. The view's digest is what send checks."""
    view = notice_view(svc, who, notice_id)
    if not view.sent and not view.edited and not view.sending:
        _render(svc, who, notice_id, _now(now))
        view = notice_view(svc, who, notice_id)
    return view


def edit_notice(
    svc: Services, who: WorkerIdentity, notice_id: int, subject: str, text: str
) -> NoticeView:
    """Store her text; it must still name every item's URL (the host finds them by it)."""
    subject, text = subject.strip(), text.replace("\r\n", "\n").strip() + "\n"
    if not subject or "\n" in subject or len(subject) > 300:
        raise _refuse(NoticeProblem.SUBJECT, "the subject is one line of 1 to 300 characters")
    if len(text) > MAX_TEXT_CHARS:
        limit = str(MAX_TEXT_CHARS)
        raise _refuse(NoticeProblem.TOO_LONG, f"the text is at most {limit} characters", limit)
    view = notice_view(svc, who, notice_id)
    missing = [line.url for line in view.items if line.url not in text]
    if missing:
        url = missing[0]
        raise _refuse(NoticeProblem.MISSING_URL, f"the text no longer names {url}", url)
    _store_text(svc, who, notice_id, subject, text, edited=True)
    return notice_view(svc, who, notice_id)


def reset_notice(
    svc: Services, who: WorkerIdentity, notice_id: int, *, now: datetime | None = None
) -> NoticeView:
    """Drop her edits: the text is rendered again from the template."""
    _render(svc, who, notice_id, _now(now))
    return notice_view(svc, who, notice_id)


def _ready(view: NoticeView, digest: str, channel: Channel) -> None:
    """Refuse a notice that was sent, goes by the other channel, or changed since confirmed."""
    if view.sent:
        raise _refuse(NoticeProblem.SENT, "this notice has already been sent")
    if view.channel is not channel:
        if channel is Channel.EMAIL:
            raise _refuse(NoticeProblem.WEB_FORM, "this host takes notices by web form")
        raise _refuse(NoticeProblem.EMAIL, "this host takes notices by e-mail: send it")
    if digest != view.digest:
        raise _refuse(
            NoticeProblem.CHANGED, "the notice changed after you confirmed it: confirm it again"
        )


def _check_moves(svc: Services, view: NoticeView, at: datetime) -> None:
    policy = DeadlinePolicy.from_settings(svc.settings)
    with svc.db.read() as session:
        for line in view.items:
            request = session.get(TakedownRequest, line.request_id)
            if request is not None:
                advance(_state(request), RequestStatus.SENT, at, policy)


_INTERRUPTED: Final = (
    "sending this notice was interrupted: send it again as it is (the same Message-ID)"
)


def _intend(svc: Services, who: WorkerIdentity, notice_id: int, message_id: str) -> str:
    """Record, durably and before any e-mail leaves, the Message-ID this send uses; a notice
    whose earlier send was interrupted keeps the one recorded then. Returns the one to use."""
    with svc.db.write() as (session, _head):
        row = _notice_row(session, who, notice_id)
        if row.sent:
            raise _refuse(NoticeProblem.SENT, "this notice has already been sent")
        if row.message_id is None:
            row.message_id = message_id[:300]
        return row.message_id


def _mark_sent(
    svc: Services, who: WorkerIdentity, view: NoticeView, at: datetime, note: str,
    message_id: str | None,
) -> None:  # fmt: skip
    """Every item's request becomes *sent*, held to the answer-by time the text states: one
    transaction, so a crash leaves all of them or none."""
    policy = DeadlinePolicy.from_settings(svc.settings)
    with svc.db.write() as (session, head):
        for line in view.items:
            apply_status(
                session, head, who, line.request_id, RequestStatus.SENT, policy,
                actor=who.username, note=note, at=at, message_id=message_id,
            )  # fmt: skip
        row = _notice_row(session, who, view.id)
        row.sent, row.sent_at = True, at
        row.message_id = message_id[:300] if message_id else None
        if view.answer_by is not None and view.answer_by > at:
            for request in _requests(session, view.id):
                request.deadline = view.answer_by  # what the host was told


def send_notice(
    svc: Services,
    who: WorkerIdentity,
    notice_id: int,
    digest: str,
    *,
    smtp: SmtpConfig | None = None,
    tls_context: ssl.SSLContext | None = None,
    now: datetime | None = None,
) -> str:
    """E-mail the notice exactly as confirmed (``digest`` from :func:`prepare_notice`); every
    item's request becomes *sent*. Returns the Message-ID.

    The order survives a crash at any point: the Message-ID is recorded first (the notice is
    then *sending*), the e-mail goes out, then the notice and its requests become *sent* in one
    transaction. A notice left *sending* — the SMTP server may or may not have taken it — is
    sent again only as it was, with the same Message-ID, so a host that got it twice sees one
    message twice (RFC 5322 Message-IDs are how mail systems recognise a duplicate); the record
    names every e-mail that left, and none left with another Message-ID."""
    at = _now(now)
    view = notice_view(svc, who, notice_id)
    _ready(view, digest, Channel.EMAIL)
    _check_moves(svc, view, at)
    message = notice_email(_as_notice(view), view.recipient, sender_for(svc, who), at)
    message_id = _intend(svc, who, notice_id, str(message["Message-ID"]))
    message.replace_header("Message-ID", message_id)
    config = smtp or SmtpConfig.from_settings(svc.settings)
    send_message(message, config, tls_context=tls_context)
    note = f"{view.recipient} · {view.reference}"
    _mark_sent(svc, who, view, at, note, message_id)
    return message_id


def record_form_sent(
    svc: Services, who: WorkerIdentity, notice_id: int, digest: str, *,
    now: datetime | None = None,
) -> None:  # fmt: skip
    """A web-form host: she pasted the confirmed notice into its form; every item is *sent*."""
    at = _now(now)
    view = notice_view(svc, who, notice_id)
    _ready(view, digest, Channel.WEB_FORM)
    _check_moves(svc, view, at)
    _mark_sent(svc, who, view, at, f"{view.recipient} · {view.reference}", None)


def export_notice(svc: Services, who: WorkerIdentity, notice_id: int) -> WebFormExport:
    """The notice's fields for a host's web form (every item's URL and digest)."""
    view = notice_view(svc, who, notice_id)
    return web_form_export(_as_notice(view), sender_for(svc, who))


def _as_notice(view: NoticeView) -> Notice:
    return stored_notice(
        reference=view.reference,
        language=view.language,
        domain=view.domain,
        subject=view.subject,
        text=view.text,
        urls=list(dict.fromkeys(u for i in view.items for u in (i.url, i.page_url))),
        sha256s=[i.sha256 for i in view.items],
    )
