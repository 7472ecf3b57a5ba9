"""The guarded transport: an httpx client whose sockets go only to addresses resolved
once and checked (no second lookup, so DNS rebinding cannot move a request)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Final

import httpcore
import httpx

from alex.research.fetch.addresses import checked_addresses
from alex.research.fetch.errors import FetchRefusedError
from alex.research.fetch.policy import FetchPolicy

# A host with many addresses is tried on at most this many, so the connect time stays bounded.
_MAX_ADDRESSES_TRIED: Final = 4


class _GuardedBackend(httpcore.NetworkBackend):
    """Connects only to addresses it has just resolved and checked (no second lookup)."""

    def __init__(self, policy: FetchPolicy) -> None:
        self._policy = policy
        self._sockets = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = checked_addresses(host, port, self._policy)
        failure: Exception | None = None
        for address in addresses[:_MAX_ADDRESSES_TRIED]:
            try:
                # The checked address, not the name: httpcore still sends the name as
                # Host and uses it for TLS SNI and the certificate check.
                return self._sockets.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        assert failure is not None  # checked_addresses never returns an empty list
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise FetchRefusedError("Unix sockets are never used for fetching", reason="address")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


# httpcore's exceptions as httpx's (most specific first), as httpx's own transport does,
# so a GuardedClient behaves like any httpx client for its callers.
_EXCEPTIONS: Final[tuple[tuple[type[Exception], type[httpx.TransportError]], ...]] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.ProxyError, httpx.ProxyError),
)


def _as_httpx_error(error: Exception) -> Exception:
    for core_type, httpx_type in _EXCEPTIONS:
        if isinstance(error, core_type):
            return httpx_type(str(error) or type(error).__name__)
    return error


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._stream
        except Exception as error:
            mapped = _as_httpx_error(error)
            if mapped is error:
                raise
            raise mapped from error

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class _GuardedTransport(httpx.BaseTransport):
    """An httpx transport on an httpcore pool whose sockets come from _GuardedBackend.

    Built from public httpcore parts rather than by patching httpx.HTTPTransport's pool:
    no proxy, no Unix socket, HTTP/1.1, certificates verified against the host name.
    """

    def __init__(self, policy: FetchPolicy) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=10,
            network_backend=_GuardedBackend(policy),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(request.stream, httpx.SyncByteStream):
            raise TypeError("the guarded transport is synchronous")
        core_request = httpcore.Request(
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
        try:
            response = self._pool.handle_request(core_request)
        except Exception as error:
            mapped = _as_httpx_error(error)
            if mapped is error:
                raise
            raise mapped from error
        if not isinstance(response.stream, Iterable):
            raise TypeError("httpcore returned an asynchronous stream")
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


class GuardedClient(httpx.Client):
    """An httpx client whose every connection is checked against ``policy``.

    Environment proxies are ignored (``trust_env=False``): a proxy would resolve and connect
    on Alex's behalf, past the address checks. Redirects are not followed: ``fetch_page``
    follows them itself, checking each hop. Reuse one across fetches to keep connections.
    """

    def __init__(self, policy: FetchPolicy | None = None) -> None:
        self.policy = policy or FetchPolicy()
        super().__init__(
            transport=_GuardedTransport(self.policy),
            trust_env=False,
            follow_redirects=False,
            headers={"User-Agent": self.policy.user_agent},
            timeout=httpx.Timeout(self.policy.read_timeout, connect=self.policy.connect_timeout),
        )
