"""Notices: every language, the facts each must carry, the e-mail and web-form forms."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from stopspread.errors import NoticeError
from stopspread.languages import Language
from stopspread.takedown.hosts import HostEntry
from stopspread.takedown.notices import (
    KST,
    NoticeItem,
    NoticeRequest,
    Sender,
    format_times,
    new_reference,
    notice_email,
    render_notice,
    text_blocks,
    web_form_export,
)

SENDER = Sender(
    organisation="디지털성범죄 피해자 지원센터(예시)",
    organisation_en="Digital Sex Crime Victim Support Center (example)",
    email="takedown@center.example",
    person="김지원",
    phone="+82-2-000-0000",
    role="삭제지원 상담원",
)
CAPTURED = datetime(2026, 11, 25, 9, 0, 0, tzinfo=UTC)
ITEMS = (
    NoticeItem(
        url="https://cdn.host.example/v/a1.mp4?x=1&y=<2>",
        page_url="https://host.example/board/123",
        captured_at=CAPTURED,
        sha256="ab" * 32,
    ),
    NoticeItem(
        url="https://cdn.host.example/i/b2.jpg",
        page_url="https://host.example/board/124",
        captured_at=CAPTURED + timedelta(minutes=5),
        sha256="cd" * 32,
    ),
)


def host(language: Language, jurisdiction: str) -> HostEntry:
    return HostEntry(
        domain="host.example",
        language=language,
        jurisdiction=jurisdiction,
        abuse_email="abuse@host.example",
    )


def request(host_language: Language, jurisdiction: str, **changes: object) -> NoticeRequest:
    values: dict[str, object] = {
        "reference": "SS-20261125-ABC123",
        "host": host(host_language, jurisdiction),
        "items": ITEMS,
        "sender": SENDER,
        "created_at": CAPTURED + timedelta(hours=1),
        "answer_by": CAPTURED + timedelta(hours=49),
    }
    values.update(changes)
    return NoticeRequest(**values)  # type: ignore[arg-type]


# words each language must show, and the legal basis each jurisdiction cites
LEGAL = {
    (Language.KO, "KR"): ["성폭력범죄의 처벌 등에 관한 특례법 제14조", "제14조의2", "제44조의2"],
    (Language.KO, "US"): ["TAKE IT DOWN Act", "48시간"],
    (Language.EN, "US"): ["TAKE IT DOWN Act", "48 hours", "good faith"],
    (Language.EN, "KR"): ["article 14", "Article 14-2", "article 44-2"],
    (Language.EN, "ZZ"): ["without that person's consent", "good faith"],
    (Language.JA, "KR"): ["第14条", "第14条の2", "第44条の2"],
    (Language.JA, "JP"): ["同意なく"],
    (Language.ZH, "US"): ["TAKE IT DOWN", "48小时"],
    (Language.ZH, "CN"): ["未经当事人同意"],
}
GREETING = {
    Language.KO: "신고 담당자님께",
    Language.EN: "To the abuse team of host.example",
    Language.JA: "ご担当者様",
    Language.ZH: "滥用举报负责人",
}


@pytest.mark.parametrize(("language", "jurisdiction"), sorted(LEGAL))
def test_notice_carries_every_fact(language: Language, jurisdiction: str) -> None:
    notice = render_notice(request(language, jurisdiction))
    assert notice.language is language
    assert notice.reference in notice.subject
    assert "host.example" in notice.subject
    text = notice.text
    assert GREETING[language] in text
    for item in ITEMS:
        assert item.url in text
        assert item.page_url in text
        assert item.sha256 in text
    assert "2026-11-25 09:00:00 UTC" in text
    assert "2026-11-25 18:00:00 KST" in text
    assert "2026-11-27 10:00 UTC" in text  # answer by, to the minute
    assert "2026-11-27 10:00:00" not in text
    for words in LEGAL[(language, jurisdiction)]:
        assert words in text, words
    assert text.count("SS-20261125-ABC123") >= 2  # asked to quote it, and signed with it
    assert SENDER.email in text
    assert SENDER.person in text and SENDER.role in text
    for wording in ("전자서명", "electronic signature", "電子署名", "电子签名"):
        assert wording not in text
    expected_name = SENDER.organisation if language is Language.KO else SENDER.organisation_en
    assert expected_name in text
    assert "{{" not in text and "{%" not in text
    assert "<a " not in notice.html  # URLs are never links, not even in HTML


def test_korean_notice_puts_korea_time_first_and_uses_plain_words() -> None:
    text = render_notice(request(Language.KO, "KR")).text
    assert "채증 일시: 2026-11-25 18:00:00 KST / 2026-11-25 09:00:00 UTC" in text
    assert "지체 없이 삭제" in text
    assert "기록" in text and "보존" in text  # preserve the records
    assert "첨부하거나 링크하지 않았으며" in text


def test_host_language_is_the_default_and_can_be_overridden() -> None:
    assert render_notice(request(Language.JA, "JP")).language is Language.JA
    chosen = render_notice(request(Language.JA, "JP", language=Language.EN))
    assert chosen.language is Language.EN
    assert "Removal request" in chosen.subject


def test_local_time_of_a_single_zone_country() -> None:
    assert format_times(CAPTURED, "CN", Language.ZH) == [
        "2026-11-25 09:00:00 UTC",
        "2026-11-25 18:00:00 KST",
        "2026-11-25 17:00:00 CST (Asia/Shanghai)",
    ]
    assert len(format_times(CAPTURED, "JP", Language.JA)) == 2  # Tokyo is KST's offset
    assert len(format_times(CAPTURED, "US", Language.EN)) == 2  # many zones: UTC and KST only
    with pytest.raises(NoticeError, match="timezone-aware"):
        format_times(datetime(2026, 1, 1), "KR", Language.KO)


def test_html_escapes_and_keeps_structure() -> None:
    notice = render_notice(request(Language.EN, "US"))
    assert "y=&lt;2&gt;" in notice.html
    assert "y=<2>" not in notice.html
    assert notice.html.count("<ol>") == 2  # the three asks and the items
    assert '<html lang="en">' in notice.html
    assert "<script" not in notice.html


def test_text_blocks() -> None:
    blocks = text_blocks("Hello\n\nAsk:\n1. one\n2. two\n   more\n\n- a\n- b\nafter\n")
    assert [(b.kind, b.items) for b in blocks] == [
        ("p", [["Hello"]]),
        ("p", [["Ask:"]]),
        ("ordered", [["one"], ["two", "more"]]),
        ("list", [["a"], ["b"]]),
        ("p", [["after"]]),
    ]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"items": ()}, "at least one item"),
        ({"reference": "no spaces allowed"}, "reference"),
        (
            {
                "items": (
                    NoticeItem("https://a.example/x", "https://a.example/", CAPTURED, "AB" * 32),
                )
            },
            "SHA-256",
        ),
        (
            {
                "items": (
                    NoticeItem("javascript:alert(1)", "https://a.example/", CAPTURED, "ab" * 32),
                )
            },
            "http",
        ),
        ({"sender": Sender("Org", "no-address", "Kim")}, "e-mail"),
    ],
)
def test_bad_input_is_a_notice_error(changes: dict[str, object], words: str) -> None:
    with pytest.raises(NoticeError, match=words):
        render_notice(request(Language.EN, "US", **changes))


def test_email_message_headers_and_parts() -> None:
    notice = render_notice(request(Language.KO, "KR"))
    message = notice_email(notice, "abuse@host.example", SENDER, CAPTURED)
    assert message["To"] == "abuse@host.example"
    assert "takedown@center.example" in message["From"]
    assert message["Reply-To"] == message["From"]
    assert message["Subject"] == notice.subject
    assert message["Content-Language"] == "ko"
    assert re.fullmatch(r"<[^@>]*SS-20261125-ABC123[^@>]*@center\.example>", message["Message-ID"])
    assert message["Date"].endswith("-0000") or message["Date"].endswith("+0000")
    parts = [part.get_content_type() for part in message.walk()]
    assert parts == ["multipart/alternative", "text/plain", "text/html"]
    assert not list(message.iter_attachments())
    body = message.get_body(("plain",))
    assert body is not None and body.get_content_charset() == "utf-8"
    assert "성폭력범죄의 처벌 등에 관한 특례법" in body.get_content()
    raw = message.as_bytes()
    assert b"\r\n" in raw
    assert "불법촬영물".encode() not in raw  # headers and bodies are transfer-encoded


def test_email_refuses_a_bad_recipient() -> None:
    notice = render_notice(request(Language.EN, "US"))
    with pytest.raises(NoticeError, match="e-mail address"):
        notice_email(notice, "not an address <<", SENDER, CAPTURED)


def test_web_form_export() -> None:
    notice = render_notice(request(Language.JA, "JP"))
    export = web_form_export(notice, SENDER)
    fields = json.loads(export.as_json())
    assert fields["reference"] == "SS-20261125-ABC123"
    assert fields["urls"].splitlines() == [
        ITEMS[0].url,
        ITEMS[0].page_url,
        ITEMS[1].url,
        ITEMS[1].page_url,
    ]
    assert fields["sha256"].splitlines() == [i.sha256 for i in ITEMS]
    assert fields["message"] == notice.text
    assert fields["organisation"] == SENDER.organisation_en
    assert "== message ==" in export.as_text()
    assert "ご担当者様" in export.as_json()  # UTF-8, not \\u escapes


def test_new_reference() -> None:
    now = datetime(2026, 11, 25, 23, 30, tzinfo=KST)
    refs = {new_reference(now) for _ in range(200)}
    assert len(refs) == 200
    assert all(re.fullmatch(r"SS-20261125-[0-9A-HJKMNP-TV-Z]{6}", r) for r in refs)


def test_stored_notice_gives_back_the_same_parts() -> None:
    from stopspread.takedown.notices import stored_notice

    notice = render_notice(request(Language.KO, "KR"))
    again = stored_notice(
        reference=notice.reference,
        language=notice.language,
        domain=notice.domain,
        subject=notice.subject,
        text=notice.text,
        urls=notice.urls,
        sha256s=notice.sha256s,
    )
    assert again == notice
