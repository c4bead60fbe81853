"""Sending notices through the center's SMTP server (``smtplib``), with typed errors.

The defaults are the safe ones: STARTTLS is required (a server that does not offer it is an
error, never a silent fall-back to plain text), certificates are checked with the system's
trust store, and a password is never sent over a connection without TLS.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage

from stopspread.config import Settings, SmtpSecurity
from stopspread.errors import NoticeSendError

__all__ = ["SendReceipt", "SmtpConfig", "send_message"]


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Where and how to send. Build it from the settings with :meth:`from_settings`."""

    host: str
    port: int
    security: SmtpSecurity
    from_address: str
    user: str | None = None
    password: str | None = None
    timeout_s: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        """Raises :class:`NoticeSendError` when sending is not configured."""
        if not settings.smtp_host:
            raise NoticeSendError(
                "no SMTP server is configured (STOPSPREAD_SMTP_HOST): export the notice instead"
            )
        if not settings.smtp_from:
            raise NoticeSendError("no sender address is configured (STOPSPREAD_SMTP_FROM)")
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            from_address=settings.smtp_from,
            user=settings.smtp_user,
            password=settings.smtp_password,
            timeout_s=settings.smtp_timeout_s,
        )

    def __repr__(self) -> str:
        # never show the password in logs or tracebacks
        return (
            f"SmtpConfig(host={self.host!r}, port={self.port}, security={self.security.value!r},"
            f" user={self.user!r})"
        )


@dataclass(frozen=True, slots=True)
class SendReceipt:
    """What the server accepted: the message's Message-ID and any refused recipients."""

    message_id: str
    refused: Mapping[str, tuple[int, bytes]]


def send_message(
    message: EmailMessage, config: SmtpConfig, *, tls_context: ssl.SSLContext | None = None
) -> SendReceipt:
    """Send one message; the envelope sender is ``config.from_address``.

    Raises :class:`NoticeSendError` when the server cannot be reached, TLS is missing or
    fails, login fails, or every recipient is refused.
    """
    if config.security is SmtpSecurity.NONE and config.user:
        raise NoticeSendError("refusing to send an SMTP password without TLS (smtp_security=none)")
    context = tls_context or ssl.create_default_context()
    try:
        with _connect(config, context) as smtp:
            if config.security is SmtpSecurity.STARTTLS:
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    raise NoticeSendError(
                        "the SMTP server does not offer STARTTLS; not sending in plain text"
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
            if config.user:
                smtp.login(config.user, config.password or "")
            refused = smtp.send_message(message, from_addr=config.from_address)
    except NoticeSendError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise NoticeSendError(f"the SMTP server refused the login ({exc.smtp_code})") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise NoticeSendError("the SMTP server refused every recipient") from exc
    except smtplib.SMTPResponseException as exc:
        raise NoticeSendError(f"the SMTP server answered {exc.smtp_code}") from exc
    except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        raise NoticeSendError(f"could not send through {config.host}:{config.port}: {exc}") from exc
    return SendReceipt(message_id=str(message["Message-ID"]), refused=dict(refused))


def _connect(config: SmtpConfig, context: ssl.SSLContext) -> smtplib.SMTP:
    if config.security is SmtpSecurity.SSL:
        return smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout_s, context=context)
    return smtplib.SMTP(config.host, config.port, timeout=config.timeout_s)
