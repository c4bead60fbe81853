"""Tables for takedowns: a center's host edits, requests, their status history, follow-ups.

A *takedown request* is one sighting asked of one host; a *takedown notice* is the one
message to a host that lists every request of a case on that host (``notice_id``). Its text is
editable while it is a draft and is sent exactly as the worker confirmed it. Its ``notice_text`` is
the text exactly as sent (URLs, times, digests of captured files — never a hash of the
survivor's images). A request made for a re-upload links to the earlier request
(``previous_request_id``).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from stopspread.storage import models_scan  # noqa: F401  (sightings, for the FKs)
from stopspread.storage.models import Base, Id, _enum, utcnow
from stopspread.storage.types import UtcDateTime
from stopspread.takedown.followup import FollowUp
from stopspread.takedown.requests import RequestStatus

__all__ = [
    "Channel",
    "FollowUpCheck",
    "HostEdit",
    "TakedownEvent",
    "TakedownNotice",
    "TakedownRequest",
]


class Channel(enum.StrEnum):
    EMAIL = "email"  # sent through the configured SMTP server
    WEB_FORM = "web_form"  # exported; a worker pasted it into the host's form


class HostEdit(Base):
    """A center's own entry for a domain: the last layer over the shipped and file registries."""

    __tablename__ = "host_edits"
    __table_args__ = (UniqueConstraint("center_id", "domain"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(253))
    abuse_email: Mapped[str | None] = mapped_column(String(254))
    form_url: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    jurisdiction: Mapped[str] = mapped_column(String(2))
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class TakedownNotice(Base):
    """One message to one host about one case: every confirmed item there, listed once."""

    __tablename__ = "takedown_notices"
    __table_args__ = (Index(None, "case_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(253))
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "takedown_channel"))
    recipient: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    jurisdiction: Mapped[str] = mapped_column(String(2))
    sent: Mapped[bool] = mapped_column(Boolean, default=False)
    subject: Mapped[str] = mapped_column(Text)
    notice_text: Mapped[str] = mapped_column(Text)
    edited: Mapped[bool] = mapped_column(Boolean, default=False)  # a worker changed the text
    answer_by: Mapped[datetime | None] = mapped_column(UtcDateTime())  # as the text says it
    message_id: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class TakedownRequest(Base):
    __tablename__ = "takedown_requests"
    __table_args__ = (
        Index(None, "case_id"),
        Index(None, "center_id", "status"),
        Index(None, "sighting_id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id", ondelete="CASCADE"))
    sighting_id: Mapped[int] = mapped_column(ForeignKey("sightings.id", ondelete="CASCADE"))
    previous_request_id: Mapped[int | None] = mapped_column(ForeignKey("takedown_requests.id"))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("takedown_notices.id"))
    url: Mapped[str] = mapped_column(Text)
    page_url: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))  # of the captured file the notice cites
    domain: Mapped[str] = mapped_column(String(253))  # the registry entry that was used
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "takedown_channel"))
    recipient: Mapped[str] = mapped_column(Text)  # e-mail address or form URL
    language: Mapped[str] = mapped_column(String(8))
    jurisdiction: Mapped[str] = mapped_column(String(2))
    status: Mapped[RequestStatus] = mapped_column(_enum(RequestStatus, "takedown_status"))
    subject: Mapped[str] = mapped_column(Text)
    notice_text: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    first_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # the last send
    deadline: Mapped[datetime | None] = mapped_column(UtcDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_check_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_check: Mapped[FollowUp | None] = mapped_column(_enum(FollowUp, "followup_outcome"))


class TakedownEvent(Base):
    """A request's history: every status change, with who and when."""

    __tablename__ = "takedown_events"
    __table_args__ = (Index(None, "request_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("takedown_requests.id", ondelete="CASCADE"))
    status: Mapped[RequestStatus] = mapped_column(_enum(RequestStatus, "takedown_status"))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(String(500), default="")


class FollowUpCheck(Base):
    """One re-check of a requested URL."""

    __tablename__ = "followup_checks"
    __table_args__ = (Index(None, "request_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("takedown_requests.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    outcome: Mapped[FollowUp] = mapped_column(_enum(FollowUp, "followup_outcome"))
    http_status: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
