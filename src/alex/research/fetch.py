"""Fetch one web page for the researcher, and refuse anything that is not a public web page.

The researcher agent chooses URLs from search results and from text it has read, and page
text is untrusted: a page can tell the agent to fetch ``http://169.254.169.254/`` or a
service on the machine running Alex. So every request goes through these checks:

- **The URL** (before any network traffic): http or https only, no ``user:password@``, a
  host, and no IPv4 address in a legacy numeric form (``2130706433``, ``0x7f000001``,
  ``0177.0.0.1``, ``127.1``) that resolvers read differently from one another.
- **The address** (when the connection opens): the host is resolved **once**, every
  address it resolves to must be globally routable, and the socket connects to one of
  those checked addresses. Nothing resolves the name a second time, so a DNS answer that
  changes between the check and the connection (DNS rebinding) cannot move the request
  onto a private address. TLS still uses the host name for SNI and certificate checks.
- **Every redirect hop** gets both checks again: redirects are followed here, one hop at
  a time, never by httpx.
- **The answer**: 2xx only, HTML, XHTML or plain text only, at most ``max_bytes`` after
  decompression (more is refused, never silently cut), within the total time limit.

``FetchPolicy.allow_hosts`` lets loopback and private addresses through for the exact
``host[:port]`` entries it lists (tests, a local mirror); cloud metadata addresses stay
refused even then. docs/researcher-fetch.md explains the choices.
"""

from __future__ import annotations

import asyncio
import codecs
import copy
import ipaddress
import logging
import re
import socket
import time
import zlib
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import httpcore
import httpx

from alex import __version__
from alex.domain.errors import InvalidInputError, SourceUnavailableError
from alex.loaders import html_to_text

if TYPE_CHECKING:
    from alex.config import Settings

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

USER_AGENT: Final = f"Alex/{__version__} (Agentic Lifetime Equities Explainer; research fetcher)"
HTML_TYPES: Final = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES: Final = frozenset({"text/plain"})
DEFAULT_MAX_BYTES: Final = 2_000_000
_MAX_URL_CHARS: Final = 8_192
# A host with many addresses is tried on at most this many, so the connect time stays bounded.
_MAX_ADDRESSES_TRIED: Final = 4
_REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}

# Cloud instance metadata services. Already non-global, but named in refusals, and refused
# even for an allow-listed host: no research source ever lives there.
_METADATA_ADDRESSES: Final = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
        ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)
_SHARED_ADDRESS_SPACE: Final = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT
_NAT64: Final = ipaddress.ip_network("64:ff9b::/96")

# One part of an IPv4 address as inet_aton and the WHATWG URL parser read it: decimal,
# 0x-hex or 0-octal. A host made only of such parts is an IP address, however it is written.
_NUMERIC_PART: Final = re.compile(r"^(?:0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)$")
_OCTET: Final = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_DOTTED_QUAD: Final = re.compile(rf"^{_OCTET}(?:\.{_OCTET}){{3}}$")
_META_CHARSET: Final = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HIDDEN_STYLE: Final = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
# Elements whose content a reader never sees as text.
_INVISIBLE_TAGS: Final = (
    "script", "style", "noscript", "template", "svg", "iframe", "object", "embed", "canvas",
)  # fmt: skip
_BLOCK_TAGS: Final = (
    "p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "section",
    "article", "header", "footer", "blockquote", "pre", "table", "ul", "ol", "dd", "dt",
    "figcaption", "caption", "main", "aside", "nav",
)  # fmt: skip
# The legacy encodings web pages use, for detection when a page declares none: a short
# list, because detection among every codec Python knows picks oddities such as cp775.
_DETECTABLE: Final = (
    "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258",
    "iso8859_15", "iso8859_2", "koi8_r", "cp874", "cp932", "euc_jp", "iso2022_jp", "gb18030",
    "big5", "euc_kr",
)  # fmt: skip
# WHATWG decodes these labels as windows-1252, and so do browsers.
_CHARSET_ALIASES: Final = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
}


