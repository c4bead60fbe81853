"""One exception tree for StopSpread.

::

    StopSpreadError
    ├── MediaError                 a file could not be turned into a hash
    │   ├── MediaTooLargeError     over a byte, pixel, frame or memory cap (decompression bomb)
    │   ├── UnsupportedMediaError  not a format we decode (unknown format, no video stream)
    │   ├── CorruptMediaError      a recognised format whose data is truncated or broken
    │   │   └── VideoDecodeError   FFmpeg could not demux/decode a video, or its decoder crashed
    │   └── MediaTimeoutError      decoding ran past its wall-time limit (endless or hostile stream)
    ├── HashFormatError            a hash string that is not a valid signal value
    ├── IndexFormatError           an index snapshot file that is not one we wrote (or is damaged)
    ├── ConfigError                a setting (environment, TOML file) is invalid
    │   ├── HostRegistryError      a host registry file (takedown contacts) is invalid; has ``line``
    │   └── HashKeyError           sealed hash values in the database, but no hash key or another
    ├── AuditChainError            the audit log's hash chain is broken (edited or deleted rows)
    ├── NoticeError                a takedown notice could not be built (no contact, bad input)
    │   ├── NoticeSendError        the SMTP server refused or could not be reached
    │   └── SignerMissingError     the worker's profile has no name to sign a notice with
    ├── ReportError                the evidence report could not be made (fonts missing, bad data)
    ├── EvidenceError              stored evidence cannot be read: damaged file, wrong key, bad WARC
    ├── RoomCheckError             a room check cannot run (no private network, no consent)
    │   └── OutOfScopeError        an address outside the room's own private subnet (refused,
    │                              nothing sent)
    ├── FetchError                 a URL could not be fetched (scans; one item, never the scan)
    │   ├── FetchRefusedError      refused before connecting: scheme, credentials, a private address
    │   ├── FetchTooLargeError     the body went over the byte cap (the download was cut off)
    │   ├── FetchTimeoutError      connect/read timeout, or the whole download ran past its time cap
    │   └── FetchStatusError       an HTTP error status, or too many redirects
    └── ServiceError               a use case refused a request (each maps to one HTTP status)
        ├── AuthError              no credentials were given (401)
        │   └── SignInRequiredError  a worker page without a valid session (redirect to sign-in)
        ├── ForbiddenError         wrong credentials, or not allowed for this client (403)
        ├── NotFoundError          no such object visible to this caller (404)
        ├── InvalidRequestError    the request is well-formed but its content is not (422)
        │   ├── SourceRejectedError  a scan source or scan request refused; ``reason`` says why
        │   └── NoticeRefusedError   a notice per host not changed or sent; ``reason`` says why
        ├── RateLimitedError       too many attempts or requests; ``retry_after`` seconds (429)
        ├── TransitionError        a takedown request cannot move to that status (409)
        └── CaseWithdrawnError     the case was withdrawn: withdrawal is final (410)
            └── EvidenceErasedError  ... and she had the center's evidence deleted (410)

Callers catch ``StopSpreadError`` for "anything we raise on purpose"; anything
else escaping is a bug.
"""

from __future__ import annotations

__all__ = [
    "AuditChainError",
    "AuthError",
    "CaseWithdrawnError",
    "ConfigError",
    "CorruptMediaError",
    "EvidenceErasedError",
    "EvidenceError",
    "FetchError",
    "FetchRefusedError",
    "FetchStatusError",
    "FetchTimeoutError",
    "FetchTooLargeError",
    "ForbiddenError",
    "HashFormatError",
    "HashKeyError",
    "HostRegistryError",
    "IndexFormatError",
    "InvalidRequestError",
    "MediaError",
    "MediaTimeoutError",
    "MediaTooLargeError",
    "NotFoundError",
    "NoticeError",
    "NoticeRefusedError",
    "NoticeSendError",
    "OutOfScopeError",
    "RateLimitedError",
    "ReportError",
    "RoomCheckError",
    "ServiceError",
    "SignInRequiredError",
    "SignerMissingError",
    "SourceRejectedError",
    "StopSpreadError",
    "TransitionError",
    "UnsupportedMediaError",
    "VideoDecodeError",
]


class StopSpreadError(Exception):
    """Base class of every error StopSpread raises on purpose."""


class MediaError(StopSpreadError):
    """A file or buffer could not be hashed."""


class MediaTooLargeError(MediaError):
    """The input is over the byte cap or its pixel count is over the pixel cap."""


class UnsupportedMediaError(MediaError):
    """The input is not in an image format we decode."""


