"""Notices per host on the worker pages over HTTP, to a real SMTP sink: her profile, the case's
consent, one draft per host, an edit, the confirmation (recipient, items, text), the send, and
request pages that offer only the moves the workflow allows, deadlines to the minute."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from stopspread.config import SmtpSecurity
from stopspread.services.removal import notices
from stopspread.services.removal.notices import ConsentBasis
from stopspread.services.removal.workflow import draft_request
from tests.conftest import fast_settings, make_services
from tests.services.removal.notice_seed import NoticeWorld, notice_world, url_on
from tests.smtpsink import SmtpSink
from tests.web.support import live_server
from tests.web.test_worker_pages import _token, login

KOREAN = [url_on("hosta.example", n) for n in range(12)]
AMERICAN = [url_on("hostb.example", n) for n in range(2)]
SECONDS = re.compile(r"\d{2}:\d{2}:\d{2}")


@dataclass
class Site:
    base_url: str
    world: NoticeWorld
    sink: SmtpSink


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("notices")
    url = f"sqlite:///{tmp / 'db.sqlite'}"
    svc = make_services(url, tmp, smtp_from="takedown@seoul.test")
    world = notice_world(svc, KOREAN + AMERICAN)
    svc.db.dispose()
    with SmtpSink() as sink:
        settings = fast_settings(
            url, tmp, smtp_host="127.0.0.1", smtp_port=sink.port,
            smtp_security=SmtpSecurity.NONE, smtp_from="takedown@seoul.test",
        )  # fmt: skip
        with live_server(settings) as base_url:
            yield Site(base_url, world, sink)


def test_one_notice_per_host_edited_confirmed_and_sent(site: Site) -> None:
    with httpx.Client(base_url=site.base_url, timeout=60, follow_redirects=True) as client:
        login(client, "hana")
        case = site.world.case_id

        # her profile signs the notices
        page = client.get("/worker/profile")
        assert "로그인 이름이 아니라" in page.text and 'value="김하나"' in page.text
        token = _token(page.text)
        bad = client.post("/worker/profile", data={"csrf_token": token, "display_name": " "})
        assert bad.status_code == 422 and "이름 (실명)" in bad.text
        saved = client.post(
            "/worker/profile",
            data={
                "csrf_token": token, "display_name": "김하나", "role_title": "삭제지원 팀장",
                "contact_email": "hana.kim@center.example", "contact_phone": "+82-2-000-0000",
            },
        )  # fmt: skip
        assert saved.status_code == 200 and "내 정보를 저장했어요" in saved.text

        # the case's consent, then one draft per host from the waiting list
        board = client.get(f"/worker/takedown?case={case}")
        assert "호스트별로 요청문 만들기" in board.text and "14건" in board.text
        consent = client.post(
            f"/worker/takedown/cases/{case}/consent",
            data={"csrf_token": token, "consent": "sharing_only"},
        )
        assert 'id="consent-sharing_only" name="consent" value="sharing_only" checked' in (
            consent.text
        )
        drafted = client.post(f"/worker/takedown/cases/{case}/notices", data={"csrf_token": token})
        assert "요청문 2개를 만들었어요" in drafted.text
        ids = re.findall(r'href="/worker/takedown/notices/(\d+)">hosta\.example<', drafted.text)
        ids += re.findall(r'href="/worker/takedown/notices/(\d+)">hostb\.example<', drafted.text)
        korean_id, american_id = ids

        # a draft's items offer no "sent" answer: sending is the only way to sent
        notice = client.get(f"/worker/takedown/notices/{korean_id}")
        first_request = re.search(r'href="/worker/takedown/requests/(\d+)"', notice.text)
        assert first_request is not None
        request_page = client.get(f"/worker/takedown/requests/{first_request.group(1)}")
        assert 'name="status"' not in request_page.text
        assert f'href="/worker/takedown/notices/{korean_id}"' in request_page.text
        assert "/send" not in request_page.text  # an item goes out with its notice only
        refused = client.post(
            f"/worker/takedown/requests/{first_request.group(1)}/status",
            data={"csrf_token": token, "status": "sent"},
        )
        assert refused.status_code == 409

        # her edit is kept, and the confirmation lists exactly what goes out
        confirm = client.get(f"/worker/takedown/notices/{korean_id}/confirm")
        text = re.search(r"<textarea[^>]*>([^<]*)</textarea>", notice.text)
        assert text is not None
        changed = text.group(1).replace("&#34;", '"').replace("저희는", "저희 센터는")
        edited = client.post(
            f"/worker/takedown/notices/{korean_id}/edit",
            data={"csrf_token": token, "subject": "삭제 요청 12건", "text": changed},
        )
        assert edited.status_code == 200 and "고친 요청문을 저장했어요" in edited.text
        stale = re.search(r'name="digest" value="([0-9a-f]{64})"', confirm.text)
        assert stale is not None
        refused_stale = client.post(
            f"/worker/takedown/notices/{korean_id}/send",
            data={"csrf_token": token, "digest": stale.group(1)},
        )
        assert refused_stale.status_code == 422
        assert "확인한 뒤에 요청문이 바뀌었어요" in refused_stale.text
        assert "confirm it again" not in refused_stale.text  # no English in a Korean page
        confirm = client.get(f"/worker/takedown/notices/{korean_id}/confirm")
        assert 'id="confirm-recipient">abuse@hosta.example<' in confirm.text
        assert confirm.text.count('<li class="mono">') == 12
        assert "저희 센터는" in confirm.text and "삭제 요청 12건" in confirm.text
        deadline = re.search(r'id="confirm-deadline">([^<]+)<', confirm.text)
        assert deadline is not None and not SECONDS.search(deadline.group(1))
        digest = re.search(r'name="digest" value="([0-9a-f]{64})"', confirm.text)
        assert digest is not None
        sent = client.post(
            f"/worker/takedown/notices/{korean_id}/send",
            data={"csrf_token": token, "digest": digest.group(1)},
        )
        assert sent.status_code == 200 and "요청문을 보냈어요" in sent.text
        [mail] = site.sink.messages
        body = mail.get_body(("plain",)).get_content()
        assert mail["To"] == "abuse@hosta.example" and mail["Subject"] == "삭제 요청 12건"
        assert all(body.count(url) == 1 for url in KOREAN) and "저희 센터는" in body
        assert "촬영에는 동의했지만, 이 촬영물의 유포에는 동의한 적이 없습니다." in body
        assert "김하나" in body and "삭제지원 팀장" in body and "전자서명" not in body

        # once sent: the answers offered are the workflow's, the deadline to the minute
        request_page = client.get(f"/worker/takedown/requests/{first_request.group(1)}")
        options = re.findall(r'<option value="([a-z_]+)">', request_page.text)
        assert options == ["acknowledged", "no_answer", "refused", "removed"]
        answer_by = re.search(r"<dt>답변 기한</dt><dd>([^<]+)</dd>", request_page.text)
        assert answer_by is not None and not SECONDS.search(answer_by.group(1))

        # the same confirmation in English
        english = client.get(f"/worker/takedown/notices/{american_id}/confirm?lang=en")
        assert "Before sending to hostb.example" in english.text
        assert "agreed to the recording but never consented to its publication" in english.text
        exported = client.get(f"/worker/takedown/notices/{american_id}/export.json").json()
        assert exported["urls"].split("\n")[::2] == AMERICAN and exported["name"] == "김하나"


def _digest(page: str) -> str:
    found = re.search(r'name="digest" value="([0-9a-f]{64})"', page)
    assert found is not None
    return found.group(1)


@contextmanager
def _lossy_mail_server(url: str, tmp_path: Path) -> Iterator[tuple[httpx.Client, SmtpSink]]:
    """The service on ``url`` with an SMTP sink that keeps the first message but answers 421
    (its answer lost), and a client logged in as hana."""
    with SmtpSink(lose_answers=1) as sink:
        settings = fast_settings(
            url, tmp_path, smtp_host="127.0.0.1", smtp_port=sink.port,
            smtp_security=SmtpSecurity.NONE, smtp_from="takedown@seoul.test",
        )  # fmt: skip
        with (
            live_server(settings) as base_url,
            httpx.Client(base_url=base_url, timeout=60, follow_redirects=True) as client,
        ):
            login(client, "hana")
            yield client, sink


def test_an_interrupted_send_is_said_plainly_and_goes_again_unchanged(tmp_path: Path) -> None:
    """Issue 18: the SMTP server kept the notice but its answer was lost (421): the pages say
    it may have arrived and that sending again uses the same message ID; no edit is offered;
    the second send carries the same Message-ID."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    svc = make_services(url, tmp_path, smtp_from="takedown@seoul.test")
    world = notice_world(svc, [url_on("hostb.example", 5)])
    notices.set_case_consent(svc, world.who, world.case_id, ConsentBasis.SHARING_ONLY)
    (notice_id,) = notices.draft_case_notices(svc, world.who, world.case_id).notice_ids
    svc.db.dispose()
    page_url = f"/worker/takedown/notices/{notice_id}"
    with _lossy_mail_server(url, tmp_path) as (client, sink):
        confirm = client.get(f"{page_url}/confirm")
        data = {"csrf_token": _token(confirm.text), "digest": _digest(confirm.text)}
        lost = client.post(f"{page_url}/send", data=data)
        assert lost.status_code == 422
        page = client.get(page_url)
        assert "보내는 중 끊김" in page.text and "같은 메일 고유번호로" in page.text
        assert 'id="notice-text"' not in page.text  # no edit: the same text goes again
        english = client.get(f"{page_url}/confirm?lang=en")
        assert "the same message ID" in english.text and f"{page_url}#edit" not in english.text
        again = client.get(f"{page_url}/confirm")
        data = {"csrf_token": _token(again.text), "digest": _digest(again.text)}
        sent = client.post(f"{page_url}/send", data=data)
        assert sent.status_code == 200 and "notice-sending" not in sent.text
    ids = [str(m["Message-ID"]).strip() for m in sink.messages]
    assert len(ids) == 2 and ids[0] == ids[1]


def test_an_interrupted_single_request_says_so_and_goes_again_unchanged(tmp_path: Path) -> None:
    """Issue 18: the same for one request e-mailed on its own (not in a notice per host)."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    svc = make_services(url, tmp_path, smtp_from="takedown@seoul.test")
    world = notice_world(svc, [url_on("hostb.example", 6)])
    request_id = draft_request(svc, world.who, world.sighting_ids[0])
    svc.db.dispose()
    page_url = f"/worker/takedown/requests/{request_id}"
    with _lossy_mail_server(url, tmp_path) as (client, sink):
        page = client.get(page_url)
        lost = client.post(f"{page_url}/send", data={"csrf_token": _token(page.text)})
        assert lost.status_code == 422
        page = client.get(page_url)
        assert "보내는 중 끊김" in page.text and "같은 메일 고유번호로" in page.text
        english = client.get(f"{page_url}?lang=en")
        assert "the same message ID" in english.text
        sent = client.post(f"{page_url}/send", data={"csrf_token": _token(page.text)})
        assert sent.status_code == 200 and "request-sending" not in sent.text
    ids = [str(m["Message-ID"]).strip() for m in sink.messages]
    assert len(ids) == 2 and ids[0] == ids[1]