class FetchRefusedError(InvalidInputError):
    """The URL, or a redirect it led to, is not one Alex may fetch (HTTP 422).

    ``reason`` is a short code: ``scheme``, ``credentials``, ``invalid-url``,
    ``numeric-host`` or ``address``.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class FetchFailedError(SourceUnavailableError):
    """The page could not be fetched or read: network, HTTP status, size, type, time.

    The HTTP door answers 502 (an upstream failure). ``reason`` is a short code:
    ``dns``, ``network``, ``timeout``, ``http-status``, ``redirects``, ``too-large``,
    ``content-type`` or ``encoding``.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """What one fetch may do. Timeouts are in seconds; ``total_timeout`` covers every hop."""

    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    total_timeout: float = 15.0
    max_bytes: int = DEFAULT_MAX_BYTES
    max_redirects: int = 5
    # host[:port] entries whose loopback/private addresses are allowed (exact host match;
    # no port means any port). Normalised to a frozenset of "host" / "host:port".
    allow_hosts: Collection[str] = field(default_factory=frozenset)
    user_agent: str = USER_AGENT

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "read_timeout", "total_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        if self.max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        if self.max_redirects < 0:
            raise ValueError("max_redirects must be 0 or more")
        if isinstance(self.allow_hosts, str):
            raise TypeError("allow_hosts is a collection of host[:port] entries, not one string")
        normalised = frozenset(_normalise_allow_entry(entry) for entry in self.allow_hosts)
        object.__setattr__(self, "allow_hosts", normalised)

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchPolicy:
        """The policy ``ALEX_FETCH_*`` describes. Connecting gets at most 5 s of the total."""
        total = settings.fetch_timeout_seconds
        return cls(
            connect_timeout=min(5.0, total),
            read_timeout=total,
            total_timeout=total,
            max_bytes=settings.fetch_max_bytes,
            allow_hosts=settings.fetch_allow_hosts,
        )

    def allows(self, host: str, port: int) -> bool:
        """Whether ``host:port`` is allow-listed (so its private addresses are accepted)."""
        host = _bracketed(_canonical_host(host))
        return host in self.allow_hosts or f"{host}:{port}" in self.allow_hosts


@dataclass(frozen=True, slots=True)
class Page:
    """One fetched page. ``text`` is untrusted data from the web, never instructions."""

    url: str  # as requested
    final_url: str  # after redirects
    title: str | None
    text: str  # the readable main content (HTML) or the text itself (text/plain)
    content_type: str  # the media type, e.g. "text/html"
    fetched_at: str  # UTC, ISO 8601
    body_bytes: int  # size of the body after decompression
    charset: str  # the codec the body was decoded with


# --- URL and address checks -------------------------------------------------------------


def _canonical_host(host: str) -> str:
    # "Example.COM." and "example.com" are one DNS name.
    return host.strip().lower().removesuffix(".")


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _normalise_allow_entry(entry: str) -> str:
    text = entry.strip()
    try:
        parsed = httpx.URL(f"http://{text}")
    except httpx.InvalidURL as error:
        raise ValueError(f"allow_hosts entry {entry!r} is not host[:port]: {error}") from None
    if not text or not parsed.host or parsed.userinfo or parsed.raw_path not in (b"/", b""):
        raise ValueError(f"allow_hosts entry {entry!r} is not host[:port]")
    host = _bracketed(_canonical_host(parsed.raw_host.decode("ascii")))
    return host if parsed.port is None else f"{host}:{parsed.port}"


