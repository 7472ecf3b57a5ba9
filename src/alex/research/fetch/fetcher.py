"""``fetch_page``: the URL checks, each redirect hop checked again, the capped body, and
the page's readable text."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import httpx

from alex.decoding import decode_body
from alex.html_text import html_page_text
from alex.research.fetch.addresses import checked_addresses
from alex.research.fetch.body import _looks_like_html, _media_type, _read_body, _refuse_type
from alex.research.fetch.errors import FetchFailedError, FetchRefusedError, shown
from alex.research.fetch.policy import FetchPolicy
from alex.research.fetch.transport import GuardedClient
from alex.research.fetch.urls import _check_url, _parse_url, _redirect_target

logger = logging.getLogger(__name__)

HTML_TYPES: Final = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES: Final = frozenset({"text/plain"})
_REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})


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


def _failure(url: httpx.URL, error: httpx.HTTPError) -> FetchFailedError:
    if isinstance(error, httpx.TimeoutException):
        return FetchFailedError(
            f"{shown(url)} timed out ({type(error).__name__})", reason="timeout"
        )
    detail = str(error) or type(error).__name__
    return FetchFailedError(f"could not fetch {shown(url)}: {detail}", reason="network")


def _send(
    client: httpx.Client, url: httpx.URL, policy: FetchPolicy, deadline: float
) -> httpx.Response:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchFailedError(
            f"{shown(url)} was not reached within the total time limit", reason="timeout"
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
        raise FetchFailedError(f"{shown(url)}: {error.message}", reason=error.reason) from None
    except httpx.RemoteProtocolError as error:
        # httpx parses a redirect's Location even when it does not follow it, and rejects
        # some (e.g. "http://0177.0.0.1/") before _fetch sees them: still a refusal.
        if str(error).startswith("Invalid URL in location header"):
            raise _BadLocationError(str(error)) from None
        raise _failure(url, error) from None
    except httpx.HTTPError as error:
        raise _failure(url, error) from None
    except (httpx.InvalidURL, ValueError) as error:
        # The request's own URL was checked by _well_formed, so this is httpx reading the
        # answer's Location ("http:127.0.0.1:8000/x" has no host to copy; an "xn--" host
        # is no valid IDNA). idna.IDNAError and UnicodeError are ValueErrors.
        raise _BadLocationError(str(error) or type(error).__name__) from None


class _BadLocationError(Exception):
    """The answer redirects to a Location that httpx cannot read as a URL."""


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


def _fetch(url: str, policy: FetchPolicy, client: httpx.Client, *, resolve: bool) -> Page:
    try:
        requested = _parse_url(url)
    except FetchRefusedError as error:
        raise FetchRefusedError(
            f"refused {shown(url)!r}: {error.message}", reason=error.reason
        ) from None
    deadline = time.monotonic() + policy.total_timeout
    visited = [requested]
    while True:
        current = visited[-1]
        try:
            response = _hop(client, current, policy, deadline, resolve=resolve)
        except FetchRefusedError as error:
            where = (
                shown(url)
                if len(visited) == 1
                else f"the redirect from {shown(visited[-2])} to {shown(current)}"
            )
            raise FetchRefusedError(
                f"refused {where}: {error.message}", reason=error.reason
            ) from None
        except _BadLocationError as error:
            raise FetchRefusedError(
                f"refused the redirect from {shown(current)}: its Location is not a valid URL "
                f"({shown(error)})",
                reason="invalid-url",
            ) from None
        try:
            location = response.headers.get("location")
            if response.status_code in _REDIRECT_STATUSES and location:
                try:
                    target = _redirect_target(current, location)
                except FetchRefusedError as error:
                    raise FetchRefusedError(
                        f"refused the redirect from {shown(current)}: {error.message}",
                        reason=error.reason,
                    ) from None
                if len(visited) > policy.max_redirects:
                    loop = " (a redirect loop)" if target in visited else ""
                    raise FetchFailedError(
                        f"{shown(requested)} redirected more than {policy.max_redirects} "
                        f"times{loop}",
                        reason="redirects",
                    )
                logger.debug("redirect %s -> %s", shown(current), shown(target))
                visited.append(target)
                continue
            if not 200 <= response.status_code < 300:
                raise FetchFailedError(
                    f"{shown(current)} answered HTTP {response.status_code} "
                    f"{response.reason_phrase}",
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
                    f"{shown(current)} has no Content-Type and does not look like HTML",
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
