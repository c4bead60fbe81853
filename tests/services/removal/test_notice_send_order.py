"""Issue 18: a notice's send is recorded before the e-mail goes out (its Message-ID), so a send
the SMTP server took but never confirmed — the process killed, the connection broken after the
server queued it — is sent again only with the same Message-ID: the recipient can tell it is
the same message, and the record names every e-mail that left (SQLite and PostgreSQL, a real
SMTP sink that keeps the first message and answers 421, as a lost answer looks to the sender).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stopspread.config import SmtpSecurity
from stopspread.errors import NoticeRefusedError, NoticeSendError
from stopspread.services.context import Services
from stopspread.services.removal import notices
from stopspread.services.removal.dashboard import request_detail
from stopspread.services.removal.notices import ConsentBasis
from stopspread.services.removal.workflow import draft_request, send_request
from stopspread.storage.models_takedown import TakedownRequest
from stopspread.takedown.mail import SmtpConfig
from stopspread.takedown.requests import RequestStatus
from tests.conftest import make_services
from tests.services.removal.notice_seed import notice_world, url_on
from tests.smtpsink import SmtpSink

# every database here is used through services: a migrated copy (tests/dbtemplate.py)
pytestmark = pytest.mark.usefixtures("migrated_database")

T0 = datetime(2026, 11, 25, 0, 0, 27, tzinfo=UTC)
SENDER = "takedown@center.example"


@pytest.fixture
def svc(database_url: str, tmp_path: Path) -> Iterator[Services]:
    s = make_services(database_url, tmp_path, smtp_from=SENDER)
    yield s
    s.db.dispose()


def test_a_send_the_server_took_but_never_confirmed_goes_again_with_the_same_message_id(
    svc: Services,
) -> None:
    world = notice_world(svc, [url_on("hostb.example", 1), url_on("hostb.example", 2)])
    notices.set_case_consent(svc, world.who, world.case_id, ConsentBasis.SHARING_ONLY)
    (notice_id,) = notices.draft_case_notices(svc, world.who, world.case_id, now=T0).notice_ids
    first = notices.prepare_notice(svc, world.who, notice_id, now=T0)
    with SmtpSink(lose_answers=1) as sink:
        smtp = SmtpConfig("127.0.0.1", sink.port, SmtpSecurity.NONE, SENDER)
        with pytest.raises(NoticeSendError):  # delivered, but the sender never heard so
            notices.send_notice(svc, world.who, notice_id, first.digest, smtp=smtp, now=T0)
        later = T0 + timedelta(minutes=5)
        again = notices.prepare_notice(svc, world.who, notice_id, now=later)
        message_id = notices.send_notice(
            svc, world.who, notice_id, again.digest, smtp=smtp, now=later
        )
    received = [str(m["Message-ID"]).strip() for m in sink.messages]
    assert received == [message_id, message_id]  # twice, but as one message the host can merge
    assert again.text == first.text  # an interrupted notice is not rendered again
    view = notices.notice_view(svc, world.who, notice_id)
    assert view.sent and not view.sending
    with svc.db.read() as session:
        for line in view.items:
            row = session.get(TakedownRequest, line.request_id)
            assert row is not None and row.status is RequestStatus.SENT
            assert row.message_id == message_id


def test_an_interrupted_notice_says_so_and_cannot_be_edited(svc: Services) -> None:
    world = notice_world(svc, [url_on("hostb.example", 3)])
    notices.set_case_consent(svc, world.who, world.case_id, ConsentBasis.SHARING_ONLY)
    (notice_id,) = notices.draft_case_notices(svc, world.who, world.case_id, now=T0).notice_ids
    view = notices.prepare_notice(svc, world.who, notice_id, now=T0)
    with SmtpSink(lose_answers=1) as sink:
        smtp = SmtpConfig("127.0.0.1", sink.port, SmtpSecurity.NONE, SENDER)
        with pytest.raises(NoticeSendError):
            notices.send_notice(svc, world.who, notice_id, view.digest, smtp=smtp, now=T0)
    pending = notices.notice_view(svc, world.who, notice_id)
    assert pending.sending and not pending.sent
    assert pending.message_id == str(sink.messages[0]["Message-ID"]).strip()
    with pytest.raises(NoticeRefusedError) as refused:  # the same Message-ID, the same text
        notices.edit_notice(svc, world.who, notice_id, view.subject, view.text + "\nP.S.")
    assert refused.value.reason == notices.NoticeProblem.SENDING


def test_a_single_request_is_recorded_before_it_is_sent_and_goes_again_unchanged(
    svc: Services,
) -> None:
    world = notice_world(svc, [url_on("hostb.example", 4)])
    request_id = draft_request(svc, world.who, world.sighting_ids[0], now=T0)
    with SmtpSink(lose_answers=1) as sink:
        smtp = SmtpConfig("127.0.0.1", sink.port, SmtpSecurity.NONE, SENDER)
        with pytest.raises(NoticeSendError):  # the host has it; the sender never heard so
            send_request(svc, world.who, request_id, smtp=smtp, now=T0)
        pending = request_detail(svc, world.who, request_id, now=T0)
        assert pending.sending and pending.row.status is RequestStatus.DRAFT
        later = T0 + timedelta(hours=2)
        message_id = send_request(svc, world.who, request_id, smtp=smtp, now=later)
    first, second = sink.messages
    assert [str(m["Message-ID"]).strip() for m in sink.messages] == [message_id, message_id]
    body = [m.get_body(("plain",)).get_content() for m in (first, second)]
    assert body[0] == body[1] and first["Subject"] == second["Subject"]  # not rendered again
    done = request_detail(svc, world.who, request_id, now=later)
    assert not done.sending and done.row.status is RequestStatus.SENT
    with svc.db.read() as session:
        row = session.get(TakedownRequest, request_id)
        assert row is not None and row.message_id == message_id