def _legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The address a host made only of numeric parts means (``127.1``, ``0x7f000001``).

    Raises FetchRefusedError when it is numeric but no valid address. None for a name.
    """
    parts = host.removesuffix(".").split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMERIC_PART.match(part) for part in parts):
        return None
    values: list[int] = []
    for part in parts:
        if part[:2].lower() == "0x":
            values.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            values.append(int(part, 8))
        else:
            values.append(int(part))
    # All parts but the last are one byte each; the last fills the remaining bytes.
    last_limit = 256 ** (5 - len(values))
    if any(value > 255 for value in values[:-1]) or values[-1] >= last_limit:
        raise FetchRefusedError(
            f"host {host!r} looks like a numeric IP address but is not a valid one",
            reason="numeric-host",
        )
    number = 0
    for value in values[:-1]:
        number = number * 256 + value
    number = number * last_limit + values[-1]
    return ipaddress.IPv4Address(number)


def _ip_literal(host: str) -> IPAddress | None:
    """The address when the host is an IP literal, None when it is a name to resolve.

    Refuses IPv4 addresses in any form but plain dotted-quad: resolvers, proxies and URL
    parsers disagree about ``0177.0.0.1`` (octal or decimal?), so none of them is accepted.
    """
    if ":" in host:
        try:
            # A zone ("fe80::1%25eth0") names an interface: link-local only, refused below.
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            raise FetchRefusedError(
                f"host {host!r} is not a valid IPv6 address", reason="invalid-url"
            ) from None
    if _DOTTED_QUAD.match(host):
        return ipaddress.IPv4Address(host)
    legacy = _legacy_ipv4(host)
    if legacy is not None:
        raise FetchRefusedError(
            f"host {host!r} is an IP address written in a non-standard numeric form "
            f"(it means {legacy}); only dotted-quad IPv4 addresses are accepted",
            reason="numeric-host",
        )
    return None


def _classify(address: IPAddress) -> str | None:
    """Why an address is not a public one, or None when it is."""
    if address in _METADATA_ADDRESSES:
        return "a cloud metadata service address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED_ADDRESS_SPACE:
        return "a carrier-grade NAT (shared) address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "not a globally routable address"
    return None


def address_problem(address: IPAddress) -> str | None:
    """Why Alex must not connect to ``address`` (e.g. "a loopback address"), or None.

    IPv6 forms that carry an IPv4 address (mapped, 6to4, Teredo, NAT64) are judged by the
    IPv4 address they lead to as well.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            inner = _classify(address.ipv4_mapped)
            return f"an IPv4-mapped form of {address.ipv4_mapped}, {inner}" if inner else None
        if address.sixtofour is not None:
            inner = _classify(address.sixtofour)
            if inner:
                return f"a 6to4 address embedding {address.sixtofour}, {inner}"
        if address.teredo is not None:
            return f"a Teredo address (tunnelling to {address.teredo[1]})"
        if address in _NAT64:
            # On an IPv6-only network with DNS64 every public IPv4 site has such an address:
            # judge the IPv4 address inside, not the reserved-looking prefix.
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
            inner = _classify(embedded)
            return f"a NAT64 address embedding {embedded}, {inner}" if inner else None
    return _classify(address)


def _check_addresses(
    host: str, port: int, addresses: Iterable[IPAddress], policy: FetchPolicy, *, literal: bool
) -> None:
    allowed = policy.allows(host, port)
    for address in addresses:
        if allowed and address not in _METADATA_ADDRESSES:
            continue
        problem = address_problem(address)
        if problem:
            subject = f"{host} is" if literal else f"host {host!r} resolves to {address},"
            raise FetchRefusedError(f"{subject} {problem}", reason="address")


def _resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the name resolves to (one lookup), in the resolver's order."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise FetchFailedError(f"could not resolve host {host!r}: {error}", reason="dns") from None
    addresses: list[IPAddress] = []
    for family, _, _, _, sockaddr in answers:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise FetchFailedError(f"host {host!r} has no IP address", reason="dns")
    return addresses


def checked_addresses(host: str, port: int, policy: FetchPolicy) -> list[IPAddress]:
    """Resolve ``host`` once and return its addresses if every one may be connected to.

    Raises FetchRefusedError naming the first address that is not public (unless the host
    is allow-listed), FetchFailedError when the name does not resolve.
    """
    literal = _ip_literal(host)
    addresses = [literal] if literal is not None else _resolve(host, port)
    _check_addresses(host, port, addresses, policy, literal=literal is not None)
    return addresses


def _parse_url(url: str | httpx.URL) -> httpx.URL:
    if isinstance(url, httpx.URL):
        return url
    if len(url) > _MAX_URL_CHARS:
        raise FetchRefusedError(
            f"URL is longer than {_MAX_URL_CHARS} characters", reason="invalid-url"
        )
    try:
        return httpx.URL(url.strip())
    except httpx.InvalidURL as error:
        # httpx rejects "0177.0.0.1" as an invalid IPv4 address: say what it really is.
        match = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^:/?#]+)", url.strip())
        if match:
            _ip_literal(match.group(1).lower())
        raise FetchRefusedError(f"not a valid URL: {error}", reason="invalid-url") from None


