"""Sending notices to a real SMTP server (aiosmtpd) on 127.0.0.1: plain, STARTTLS, SSL, login."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from stopspread.config import Settings, SmtpSecurity
from stopspread.errors import NoticeSendError
from stopspread.languages import Language
from stopspread.takedown.mail import SmtpConfig, send_message
from stopspread.takedown.notices import notice_email, render_notice
from tests.smtpsink import SmtpSink
from tests.takedown.test_notices import ITEMS, SENDER, request

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def config(port: int, security: SmtpSecurity, **changes: object) -> SmtpConfig:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "security": security,
        "from_address": SENDER.email,
        "timeout_s": 10.0,
    }
    values.update(changes)
    return SmtpConfig(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("language", "jurisdiction", "words"),
    [
        (Language.KO, "KR", "성폭력범죄의 처벌 등에 관한 특례법 제14조"),
        (Language.EN, "US", "TAKE IT DOWN Act"),
        (Language.JA, "JP", "ご担当者様"),
        (Language.ZH, "CN", "滥用举报负责人"),
    ],
)
def test_sink_receives_each_language(language: Language, jurisdiction: str, words: str) -> None:
    notice = render_notice(request(language, jurisdiction))
    message = notice_email(notice, "abuse@host.example", SENDER, NOW)
    with SmtpSink() as sink:
        receipt = send_message(message, config(sink.port, SmtpSecurity.NONE))
    assert receipt.refused == {}
    (received,) = sink.messages
    (envelope,) = sink.envelopes
    assert envelope.mail_from == SENDER.email
    assert envelope.rcpt_tos == ["abuse@host.example"]
    assert received["Subject"] == notice.subject
    assert received["Message-ID"].strip() == receipt.message_id  # long: folded
    assert received["Content-Language"] == language.value
    assert not list(received.iter_attachments())
    assert all(
        part.get_content_maintype() not in ("image", "video", "application")
        for part in received.walk()
    )
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    for body in (text, html):
        assert words in body
        for item in ITEMS:
            assert item.sha256 in body
            assert item.page_url in body
    assert ITEMS[1].url in text


def test_starttls_with_login() -> None:
    notice = render_notice(request(Language.KO, "KR"))
    message = notice_email(notice, "abuse@host.example", SENDER, NOW)
    with SmtpSink(tls="starttls", logins={"center": "pw-123"}) as sink:
        send_message(
            message,
            config(sink.port, SmtpSecurity.STARTTLS, user="center", password="pw-123"),
            tls_context=sink.client_context(),
        )
        with pytest.raises(NoticeSendError, match="refused the login"):
            send_message(
                message,
                config(sink.port, SmtpSecurity.STARTTLS, user="center", password="wrong"),
                tls_context=sink.client_context(),
            )
    assert len(sink.messages) == 1


def test_ssl_from_the_first_byte() -> None:
    message = notice_email(render_notice(request(Language.EN, "US")), "a@host.example", SENDER, NOW)
    with SmtpSink(tls="ssl") as sink:
        send_message(
            message, config(sink.port, SmtpSecurity.SSL), tls_context=sink.client_context()
        )
        # the system trust store does not know the sink's certificate: refused, not ignored
        with pytest.raises(NoticeSendError, match="could not send"):
            send_message(message, config(sink.port, SmtpSecurity.SSL))
    assert len(sink.messages) == 1


def test_starttls_is_required_by_default() -> None:
    message = notice_email(render_notice(request(Language.EN, "US")), "a@host.example", SENDER, NOW)
    with (
        SmtpSink() as sink,  # offers no STARTTLS
        pytest.raises(NoticeSendError, match="does not offer STARTTLS"),
    ):
        send_message(message, config(sink.port, SmtpSecurity.STARTTLS))
    assert sink.messages == []


def test_no_password_without_tls() -> None:
    message = notice_email(render_notice(request(Language.EN, "US")), "a@host.example", SENDER, NOW)
    with pytest.raises(NoticeSendError, match="without TLS"):
        send_message(message, config(1, SmtpSecurity.NONE, user="u", password="p"))


def test_unreachable_server() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    message = notice_email(render_notice(request(Language.EN, "US")), "a@host.example", SENDER, NOW)
    with pytest.raises(NoticeSendError, match="could not send"):
        send_message(message, config(port, SmtpSecurity.NONE))


def test_config_from_settings() -> None:
    with pytest.raises(NoticeSendError, match="SMTP_HOST"):
        SmtpConfig.from_settings(Settings())
    with pytest.raises(NoticeSendError, match="SMTP_FROM"):
        SmtpConfig.from_settings(Settings(smtp_host="127.0.0.1"))
    made = SmtpConfig.from_settings(
        Settings(smtp_host="127.0.0.1", smtp_from="a@b.example", smtp_password="secret-pw")
    )
    assert made.security is SmtpSecurity.STARTTLS and made.port == 587
    assert "secret-pw" not in repr(made)
