"""A real SMTP server (aiosmtpd) on 127.0.0.1, port 0, in a thread: the notice tests' sink.

``SmtpSink()`` is a context manager; ``sink.port`` is the port it got, ``sink.messages`` the
parsed messages received (``email.message.EmailMessage``), ``sink.envelopes`` the raw
envelopes. ``lose_answers=N``: the first N messages are kept (delivered) but answered 421, as
when the server queued the message and the connection broke before the client heard it.
``tls=("starttls"|"ssl")`` serves a self-signed certificate for 127.0.0.1 (its
path is ``sink.cafile``, for the client's trust store); ``logins`` makes AUTH required.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
import tempfile
import threading
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(  # noqa: N802  (aiosmtpd calls it by this name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        message = message_from_bytes(raw, policy=default)
        assert isinstance(message, EmailMessage)
        with self.sink.lock:
            self.sink.envelopes.append(envelope)
            self.sink.messages.append(message)
            if self.sink.lose_answers > 0:
                self.sink.lose_answers -= 1
                return "421 queued, but the answer is lost"
        return "250 OK"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate and key for the IP address 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class SmtpSink:
    def __init__(
        self, tls: str | None = None, logins: dict[str, str] | None = None, lose_answers: int = 0
    ) -> None:
        self.tls = tls
        self.lose_answers = lose_answers
        self.logins = logins
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Envelope] = []
        self.lock = threading.Lock()
        self.port = 0
        self._folder = tempfile.TemporaryDirectory()
        self.cafile: Path | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def client_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts only this sink's certificate."""
        assert self.cafile is not None
        return ssl.create_default_context(cafile=str(self.cafile))

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and self.logins is not None
            and self.logins.get(data.login.decode()) == data.password.decode()
        )
        return AuthResult(success=ok, handled=False)

    def _factory(self, context: ssl.SSLContext | None) -> SMTP:
        return SMTP(
            _Handler(self),
            hostname="sink.test",
            tls_context=context if self.tls == "starttls" else None,
            require_starttls=self.tls == "starttls",
            authenticator=self._authenticate if self.logins is not None else None,
            auth_required=self.logins is not None,
            auth_require_tls=self.tls is not None,
            # PLAIN only: smtplib's fallback to LOGIN after a failed PLAIN stalls aiosmtpd
            auth_exclude_mechanism=["LOGIN"],
            loop=self._loop,
        )

    def __enter__(self) -> SmtpSink:
        context = None
        if self.tls is not None:
            cert, key = self_signed(Path(self._folder.name))
            self.cafile = cert
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
        self._thread.start()

        async def start() -> asyncio.Server:
            return await self._loop.create_server(
                lambda: self._factory(context),
                "127.0.0.1",
                0,
                ssl=context if self.tls == "ssl" else None,
            )

        self._server = asyncio.run_coroutine_threadsafe(start(), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._folder.cleanup()
