"""The URL checks that need no network: parsing, scheme, credentials, host, and the
target of a redirect's ``Location``."""

from __future__ import annotations

import re
from typing import Final

import httpx

from alex.domain.validation import MAX_URL_CHARS
from alex.research.fetch.addresses import IPAddress, _check_addresses, _ip_literal
from alex.research.fetch.errors import FetchRefusedError, shown
from alex.research.fetch.policy import FetchPolicy

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
# What DNS allows: 253 characters in a name, 63 in each label.
_MAX_HOST_CHARS: Final = 253
_MAX_LABEL_CHARS: Final = 63
# What parsing a URL may raise besides httpx.InvalidURL: idna.IDNAError and the codecs'
# UnicodeError are both ValueErrors (an "xn--" label that is no valid punycode, say).
_URL_ERRORS: Final = (httpx.InvalidURL, ValueError)


def _parse_url(url: str) -> httpx.URL:
    """The URL, parsed and checked to be well formed (see _well_formed)."""
    _check_length(url)  # before parsing: a 1.5 MB URL is not worth parsing
    try:
        parsed = httpx.URL(url.strip())
    except _URL_ERRORS as error:
        # httpx rejects "0177.0.0.1" as an invalid IPv4 address: say what it really is.
        match = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^:/?#]+)", url.strip())
        if match:
            _ip_literal(match.group(1).lower())
        raise FetchRefusedError(f"not a valid URL: {shown(error)}", reason="invalid-url") from None
    return _well_formed(parsed)


def _check_length(url: str) -> None:
    if len(url) > MAX_URL_CHARS:
        raise FetchRefusedError(
            f"the URL is longer than {MAX_URL_CHARS:,} characters", reason="invalid-url"
        )


def _well_formed(url: httpx.URL) -> httpx.URL:
    """``url`` if every part of it can be used; FetchRefusedError ("invalid-url") if not.

    httpx decodes some parts only when they are first used (an "xn--" host through idna,
    when the request is built), so a malformed URL would raise in the middle of a request.
    Everything is used here instead, for the URL asked for and for every redirect target.
    """
    try:
        host, port, text = url.raw_host.decode("ascii"), url.port, str(url)
        url.host  # noqa: B018 - decoded for its error only
    except _URL_ERRORS as error:
        raise FetchRefusedError(f"not a valid URL: {shown(error)}", reason="invalid-url") from None
    _check_length(text)  # percent-encoding lengthens; a redirect target is new
    if port is not None and not 0 < port <= 65535:
        raise FetchRefusedError(f"port {port} is not from 1 to 65535", reason="invalid-url")
    labels = host.removesuffix(".").split(".")
    if len(host) > _MAX_HOST_CHARS or any(len(label) > _MAX_LABEL_CHARS for label in labels):
        raise FetchRefusedError(
            "the host name is longer than DNS allows (253 characters, 63 between dots)",
            reason="invalid-url",
        )
    return url


def _check_url(url: httpx.URL, policy: FetchPolicy) -> tuple[str, int, IPAddress | None]:
    """The URL checks that need no network: scheme, credentials, host. Returns host, port
    and the address when the host is an IP literal (then already checked)."""
    if url.scheme not in _DEFAULT_PORTS:
        scheme = f"{url.scheme}:" if url.scheme else "no scheme"
        raise FetchRefusedError(
            f"scheme {scheme!r} is not allowed: only http and https URLs are fetched"
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


def _redirect_target(current: httpx.URL, location: str) -> httpx.URL:
    try:
        target = current.join(location.strip())  # relative locations are common
    except _URL_ERRORS as error:
        raise FetchRefusedError(
            f"its Location {shown(location)!r} is not a valid URL: {shown(error)}",
            reason="invalid-url",
        ) from None
    return _well_formed(target)