class CorruptMediaError(MediaError):
    """The format was recognised but the data is truncated or malformed."""


class HashFormatError(StopSpreadError, ValueError):
    """A hash value (hex text, bytes) is malformed."""


class VideoDecodeError(CorruptMediaError):
    """A video could not be demuxed or decoded, or the decoding child process died."""


class MediaTimeoutError(MediaError):
    """Decoding took longer than its wall-time limit and was stopped."""


class IndexFormatError(StopSpreadError, ValueError):
    """An index snapshot is truncated, damaged, of another version, or not a snapshot at all."""


class ConfigError(StopSpreadError, ValueError):
    """A setting from the environment or the TOML file is missing, unknown or malformed."""


class HashKeyError(ConfigError):
    """The database holds sealed hash values, and the hash key is missing or another one."""


class ServiceError(StopSpreadError):
    """A use case refused a request. ``status`` is the HTTP status the web layer answers."""

    status = 400


class AuthError(ServiceError):
    """No credentials (API key, case secret) were given."""

    status = 401


class SignInRequiredError(AuthError):
    """A support worker's page was asked for without a valid session: sign in first."""


class ForbiddenError(ServiceError):
    """The credentials are wrong, revoked, or do not allow this call."""

    status = 403


class NotFoundError(ServiceError):
    """Nothing with this identifier is visible to the caller."""

    status = 404


class InvalidRequestError(ServiceError):
    """The request parsed, but its content is not acceptable (a bad hash, too many signals)."""

    status = 422


class RateLimitedError(ServiceError):
    """Too many requests or secret attempts; try again after ``retry_after`` seconds."""

    status = 429

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CaseWithdrawnError(ServiceError):
    """The case was withdrawn; a withdrawal is final and nothing can be added to it."""

    status = 410


class EvidenceErasedError(CaseWithdrawnError):
    """She withdrew the case and chose to have the center's evidence deleted: its key is
    destroyed, so previews, originals and reports of it are refused."""


class AuditChainError(StopSpreadError):
    """The audit log's hash chain does not verify: a row was edited, inserted or deleted."""


class HostRegistryError(ConfigError):
    """A host registry file is not valid TOML or an entry is malformed.

    ``source`` names the file and ``line`` is the 1-based line of the problem (0 when the
    problem is not tied to one line); both are part of the message too.
    """

    def __init__(self, message: str, source: str, line: int = 0) -> None:
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {message}")
        self.source = source
        self.line = line


class NoticeError(StopSpreadError):
    """A takedown notice could not be built: no contact for the host, no items, bad input."""


class NoticeSendError(NoticeError):
    """Sending a notice failed: SMTP not configured, unreachable, refused, or TLS missing."""


class ReportError(StopSpreadError):
    """The evidence report could not be made (the CJK fonts are missing, or bad input)."""


class RoomCheckError(StopSpreadError):
    """A room check cannot run: no private network to check, no consent, a bad plan."""


class OutOfScopeError(RoomCheckError):
    """An address outside the room's own private subnet: refused before anything is sent."""


class TransitionError(ServiceError):
    """A takedown request cannot move from its status to the one asked for."""

    status = 409


class FetchError(StopSpreadError):
    """A URL could not be fetched; a scan records it for that item and goes on."""


class FetchRefusedError(FetchError):
    """Refused before any connection: not http(s), credentials in the URL, or an address
    that is private, loopback (unless allowed), link-local, multicast, reserved..."""


class FetchTooLargeError(FetchError):
    """The response body went over the byte cap; the download was cut off there."""


class FetchTimeoutError(FetchError):
    """Connecting or reading timed out, or the whole download ran past its time cap."""


class FetchStatusError(FetchError):
    """The server answered with an error status, or redirected too many times."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class EvidenceError(StopSpreadError):
    """Stored evidence cannot be read back: a damaged or swapped file, the wrong key, bad WARC."""


class SourceRejectedError(InvalidRequestError):
    """A scan source (or a scan of it) was refused. ``reason`` is one of
    :class:`stopspread.services.scans.SourceProblem`'s values: pages show a message per reason."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class SignerMissingError(NoticeError):
    """The worker's profile has no name: a notice is never signed with a login name."""


class NoticeRefusedError(InvalidRequestError):
    """A notice per host was not changed or sent as asked. ``reason`` is one of
    :class:`stopspread.services.removal.notices.NoticeProblem`'s values (a message per reason);
    ``detail`` what it concerns (a URL, a limit), or ""."""

    def __init__(self, message: str, reason: str, detail: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.detail = detail
