"""Takedown notices: one per host, in the host's language, never carrying the image.

:func:`render_notice` turns a :class:`NoticeRequest` (who sends, which host, which items) into a
:class:`Notice` — subject, plain text and an HTML alternative — from the Jinja templates in
``takedown/templates/`` (``notice_<lang>.txt.j2``: Korean, English, Japanese, simplified Chinese;
autoescape off for text, on for HTML). :func:`notice_email` wraps it in an
:class:`~email.message.EmailMessage`; :func:`web_form_export` gives the plain fields a host's
abuse form asks for. Sending is in :mod:`stopspread.takedown.mail`.

A notice names each item by its URL, page URL, capture time (UTC, Korea time and the host's
local time where its country has one time zone) and the SHA-256 digest of the captured file.
It never attaches or links the material: URLs are plain text, also in the HTML part.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2

from stopspread.errors import NoticeError
from stopspread.languages import Language
from stopspread.takedown.consent import ConsentBasis, consent_sentence
from stopspread.takedown.hosts import HostEntry

__all__ = [
    "KST",
    "Notice",
    "NoticeItem",
    "NoticeRequest",
    "Sender",
    "WebFormExport",
    "format_times",
    "new_reference",
    "notice_email",
    "render_notice",
    "stored_notice",
    "text_blocks",
    "web_form_export",
]

KST: Final = timezone(timedelta(hours=9), "KST")  # Korea: UTC+9, no daylight saving since 1988
_SHA256: Final = re.compile(r"^[0-9a-f]{64}$")
_REFERENCE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{3,63}$")
_CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U: easy to read aloud
# Countries with one time zone, for the host's local capture time (others: UTC and KST only).
_ZONES: Final = {
    "JP": "Asia/Tokyo",
    "CN": "Asia/Shanghai",
    "TW": "Asia/Taipei",
    "HK": "Asia/Hong_Kong",
    "SG": "Asia/Singapore",
    "VN": "Asia/Ho_Chi_Minh",
    "TH": "Asia/Bangkok",
    "PH": "Asia/Manila",
    "GB": "Europe/London",
    "DE": "Europe/Berlin",
    "FR": "Europe/Paris",
    "NL": "Europe/Amsterdam",
}
_SUBJECTS: Final = {
    Language.KO: "[{ref}] 불법촬영물 삭제 요청 — {domain}",
    Language.EN: "[{ref}] Removal request: non-consensual intimate imagery on {domain}",
    Language.JA: "[{ref}] 同意のない性的画像の削除依頼 — {domain}",
    Language.ZH: "[{ref}] 删除请求：未经同意的私密影像 — {domain}",
}


@dataclass(frozen=True, slots=True)
class Sender:
    """The support center that sends the notice, and the worker who signs it."""

    organisation: str
    email: str
    person: str
    phone: str = ""  # the signing worker's phone, from her profile
    postal_address: str = ""
    organisation_en: str = ""  # the name in Latin letters, for notices not in Korean
    role: str = ""  # the signing worker's role title, from her profile
    contact_email: str = ""  # her own address, shown when it is not the reply address

    def name_for(self, language: Language) -> str:
        """The organisation's name as a notice in ``language`` shows it."""
        if language is Language.KO or not self.organisation_en:
            return self.organisation
        return self.organisation_en


@dataclass(frozen=True, slots=True)
class NoticeItem:
    """One captured item: the media URL, the page it was on, when and what was captured."""

    url: str
    page_url: str
    captured_at: datetime  # timezone-aware
    sha256: str  # of the captured media bytes, lowercase hex


@dataclass(frozen=True, slots=True)
class NoticeRequest:
    """Everything a notice says. ``language`` None: the host's language."""

    reference: str
    host: HostEntry
    items: Sequence[NoticeItem]
    sender: Sender
    created_at: datetime
    answer_by: datetime | None = None
    language: Language | None = None
    consent: ConsentBasis = ConsentBasis.UNKNOWN


