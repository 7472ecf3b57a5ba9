"""Fetch one web page for the researcher, and refuse anything that is not a public web page.

The researcher agent chooses URLs from search results and from text it has read, and page
text is untrusted: a page can tell the agent to fetch ``http://169.254.169.254/`` or a
service on the machine running Alex. So every request goes through these checks:

- **The URL** (before any network traffic): at most 2,048 characters, well formed in
  every part (a malformed URL is a refusal, never an exception from httpx or idna), http
  or https only, no ``user:password@``, a host, and no IPv4 address in a legacy numeric
  form (``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``) that resolvers read
  differently from one another.
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

The modules, one job each: ``errors`` (the two errors), ``policy`` (FetchPolicy),
``urls`` (checks with no network), ``addresses`` (address checks and the one DNS lookup),
``transport`` (GuardedClient), ``body`` (the capped body reader), ``fetcher`` (fetch_page).
Decoding (``alex.decoding``) and HTML to text (``alex.html_text``) are shared with
``alex ingest``, which reads local ``.html`` files the same way.
"""

from alex.decoding import decode_body
from alex.research.fetch.addresses import IPAddress, address_problem, checked_addresses
from alex.research.fetch.errors import FetchFailedError, FetchRefusedError
from alex.research.fetch.fetcher import HTML_TYPES, TEXT_TYPES, Page, afetch_page, fetch_page
from alex.research.fetch.policy import DEFAULT_MAX_BYTES, USER_AGENT, FetchPolicy
from alex.research.fetch.transport import GuardedClient

__all__ = [
    "DEFAULT_MAX_BYTES",
    "HTML_TYPES",
    "TEXT_TYPES",
    "USER_AGENT",
    "FetchFailedError",
    "FetchPolicy",
    "FetchRefusedError",
    "GuardedClient",
    "IPAddress",
    "Page",
    "address_problem",
    "afetch_page",
    "checked_addresses",
    "decode_body",
    "fetch_page",
]