def _check_url(url: httpx.URL, policy: FetchPolicy) -> tuple[str, int, IPAddress | None]:
    """The URL checks that need no network: scheme, credentials, host. Returns host, port
    and the address when the host is an IP literal (then already checked)."""
    if url.scheme not in _DEFAULT_PORTS:
        shown = f"{url.scheme}:" if url.scheme else "no scheme"
        raise FetchRefusedError(
            f"scheme {shown!r} is not allowed: only http and https URLs are fetched"
            if url.scheme
            else "not an absolute http(s) URL (no scheme)",
            reason="scheme",
        )
    if url.userinfo:
        raise FetchRefusedError(
            "the URL contains credentials (user:password@); they are never sent",
            reason="credentials",
        )
    host = url.raw_host.decode("ascii")
    if not host:
        raise FetchRefusedError("the URL has no host", reason="invalid-url")
    port = url.port or _DEFAULT_PORTS[url.scheme]
    literal = _ip_literal(host)
    if literal is not None:
        _check_addresses(host, port, [literal], policy, literal=True)
    return host, port, literal


# --- The guarded transport --------------------------------------------------------------


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


# --- Reading the answer -----------------------------------------------------------------


class _Inflater:
    """Decompresses gzip or deflate with a cap on the output of every step.

    httpx's own decoders inflate a whole network chunk at once (64 KB of a gzip bomb can
    become tens of megabytes), so the body is read raw and inflated here instead.
    """

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        wbits = 16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._inflater = zlib.decompressobj(wbits)
        self._started = False

    def feed(self, data: bytes, budget: int) -> bytes:
        """The next inflated bytes; _TooLargeError once they would pass ``budget``.

        zlib stops at ``budget + 1`` bytes, so a bomb never inflates further than that.
        """
        try:
            out = self._inflater.decompress(data, budget + 1)
        except zlib.error:
            if self._encoding != "deflate" or self._started:
                raise
            # "deflate" is meant to be zlib-wrapped, but some servers send it raw.
            self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._inflater.decompress(data, budget + 1)
        self._started = True
        if len(out) > budget or self._inflater.unconsumed_tail:
            raise _TooLargeError
        return out


class _TooLargeError(Exception):
    pass


def _media_type(header: str | None) -> tuple[str, str | None]:
    """``text/html; charset=UTF-8`` -> ("text/html", "UTF-8")."""
    if not header:
        return "", None
    media, *params = header.split(";")
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return media.strip().lower(), charset


def _refuse_type(url: httpx.URL, media: str) -> FetchFailedError:
    if media == "application/pdf":
        what = "a PDF (application/pdf)"
    elif media.startswith("image/"):
        what = f"an image ({media})"
    elif media.startswith(("audio/", "video/")):
        what = f"audio or video ({media})"
    else:
        what = f"of type {media}"
    return FetchFailedError(
        f"{url} is {what}: only HTML, XHTML and plain-text pages are read",
        reason="content-type",
    )


def _read_body(response: httpx.Response, url: httpx.URL, limit: int, deadline: float) -> bytes:
    too_large = FetchFailedError(
        f"{url} is larger than the {limit:,}-byte limit (ALEX_FETCH_MAX_BYTES); refused rather "
        "than read in part",
        reason="too-large",
    )
    if response.is_stream_consumed:
        # Already read and decoded by httpx (an httpx.MockTransport answer, for one).
        if len(response.content) > limit:
            raise too_large
        return response.content
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large  # compressed or not, more than the limit is on its way
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        inflater = None
    elif encoding in ("gzip", "x-gzip", "deflate"):
        inflater = _Inflater(encoding)
    else:
        raise FetchFailedError(
            f"{url} uses Content-Encoding {encoding!r}, which Alex does not decode",
            reason="encoding",
        )
    chunks: list[bytes] = []
    size = raw_size = 0
    try:
        for raw in response.iter_raw():
            # Between chunks: a server dripping bytes under the read timeout is still cut off.
            if time.monotonic() > deadline:
                raise FetchFailedError(
                    f"{url} took longer than the total time limit to arrive", reason="timeout"
                )
            raw_size += len(raw)
            if raw_size > limit:
                raise _TooLargeError
            data = inflater.feed(raw, limit - size) if inflater else raw
            size += len(data)
            if size > limit:
                raise _TooLargeError
            chunks.append(data)
    except _TooLargeError:
        raise too_large from None
    except zlib.error as error:
        raise FetchFailedError(
            f"{url} sent a body that could not be decompressed ({encoding}): {error}",
            reason="encoding",
        ) from None
    return b"".join(chunks)