@dataclass(frozen=True, slots=True)
class Notice:
    """A rendered notice: what goes into an e-mail or a web form."""

    reference: str
    language: Language
    domain: str
    subject: str
    text: str
    html: str
    urls: tuple[str, ...]
    sha256s: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WebFormExport:
    """The plain fields of a notice, for a host's abuse web form (copy and paste)."""

    fields: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> str:
        return json.dumps(self.fields, ensure_ascii=False, indent=2)

    def as_text(self) -> str:
        return "\n\n".join(f"== {key} ==\n{value}" for key, value in self.fields.items()) + "\n"


def new_reference(now: datetime) -> str:
    """A fresh reference for a request, e.g. ``SS-20261125-7F3K9Q`` (UTC date + 30 random bits)."""
    suffix = "".join(secrets.choice(_CROCKFORD) for _ in range(6))
    return f"SS-{now.astimezone(UTC):%Y%m%d}-{suffix}"


def format_times(
    moment: datetime, jurisdiction: str, language: Language, *, seconds: bool = True
) -> list[str]:
    """``moment`` as text in UTC, Korea time and the host's zone (Korean notices: KST first).

    ``seconds`` False: to the minute (a deadline), else to the second (a capture time, which a
    host compares with its logs).
    """
    if moment.tzinfo is None:
        raise NoticeError("capture times must be timezone-aware")
    shape = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    utc = f"{moment.astimezone(UTC):{shape}} UTC"
    kst = f"{moment.astimezone(KST):{shape}} KST"
    out = [kst, utc] if language is Language.KO else [utc, kst]
    zone = _zone(jurisdiction)
    if zone is not None:
        local = moment.astimezone(zone)
        if local.utcoffset() not in (timedelta(0), timedelta(hours=9)):
            out.append(f"{local:{shape}} {local.tzname()} ({zone.key})")
    return out


def _zone(jurisdiction: str) -> ZoneInfo | None:
    name = _ZONES.get(jurisdiction)
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:  # no time zone database on this machine: UTC and KST still say it
        return None


