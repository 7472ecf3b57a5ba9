"""The URL checks that need no network: parsing, scheme, credentials, host, and the
target of a redirect's ``Location``."""

from __future__ import annotations

import re
from typing import Final

import httpx

from alex.research.fetch.addresses import IPAddress, _check_addresses, _ip_literal
from alex.research.fetch.errors import FetchRefusedError
from alex.research.fetch.policy import FetchPolicy

_MAX_URL_CHARS: Final = 8_192
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


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


def _redirect_target(current: httpx.URL, location: str) -> httpx.URL:
    try:
        return current.join(location.strip())  # relative locations are common
    except httpx.InvalidURL as error:
        raise FetchRefusedError(
            f"the Location {location!r} is not a valid URL: {error}", reason="invalid-url"
        ) from None