def _codec(label: str | None) -> str | None:
    """A Python text codec for a charset label, or None for an unknown or non-text one."""
    if not label:
        return None
    name = _CHARSET_ALIASES.get(label.strip().lower(), label.strip().lower())
    try:
        codec = codecs.lookup(name)
        # LookupError for bytes-to-bytes codecs such as "base64" (b"" would not tell).
        b"a".decode(codec.name, "replace")
    except LookupError:
        return None
    return codec.name


def decode_body(body: bytes, declared: str | None, *, html: bool) -> tuple[str, str]:
    """The body as text, and the codec used. Never raises on bad bytes.

    As browsers do: a byte-order mark wins, then the declared charset (bad bytes become
    U+FFFD), then a ``<meta charset>``, then UTF-8 when the bytes are valid UTF-8, then
    charset detection, then windows-1252.
    """
    for bom, bom_codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if body.startswith(bom):
            return body[len(bom) :].decode(bom_codec, "replace"), bom_codec
    meta = _META_CHARSET.search(body[:4096]) if html else None
    for label in (declared, meta.group(1).decode("ascii") if meta else None):
        codec = _codec(label)
        if codec:
            return body.decode(codec, "replace"), codec
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # charset_normalizer comes with trafilatura (imported here: it is slow to import).
    from charset_normalizer import from_bytes

    best = from_bytes(body, cp_isolation=list(_DETECTABLE)).best()
    if best is None or "cp1252" in (best.encoding, *best.could_be_from_charset):
        # Left alone, detection calls Western text cp1250 or cp775; the web's legacy
        # default is windows-1252 whenever it fits as well.
        return body.decode("cp1252", "replace"), "cp1252"
    codec = _codec(best.encoding) or "cp1252"
    return body.decode(codec, "replace"), codec


def _looks_like_html(body: bytes) -> bool:
    start = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<!doctype html", b"<html")) or b"<html" in start


# --- From HTML to text ------------------------------------------------------------------


def _drop_invisible(tree: Any) -> None:
    """Remove what a reader never sees: scripts, templates, comments and hidden elements.

    Hidden text is a favourite place for instructions aimed at AI agents. Removing it is
    not a defence (visible text can say the same): the agent treats all page text as data.
    CSS in stylesheets (off-screen, white on white) is not evaluated.
    """
    doomed: list[Any] = list(tree.xpath("//comment() | //processing-instruction()"))
    for element in tree.iter(*_INVISIBLE_TAGS):
        doomed.append(element)
    for element in tree.xpath("//*[@hidden or @aria-hidden='true' or @style]"):
        hidden = element.get("hidden") is not None or element.get("aria-hidden") == "true"
        if hidden or _HIDDEN_STYLE.search(element.get("style") or ""):
            doomed.append(element)
    for element in doomed:
        if element.getparent() is not None:
            element.drop_tree()  # keeps the tail text, which belongs to the parent


def _tree_text(tree: Any) -> str:
    """Plain text of the page body, one line per block: the fallback when trafilatura
    finds no main content (short pages, lists, odd layouts)."""
    body = tree.find(".//body")
    root = tree if body is None else body
    for element in root.iter(*_BLOCK_TAGS):
        element.tail = "\n" + (element.tail or "")
    lines = (" ".join(line.split()) for line in "".join(root.itertext()).splitlines())
    return "\n".join(line for line in lines if line)


