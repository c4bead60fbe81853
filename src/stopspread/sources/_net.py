"""The network layer under httpx for scans: only checked addresses, one deadline a request.

:class:`GuardedTransport` is an httpx transport (httpx's public ``BaseTransport``) over an
httpcore connection pool that opens connections through :class:`GuardedBackend`, a *network
backend* (httpcore's public ``NetworkBackend``). The backend

- refuses to connect to any address :func:`~stopspread.sources.addresses.check_address`
  refuses (a second line behind the fetcher's own check), and counts connections and bytes;
- clips every connect, TLS handshake, read and write to what is left of the current request's
  deadline, so one deadline covers a whole download however the server dribbles its bytes.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any, Final

import httpcore
import httpx

from stopspread.errors import FetchRefusedError
from stopspread.sources.addresses import check_address

__all__ = ["GuardedBackend", "GuardedTransport"]

MAX_CONNECTIONS: Final = 8  # one scan fetches one URL at a time; a few kept alive


class _Deadline:
    """The deadline of the request running in this thread; clips every network timeout."""

    def __init__(self) -> None:
        self._local = threading.local()

    @contextlib.contextmanager
    def running(self, until: float) -> Iterator[None]:
        self._local.until = until
        try:
            yield
        finally:
            self._local.until = None

    def clip(self, timeout: float | None) -> float:
        until: float | None = getattr(self._local, "until", None)
        if until is None:
            raise httpcore.ConnectError("no request deadline set")
        left = until - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("the download ran past its time cap")
        return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(
        self, inner: httpcore.NetworkStream, deadline: _Deadline, backend: GuardedBackend
    ) -> None:
        self._inner, self._deadline, self._backend = inner, deadline, backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = self._inner.read(max_bytes, self._deadline.clip(timeout))
        self._backend.received += len(data)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.clip(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        tls = self._inner.start_tls(ssl_context, server_hostname, self._deadline.clip(timeout))
        return _Stream(tls, self._deadline, self._backend)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Connects only to addresses the fetcher checked, within the request's deadline."""

    def __init__(self, allow_loopback: bool) -> None:
        self.deadline = _Deadline()
        self.connects = 0
        self.received = 0  # bytes read from the network, headers included
        self._allow_loopback = allow_loopback
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            check_address(host, self._allow_loopback)  # a second line: IP literals only
        except FetchRefusedError as exc:
            raise httpcore.ConnectError(f"refused address: {exc}") from exc
        self.connects += 1
        stream = self._inner.connect_tcp(
            host, port, self.deadline.clip(timeout), local_address, socket_options
        )
        return _Stream(stream, self.deadline, self)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("no unix sockets")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


# httpcore's errors as the httpx errors a client raises (the same classes httpx's own transport
# maps them to; the most specific match wins).
_ERRORS: Final[tuple[tuple[type[Exception], type[httpx.HTTPError]], ...]] = (
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
)


@contextlib.contextmanager
def _httpx_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        mapped: type[httpx.HTTPError] | None = None
        for source, target in _ERRORS:
            if isinstance(exc, source) and (mapped is None or issubclass(target, mapped)):
                mapped = target
        if mapped is None:
            raise
        raise mapped(str(exc)) from exc


class _Body(httpx.SyncByteStream):
    """A response body from the pool, its errors turned into httpx's."""

    def __init__(self, inner: Iterable[bytes]) -> None:
        self._inner = inner

    def __iter__(self) -> Iterator[bytes]:
        with _httpx_errors():
            yield from self._inner

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport whose every connection goes through a :class:`GuardedBackend`.

    No proxies, no retries, no environment: a request goes to the URL's (checked) address.
    The request's ``sni_hostname`` extension names the TLS host when the URL holds an IP.
    """

    def __init__(self, backend: GuardedBackend) -> None:
        self.backend = backend
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=MAX_CONNECTIONS,
            network_backend=backend,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(request.stream, httpx.SyncByteStream):
            raise TypeError("GuardedTransport sends synchronous requests only")
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _httpx_errors():
            response = self._pool.handle_request(core)
        if not isinstance(response.stream, Iterable):
            raise TypeError("the connection pool returned an asynchronous body")
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()
