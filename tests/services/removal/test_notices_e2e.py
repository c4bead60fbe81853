"""Issue 16, notices per host, end to end on a real SMTP sink (SQLite and PostgreSQL):

14 confirmed items of one case — 12 on a Korean host, 2 on a US host — become two drafts, each
is confirmed (recipient, items, text) and sent: the sink receives exactly one e-mail per host
listing all of its URLs, signed with the worker's profile, saying the consent sentence chosen
for the case, and giving the answer-by time to the minute.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stopspread.config import SmtpSecurity
from stopspread.errors import NoticeRefusedError
from stopspread.languages import Language
from stopspread.services.context import Services
from stopspread.services.removal import notices
from stopspread.services.removal.notices import ConsentBasis
from stopspread.storage.models_takedown import TakedownRequest
from stopspread.takedown.consent import consent_sentence
from stopspread.takedown.mail import SmtpConfig
from stopspread.takedown.requests import RequestStatus
from tests.conftest import make_services
from tests.services.removal.notice_seed import PROFILE, notice_world, url_on
from tests.smtpsink import SmtpSink

# every database here is used through services: a migrated copy (tests/dbtemplate.py)
pytestmark = pytest.mark.usefixtures("migrated_database")

T0 = datetime(2026, 11, 25, 0, 0, 27, tzinfo=UTC)
SECONDS = re.compile(r"\d{2}:\d{2}:\d{2}")


@pytest.fixture
def svc(database_url: str, tmp_path: Path) -> Iterator[Services]:
    s = make_services(database_url, tmp_path, smtp_from="takedown@center.example")
    yield s
    s.db.dispose()


def test_one_email_per_host_with_every_url_her_name_and_the_chosen_consent(
    svc: Services,
) -> None:
    korean = [url_on("hosta.example", n) for n in range(12)]
    american = [url_on("hostb.example", n) for n in range(2)]
    world = notice_world(svc, korean[:6] + american[:1] + korean[6:] + american[1:])
    notices.set_case_consent(svc, world.who, world.case_id, ConsentBasis.SHARING_ONLY)
    ids = notices.draft_case_notices(svc, world.who, world.case_id, now=T0).notice_ids
    confirmed = [notices.prepare_notice(svc, world.who, i, now=T0) for i in ids]
    assert [(v.recipient, len(v.items)) for v in confirmed] == [
        ("abuse@hosta.example", 12),
        ("abuse@hostb.example", 2),
    ]
    with SmtpSink() as sink:
        smtp = SmtpConfig("127.0.0.1", sink.port, SmtpSecurity.NONE, "takedown@center.example")
        sent_at = T0 + timedelta(minutes=3)
        message_ids = [
            notices.send_notice(svc, world.who, v.id, v.digest, smtp=smtp, now=sent_at)
            for v in confirmed
        ]
    assert [m["To"] for m in sink.messages] == ["abuse@hosta.example", "abuse@hostb.example"]
    for mail, view, urls, language in zip(
        sink.messages, confirmed, (korean, american), (Language.KO, Language.EN), strict=True
    ):
        text = mail.get_body(("plain",)).get_content()
        assert text.replace("\r\n", "\n") == view.text  # what went out is what she confirmed
        assert all(text.count(url) == 1 for url in urls)
        assert PROFILE.display_name in text and PROFILE.role_title in text
        assert consent_sentence(ConsentBasis.SHARING_ONLY, language) in text
        assert consent_sentence(ConsentBasis.FILMING_AND_SHARING, language) not in text
        assert "전자서명" not in text and "electronic signature" not in text
        reply_by = [line for line in text.splitlines() if "회신해 주십시오" in line or
                    line.startswith("Please reply by")]  # fmt: skip
        assert len(reply_by) == 1 and not SECONDS.search(reply_by[0]), reply_by
        assert view.reference in mail["Subject"]
        assert not list(mail.iter_attachments())
    assert (
        "2026-11-26 09:00 KST / 2026-11-26 00:00 UTC까지"
        in sink.messages[0].get_body(("plain",)).get_content()
    )  # answer-by: confirmed at 00:00:27, KR hosts get 24 hours, to the minute

    # every item's request is sent with the message's id, held to the time the text states
    with svc.db.read() as session:
        for view, message_id in zip(confirmed, message_ids, strict=True):
            for line in view.items:
                row = session.get(TakedownRequest, line.request_id)
                assert row is not None and row.status is RequestStatus.SENT
                assert row.message_id == message_id and row.deadline == view.answer_by
    after = notices.notice_view(svc, world.who, ids[0])
    assert after.sent and after.sent_at == sent_at
    with pytest.raises(NoticeRefusedError) as twice:  # sent once; a second click sends nothing
        notices.send_notice(svc, world.who, after.id, after.digest, now=sent_at)
    assert twice.value.reason == notices.NoticeProblem.SENT
    assert len(sink.messages) == 2