@cache
def _environments() -> tuple[jinja2.Environment, jinja2.Environment]:
    loader = jinja2.PackageLoader("stopspread.takedown", "templates")
    # plain text for an e-mail body: nothing to escape (the HTML part escapes everything)
    text = jinja2.Environment(
        loader=loader,
        autoescape=False,  # noqa: S701
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    html = jinja2.Environment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return text, html


def render_notice(request: NoticeRequest) -> Notice:
    """Render the notice text and HTML. Raises :class:`NoticeError` on unusable input."""
    _check(request)
    language = request.language or request.host.language
    host = request.host
    items = [
        {
            "url": item.url,
            "page_url": item.page_url,
            "sha256": item.sha256,
            "times": format_times(item.captured_at, host.jurisdiction, language),
        }
        for item in request.items
    ]
    answer_by = (
        format_times(request.answer_by, host.jurisdiction, language, seconds=False)
        if request.answer_by is not None
        else None
    )
    text = (
        _environments()[0]
        .get_template(f"notice_{language.value}.txt.j2")
        .render(
            domain=host.domain,
            sender=request.sender,
            organisation=request.sender.name_for(language),
            ref=request.reference,
            items=items,
            jurisdiction=host.jurisdiction,
            answer_by=answer_by,
            consent=consent_sentence(request.consent, language),
        )
    )
    return stored_notice(
        reference=request.reference,
        language=language,
        domain=host.domain,
        subject=_SUBJECTS[language].format(ref=request.reference, domain=host.domain),
        text=text,
        urls=tuple(dict.fromkeys(u for i in request.items for u in (i.url, i.page_url))),
        sha256s=tuple(item.sha256 for item in request.items),
    )


def stored_notice(
    *,
    reference: str,
    language: Language,
    domain: str,
    subject: str,
    text: str,
    urls: Sequence[str],
    sha256s: Sequence[str],
) -> Notice:
    """A :class:`Notice` from its text as stored (the HTML part is laid out from the text)."""
    html = (
        _environments()[1]
        .get_template("notice.html.j2")
        .render(lang=language.value, subject=subject, blocks=text_blocks(text))
    )
    return Notice(
        reference=reference,
        language=language,
        domain=domain,
        subject=subject,
        text=text,
        html=html,
        urls=tuple(urls),
        sha256s=tuple(sha256s),
    )


def _check(request: NoticeRequest) -> None:
    if not request.items:
        raise NoticeError("a notice needs at least one item")
    if not _REFERENCE.match(request.reference):
        raise NoticeError("a reference is 4-64 letters, digits and hyphens")
    for item in request.items:
        if not _SHA256.match(item.sha256):
            raise NoticeError("an item's SHA-256 must be 64 lowercase hex digits")
        for url in (item.url, item.page_url):
            if not url.startswith(("http://", "https://")) or any(c.isspace() for c in url):
                raise NoticeError("item URLs must be absolute http(s) URLs without spaces")
    if "@" not in request.sender.email or not request.sender.person.strip():
        raise NoticeError("the sender needs an e-mail address and the name of who signs")


@dataclass(frozen=True, slots=True)
class _Block:
    kind: str  # "p", "list" (- lines) or "ordered" (1. lines)
    items: list[list[str]]


_MARKER: Final = re.compile(r"^(- |\d+\. )")


def text_blocks(text: str) -> list[_Block]:
    """Split notice text into paragraphs and lists for the HTML part."""
    blocks: list[_Block] = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        lead: list[str] = []
        current: _Block | None = None
        for line in chunk.splitlines():
            marker = _MARKER.match(line)
            if marker is not None:
                kind = "list" if marker.group(1) == "- " else "ordered"
                if current is None or current.kind != kind:
                    if lead:
                        blocks.append(_Block("p", [lead]))
                        lead = []
                    current = _Block(kind, [])
                    blocks.append(current)
                current.items.append([line[marker.end() :]])
            elif current is not None and line.startswith(" "):
                current.items[-1].append(line.strip())
            else:
                current = None
                lead.append(line)
        if lead:
            blocks.append(_Block("p", [lead]))
    return blocks


def notice_email(notice: Notice, to: str, sender: Sender, sent_at: datetime) -> EmailMessage:
    """An RFC 5322 message: UTF-8 plain text plus an HTML alternative, no attachment."""
    try:
        from_address = Address(
            display_name=sender.name_for(notice.language), addr_spec=sender.email
        )
        to_address = Address(addr_spec=to)
    except (ValueError, IndexError) as exc:
        raise NoticeError(f"not a usable e-mail address: {exc}") from exc
    message = EmailMessage(policy=SMTP)
    message["Subject"] = notice.subject
    message["From"] = from_address
    message["To"] = to_address
    message["Reply-To"] = from_address
    message["Date"] = format_datetime(sent_at.astimezone(UTC))
    message["Message-ID"] = make_msgid(idstring=notice.reference, domain=from_address.domain)
    message.set_content(notice.text, charset="utf-8")
    message.add_alternative(notice.html, subtype="html", charset="utf-8")
    message["Content-Language"] = notice.language.value  # after set_content, which drops it
    return message


def web_form_export(notice: Notice, sender: Sender) -> WebFormExport:
    """The notice as the plain fields abuse forms ask for."""
    return WebFormExport(
        {
            "reference": notice.reference,
            "language": notice.language.value,
            "subject": notice.subject,
            "urls": "\n".join(notice.urls),
            "sha256": "\n".join(notice.sha256s),
            "organisation": sender.name_for(notice.language),
            "name": sender.person,
            "role": sender.role,
            "email": sender.email,
            "phone": sender.phone,
            "message": notice.text,
        }
    )