def html_page_text(html: str, url: str | None = None) -> tuple[str | None, str]:
    """The title and the readable main content of an HTML page (boilerplate dropped)."""
    # trafilatura and lxml take about a second to import: only when a page is read.
    import trafilatura

    tree = trafilatura.load_html(html)
    if tree is None:  # not a whole document (a fragment, or text): plain conversion
        plain, plain_title = html_to_text(html)
        return plain_title or None, plain
    _drop_invisible(tree)
    metadata = trafilatura.extract_metadata(copy.deepcopy(tree), default_url=url)
    title: str | None = metadata.title if metadata is not None and metadata.title else None
    if title is None:
        found = tree.findtext(".//title")
        title = " ".join(str(found or "").split()) or None
    extracted = trafilatura.extract(
        copy.deepcopy(tree),  # trafilatura edits the tree it is given
        url=url,
        output_format="txt",
        include_comments=False,  # reader comments are not the article
        include_tables=True,  # financial pages put their numbers in tables
        include_links=False,
        include_images=False,
        # No deduplicate: its cache is process-wide, so a second fetch of a page would
        # lose the paragraphs the first one saw.
    )
    text = extracted if extracted and extracted.strip() else _tree_text(tree)
    return title, text.strip()


# --- fetch_page -------------------------------------------------------------------------


def _failure(url: httpx.URL, error: httpx.HTTPError) -> FetchFailedError:
    if isinstance(error, httpx.TimeoutException):
        return FetchFailedError(f"{url} timed out ({type(error).__name__})", reason="timeout")
    detail = str(error) or type(error).__name__
    return FetchFailedError(f"could not fetch {url}: {detail}", reason="network")


def _send(
    client: httpx.Client, url: httpx.URL, policy: FetchPolicy, deadline: float
) -> httpx.Response:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchFailedError(
            f"{url} was not reached within the total time limit", reason="timeout"
        )
    # The per-operation timeouts never outlast what is left of the total.
    timeout = httpx.Timeout(
        connect=min(policy.connect_timeout, remaining),
        read=min(policy.read_timeout, remaining),
        write=min(policy.read_timeout, remaining),
        pool=min(policy.connect_timeout, remaining),
    )
    request = client.build_request(
        "GET",
        url,
        headers={
            "User-Agent": policy.user_agent,
            "Accept": "text/html, application/xhtml+xml;q=0.9, text/plain;q=0.8",
            # Only what _Inflater decodes with a size cap.
            "Accept-Encoding": "gzip, deflate",
        },
        timeout=timeout,
    )
    try:
        return client.send(request, stream=True, follow_redirects=False)
    except FetchFailedError as error:  # DNS, from the guarded backend
        raise FetchFailedError(f"{url}: {error.message}", reason=error.reason) from None
    except httpx.RemoteProtocolError as error:
        # httpx parses a redirect's Location even when it does not follow it, and rejects
        # some (e.g. "http://0177.0.0.1/") before _fetch sees them: still a refusal.
        if str(error).startswith("Invalid URL in location header"):
            raise FetchRefusedError(
                f"it redirects to an invalid URL ({error})", reason="invalid-url"
            ) from None
        raise _failure(url, error) from None
    except httpx.HTTPError as error:
        raise _failure(url, error) from None


def _hop(
    client: httpx.Client, url: httpx.URL, policy: FetchPolicy, deadline: float, *, resolve: bool
) -> httpx.Response:
    """One request, after the checks. Refusals carry the bare reason; _fetch adds where."""
    host, port, literal = _check_url(url, policy)
    if resolve and literal is None:
        # A client that is not a GuardedClient connects by name: check the name here. Its
        # own lookup may differ (DNS rebinding), which only a GuardedClient rules out.
        checked_addresses(host, port, policy)
    return _send(client, url, policy, deadline)


def _redirect_target(current: httpx.URL, location: str) -> httpx.URL:
    try:
        return current.join(location.strip())  # relative locations are common
    except httpx.InvalidURL as error:
        raise FetchRefusedError(
            f"the Location {location!r} is not a valid URL: {error}", reason="invalid-url"
        ) from None


def _fetch(url: str, policy: FetchPolicy, client: httpx.Client, *, resolve: bool) -> Page:
    try:
        requested = _parse_url(url)
    except FetchRefusedError as error:
        raise FetchRefusedError(f"refused {url!r}: {error.message}", reason=error.reason) from None
    deadline = time.monotonic() + policy.total_timeout
    visited = [requested]
    while True:
        current = visited[-1]
        where = url if len(visited) == 1 else f"the redirect from {visited[-2]} to {current}"
        try:
            response = _hop(client, current, policy, deadline, resolve=resolve)
        except FetchRefusedError as error:
            raise FetchRefusedError(
                f"refused {where}: {error.message}", reason=error.reason
            ) from None
        try:
            location = response.headers.get("location")
            if response.status_code in _REDIRECT_STATUSES and location:
                try:
                    target = _redirect_target(current, location)
                except FetchRefusedError as error:
                    raise FetchRefusedError(
                        f"refused the redirect from {current}: {error.message}",
                        reason=error.reason,
                    ) from None
                if len(visited) > policy.max_redirects:
                    loop = " (a redirect loop)" if target in visited else ""
                    raise FetchFailedError(
                        f"{requested} redirected more than {policy.max_redirects} times{loop}",
                        reason="redirects",
                    )
                logger.debug("redirect %s -> %s", current, target)
                visited.append(target)
                continue
            if not 200 <= response.status_code < 300:
                raise FetchFailedError(
                    f"{current} answered HTTP {response.status_code} {response.reason_phrase}",
                    reason="http-status",
                )
            media, charset = _media_type(response.headers.get("content-type"))
            if media and media not in HTML_TYPES | TEXT_TYPES:
                raise _refuse_type(current, media)
            body = _read_body(response, current, policy.max_bytes, deadline)
        except httpx.HTTPError as error:
            raise _failure(current, error) from None
        finally:
            response.close()
        if not media:
            if not _looks_like_html(body):
                raise FetchFailedError(
                    f"{current} has no Content-Type and does not look like HTML",
                    reason="content-type",
                )
            media = "text/html"
        return _page(url, current, media, charset, body)


def _page(url: str, final: httpx.URL, media: str, charset: str | None, body: bytes) -> Page:
    is_html = media in HTML_TYPES
    decoded, codec = decode_body(body, charset, html=is_html)
    if is_html:
        title, text = html_page_text(decoded, str(final))
    else:
        title, text = None, decoded.replace("\r\n", "\n").strip()
    return Page(
        url=url,
        final_url=str(final),
        title=title,
        text=text,
        content_type=media,
        fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
        body_bytes=len(body),
        charset=codec,
    )


def fetch_page(
    url: str, *, policy: FetchPolicy | None = None, client: httpx.Client | None = None
) -> Page:
    """Fetch one public web page and return its readable text.

    Raises FetchRefusedError when the URL or a redirect target is not allowed (scheme,
    credentials, a non-public address), FetchFailedError when the page cannot be fetched
    or read (DNS, network, timeout, HTTP status, too many redirects, too large, not HTML
    or text).

    Without ``client`` a GuardedClient is made for this call. Pass a GuardedClient to
    reuse connections (its policy applies when ``policy`` is None). Any other httpx client
    (e.g. with a MockTransport in tests) gets the same URL and address checks, but connects
    by name itself, so only a GuardedClient rules out DNS rebinding.
    """
    if isinstance(client, GuardedClient):
        if policy is not None and policy != client.policy:
            raise ValueError("policy differs from the policy the GuardedClient was built with")
        return _fetch(url, client.policy, client, resolve=False)
    policy = policy or FetchPolicy()
    if client is not None:
        return _fetch(url, policy, client, resolve=True)
    with GuardedClient(policy) as own:
        return _fetch(url, policy, own, resolve=False)


async def afetch_page(
    url: str, *, policy: FetchPolicy | None = None, client: httpx.Client | None = None
) -> Page:
    """``fetch_page`` in a worker thread, for async callers (one code path, one set of
    checks; an httpx.Client may be used from any thread)."""
    return await asyncio.to_thread(fetch_page, url, policy=policy, client=client)
