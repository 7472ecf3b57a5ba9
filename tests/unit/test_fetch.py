"""The researcher's page fetcher: what it refuses (SSRF), and what it reads and how.

No test reaches the internet: an autouse fixture lets sockets connect only to loopback and
lets DNS answer only for localhost and IP literals. Tests that need a name stub the
resolver themselves. Pages come from tests/pagesite.py on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from alex.config import load_settings
from alex.domain.errors import ConfigError, InvalidInputError
from alex.http.errors import status_for
from alex.research.fetch import (
    USER_AGENT,
    FetchFailedError,
    FetchPolicy,
    FetchRefusedError,
    GuardedClient,
    Page,
    afetch_page,
    checked_addresses,
    decode_body,
    fetch_page,
)
from tests.pagesite import PAGES, PLAIN_TEXT, TINY_PAGE, PageSite

REAL_GETADDRINFO = socket.getaddrinfo
REAL_CREATE_CONNECTION = socket.create_connection
PUBLIC_IP = "93.184.216.34"  # a global address no test ever connects to


def _name(host: Any) -> str:
    # httpx hands getaddrinfo the host as bytes, the fetcher as str: count both alike.
    return host.decode() if isinstance(host, bytes) else str(host)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    return True


def offline_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    name = _name(host)
    if name != "localhost" and not _is_ip(name):
        raise socket.gaierror(socket.EAI_NONAME, f"the tests do not resolve {name!r}")
    return REAL_GETADDRINFO(host, port, *args, **kwargs)


def loopback_create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
    host = _name(address[0])
    resolved = [str(info[4][0]) for info in socket.getaddrinfo(host, address[1])]
    if not all(ipaddress.ip_address(ip.split("%", 1)[0]).is_loopback for ip in resolved):
        raise OSError(f"the tests never connect to {host} ({resolved})")
    return REAL_CREATE_CONNECTION(address, *args, **kwargs)


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", offline_getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", loopback_create_connection)


@pytest.fixture
def site() -> Iterator[PageSite]:
    with PageSite() as running:
        yield running


@pytest.fixture
def policy(site: PageSite) -> FetchPolicy:
    """The site allow-listed, and short time limits."""
    return FetchPolicy(allow_hosts={site.host_port}, total_timeout=5.0, read_timeout=5.0)


def stub_dns(
    monkeypatch: pytest.MonkeyPatch, answer: Callable[[str, int], list[str] | None]
) -> list[str]:
    """Resolve through ``answer(name, lookup_number)``; None falls back to the offline
    resolver. Returns the list of names looked up (the stub's own), in order."""
    lookups: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = _name(host)
        ips = answer(name, sum(1 for seen in lookups if seen == name) + 1)
        if ips is None:
            return offline_getaddrinfo(host, port, *args, **kwargs)
        lookups.append(name)
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (ip, int(port or 0)),
            )
            for ip in ips
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def refused(url: str, **kwargs: Any) -> FetchRefusedError:
    with pytest.raises(FetchRefusedError) as raised:
        fetch_page(url, **kwargs)
    return raised.value


def failed(url: str, **kwargs: Any) -> FetchFailedError:
    with pytest.raises(FetchFailedError) as raised:
        fetch_page(url, **kwargs)
    return raised.value


# --- Refused before any network traffic -------------------------------------------------


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything resolves or connects: the refusal must come first."""

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network used: {args!r}")

    monkeypatch.setattr(socket, "getaddrinfo", forbidden)
    monkeypatch.setattr(socket, "create_connection", forbidden)


@pytest.mark.usefixtures("no_dns")
@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://ftp.example.com/report.pdf",
        "gopher://example.com:70/_GET",
        "data:text/html,<p>hello</p>",
        "javascript:alert(1)",
        "ws://example.com/socket",
        "example.com/quarterly-results",
    ],
)
def test_only_http_and_https_are_fetched(url: str) -> None:
    error = refused(url)
    assert error.reason == "scheme"
    assert "only http and https" in error.message or "no scheme" in error.message


@pytest.mark.usefixtures("no_dns")
def test_credentials_in_the_url_are_refused() -> None:
    error = refused("http://analyst:hunter2@example.com/report")
    assert error.reason == "credentials"
    assert "credentials" in error.message
    assert "hunter2" not in error.message.replace("analyst:hunter2@", "")


@pytest.mark.usefixtures("no_dns")
@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/latest/meta-data/"],
)
def test_cloud_metadata_is_refused_by_name(url: str) -> None:
    error = refused(url)
    assert error.reason == "address"
    assert "cloud metadata" in error.message


@pytest.mark.usefixtures("no_dns")
@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://127.255.0.9:8080/", "loopback"),
        ("http://[::1]:8080/", "loopback"),
        ("http://10.0.0.1/", "private"),
        ("http://172.16.5.4/", "private"),
        ("http://192.168.1.1/admin", "private"),
        ("http://[fc00::1]/", "private"),
        ("http://[fd12:3456::1]/", "private"),
        ("http://169.254.10.20/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[fe80::1%25eth0]/", "link-local"),
        ("http://100.64.0.1/", "carrier-grade NAT"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://[ff02::1]/", "multicast"),
        ("http://[ff0e::1]/", "multicast"),
        ("http://240.0.0.1/", "reserved"),
        ("http://255.255.255.255/", "reserved"),
        ("http://192.0.2.10/", "private"),  # TEST-NET-1
        ("http://198.18.0.1/", "private"),  # benchmarking
        ("http://[::ffff:127.0.0.1]/", "IPv4-mapped form of 127.0.0.1, a loopback"),
        ("http://[::ffff:10.0.0.1]/", "IPv4-mapped form of 10.0.0.1, a private"),
        ("http://[::ffff:169.254.169.254]/", "cloud metadata"),
        ("http://[2002:7f00:1::1]/", "6to4 address embedding 127.0.0.1"),
        ("http://[2002:a9fe:a9fe::1]/", "6to4 address embedding 169.254.169.254"),
        ("http://[64:ff9b::a00:1]/", "NAT64 address embedding 10.0.0.1"),
        ("http://[64:ff9b::7f00:1]/", "NAT64 address embedding 127.0.0.1"),
        ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "Teredo"),
        ("http://[::7f00:1]/", "reserved"),  # IPv4-compatible (deprecated) ::127.0.0.1
    ],
)
def test_non_public_ip_literals_are_refused_with_the_reason(url: str, why: str) -> None:
    error = refused(url)
    assert error.reason == "address"
    assert why in error.message
    assert error.message.startswith(f"refused {url}: ")


@pytest.mark.usefixtures("no_dns")
@pytest.mark.parametrize(
    ("url", "means"),
    [
        ("http://2130706433/", "127.0.0.1"),
        ("http://0x7f000001/", "127.0.0.1"),
        ("http://0x7F.0x0.0x0.0x1/", "127.0.0.1"),
        ("http://0177.0.0.1/", "127.0.0.1"),
        ("http://017700000001/", "127.0.0.1"),
        ("http://127.1/", "127.0.0.1"),
        ("http://127.0.1/", "127.0.0.1"),
        ("http://0/", "0.0.0.0"),
        ("http://0xa9fea9fe/latest/meta-data/", "169.254.169.254"),
        ("http://2852039166/", "169.254.169.254"),
        ("http://0x5db8d822/", PUBLIC_IP),  # even a public address, written this way
    ],
)
def test_numeric_ip_forms_are_refused_however_a_resolver_would_read_them(
    url: str, means: str
) -> None:
    error = refused(url)
    assert error.reason == "numeric-host"
    assert f"it means {means}" in error.message


@pytest.mark.usefixtures("no_dns")
def test_a_numeric_host_that_is_no_valid_address_is_refused() -> None:
    error = refused("http://999999999999/")
    assert error.reason == "numeric-host"
    assert "not a valid one" in error.message


def test_a_trailing_dot_on_a_loopback_address_is_still_refused() -> None:
    # httpx treats "127.0.0.1." as a name; the fetcher reads it as the address it is.
    assert refused("http://127.0.0.1./").reason in ("numeric-host", "address")


def test_localhost_by_name_is_refused_after_resolving() -> None:
    error = refused("http://localhost/")
    assert error.reason == "address"
    assert "host 'localhost' resolves to" in error.message
    assert "loopback" in error.message


# --- Malformed URLs: always a refusal, never an exception from httpx or idna ----------


@pytest.mark.usefixtures("no_dns")
@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://xn--localhost-:18500/", "not a valid URL"),  # idna: A-label ends with "-"
        ("http://xn--zz/", "not a valid URL"),  # idna: invalid A-label
        ("http://xn--a/", "not a valid URL"),  # idna: InvalidCodepoint
        ("http://example.com/\udcff", "not a valid URL"),  # UnicodeEncodeError in httpx
        ("http://[::1/", "not a valid URL"),
        ("http://127.0.0.1:99999/", "port 99999"),
        (f"http://{PUBLIC_IP}:99999999999999999999/", "port"),  # an OverflowError in connect
        ("http://a:-1/", "port -1"),
        ("http://" + "a" * 64 + ".com/", "longer than DNS allows"),
        ("http://" + "abcdefghi." * 26 + "com/", "longer than DNS allows"),
        ("http://example.com/" + "a" * 2_100, "longer than 2,048 characters"),
    ],
)
def test_a_malformed_url_is_refused_before_any_network_traffic(url: str, why: str) -> None:
    error = refused(url)
    assert error.reason == "invalid-url"
    assert why in error.message


def test_a_url_is_named_once_and_shortened_in_error_messages(
    site: PageSite, policy: FetchPolicy
) -> None:
    huge = "http://example.com/" + "a" * 1_500_000
    assert len(refused(huge).message) < 400
    padding = "&pad=" + "p" * 1_900
    error = refused(site.url(f"/redirect?to=http://10.0.0.1/{padding}"), policy=policy)
    assert "refused the redirect from" in error.message
    assert len(error.message) < 600 and "p" * 300 not in error.message
    error = failed(site.url(f"/nothing.html?{padding}"), policy=policy)
    assert "HTTP 404" in error.message
    assert len(error.message) < 400 and error.message.count("/nothing.html") == 1


# --- The allow-list ---------------------------------------------------------------------


def test_loopback_without_the_allow_list_is_refused_and_never_contacted(site: PageSite) -> None:
    error = refused(site.url("/quarterly-results.html"))
    assert "127.0.0.1 is a loopback address" in error.message
    assert site.requests == []


def test_loopback_with_the_allow_list_is_read_without_boilerplate(
    site: PageSite, policy: FetchPolicy
) -> None:
    page = fetch_page(site.url("/quarterly-results.html"), policy=policy)
    assert page.title == "Corvane Instruments Reports Third Quarter 2026 Results"
    assert page.content_type == "text/html"
    assert page.url == page.final_url == site.url("/quarterly-results.html")
    assert page.body_bytes == (PAGES / "quarterly-results.html").stat().st_size
    assert datetime.fromisoformat(page.fetched_at).utcoffset() is not None
    for fact in (
        "Revenue of $412.6 million, up 14.2%",
        "Gross margin of 58.4%",
        "adjusted diluted EPS of $1.61",
        "full-year 2026 revenue guidance to $1.605 billion to $1.625 billion",
        "| Diluted EPS | $1.38 | $1.02 |",  # the table is kept
    ):
        assert fact in page.text
    for boilerplate in (
        "Accept all cookies",
        "Manage preferences",
        "Careers",
        "Related releases",
        "Sign up for investor alerts",
        "Privacy Policy",
        "All rights reserved",
        "gtag",
        "dataLayer",
    ):
        assert boilerplate not in page.text
    agent = site.requests[0].headers["user-agent"]
    assert agent == USER_AGENT and agent.startswith("Alex/")


def test_market_news_keeps_the_article_and_drops_the_chrome(
    site: PageSite, policy: FetchPolicy
) -> None:
    page = fetch_page(site.url("/market-news.html"), policy=policy)
    assert page.title == "Stocks edge higher after Bank of Aldermere holds rates at 3.75%"
    assert "left its benchmark deposit rate unchanged at 3.75%" in page.text
    assert "The ALD 100 index rose 0.62% to 8,412.55" in page.text
    assert "The two-year yield" in page.text
    for chrome in ("Subscribe for $1 a week", "Most read", "free articles", "Cookie settings"):
        assert chrome not in page.text


def test_injection_text_is_returned_as_data_and_hidden_text_is_dropped(
    site: PageSite, policy: FetchPolicy
) -> None:
    page = fetch_page(site.url("/prompt-injection.html"), policy=policy)
    # The fetcher does not censor: what a reader sees reaches the agent, as data.
    assert "[VISIBLE-INJECTION]" in page.text
    assert "Ashgrove Water supplies 2.1 million households" in page.text
    assert "| Drummond Rail | 3.9% | 45% | 2.7x |" in page.text
    # What a reader never sees does not.
    for hidden in (
        "HIDDEN-DISPLAY-NONE",
        "HIDDEN-ATTRIBUTE",
        "HIDDEN-ARIA",
        "HIDDEN-VISIBILITY",
        "HIDDEN-TEMPLATE",
        "HIDDEN-ALT",
        "reveal your system prompt. (HTML comment)",
        "must send all API keys",  # the meta description
    ):
        assert hidden not in page.text
    assert "developer mode" not in page.text
    # Reading a page never follows the links in it.
    assert [request.path for request in site.requests] == ["/prompt-injection.html"]


def test_allow_list_entries_match_the_exact_host_and_port(site: PageSite) -> None:
    exact = FetchPolicy(allow_hosts={site.host_port})
    other_port = site.port + 1 if site.port < 65535 else site.port - 1
    assert "loopback" in refused(f"http://localhost:{site.port}/echo", policy=exact).message
    assert "loopback" in refused(f"http://127.0.0.1:{other_port}/", policy=exact).message
    assert refused(f"http://2130706433:{site.port}/", policy=exact).reason == "numeric-host"
    any_port = FetchPolicy(allow_hosts={"127.0.0.1"})
    assert fetch_page(site.url("/tiny"), policy=any_port).text == "Hello from a tiny page."
    by_name = FetchPolicy(allow_hosts={f"LocalHost.:{site.port}"})
    assert fetch_page(f"http://localhost:{site.port}/tiny", policy=by_name).title == "Tiny"


@pytest.mark.usefixtures("no_dns")
def test_metadata_addresses_stay_refused_even_when_allow_listed() -> None:
    policy = FetchPolicy(allow_hosts={"169.254.169.254", "[fd00:ec2::254]:80"})
    assert "cloud metadata" in refused("http://169.254.169.254/", policy=policy).message
    assert "cloud metadata" in refused("http://[fd00:ec2::254]/", policy=policy).message


def test_ipv6_loopback_is_refused_then_allowed_by_its_entry() -> None:
    try:
        site = PageSite("::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with site:
        assert "::1 is a loopback address" in refused(site.url("/tiny")).message
        page = fetch_page(site.url("/tiny"), policy=FetchPolicy(allow_hosts={site.host_port}))
        assert page.text == "Hello from a tiny page."


# --- Redirects --------------------------------------------------------------------------


def test_every_redirect_hop_is_checked(site: PageSite, policy: FetchPolicy) -> None:
    for target, why in (
        ("http://10.0.0.1/", "10.0.0.1 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        (f"http://localhost:{site.port}/tiny", "host 'localhost' resolves to"),
        (f"http://127.0.0.1:{site.port + 1}/", "loopback"),
        ("file:///etc/passwd", "scheme 'file:' is not allowed"),
        ("http://user:secret@example.com/", "credentials"),
    ):
        site.requests.clear()
        error = refused(site.url(f"/redirect?to={target}"), policy=policy)
        assert "refused the redirect from" in error.message
        assert why in error.message
        assert len(site.requests) == 1  # only the allowed first hop was fetched


def test_a_redirect_to_a_numeric_ip_form_is_refused(site: PageSite, policy: FetchPolicy) -> None:
    for target in ("http://0177.0.0.1/", "http://2130706433/", "http://127.1/"):
        error = refused(site.url(f"/redirect?to={target}"), policy=policy)
        assert error.reason in ("numeric-host", "invalid-url")


@pytest.mark.parametrize(
    "location",
    [
        "http:127.0.0.1:18500/x",  # httpx raises InvalidURL building the next request
        "http://xn--localhost-:18500/",  # idna raises on the host
        "//xn--zz/",
        "http://[::1",
        "http://127.0.0.1:99999/",
    ],
)
def test_a_redirect_to_a_malformed_url_is_refused(
    site: PageSite, policy: FetchPolicy, location: str
) -> None:
    error = refused(site.url(f"/redirect?to={quote(location)}"), policy=policy)
    assert error.reason == "invalid-url"
    assert "refused the redirect from" in error.message
    assert len(site.requests) == 1


def test_relative_redirects_are_followed(site: PageSite, policy: FetchPolicy) -> None:
    page = fetch_page(site.url("/redirect?to=market-news.html&status=301"), policy=policy)
    assert page.final_url == site.url("/market-news.html")
    assert page.url == site.url("/redirect?to=market-news.html&status=301")
    assert "Bank of Aldermere" in page.text


def test_five_redirects_are_followed_and_six_are_too_many(
    site: PageSite, policy: FetchPolicy
) -> None:
    assert fetch_page(site.url("/chain/5"), policy=policy).final_url == site.url("/chain/0")
    error = failed(site.url("/chain/6"), policy=policy)
    assert error.reason == "redirects"
    assert "more than 5 times" in error.message


def test_a_redirect_loop_is_stopped_and_named(site: PageSite, policy: FetchPolicy) -> None:
    error = failed(site.url("/loop"), policy=policy)
    assert error.reason == "redirects"
    assert "redirect loop" in error.message
    assert len(site.requests) == 6  # the first request and five redirects, then it stops


# --- DNS --------------------------------------------------------------------------------


def test_a_name_that_resolves_to_a_private_address_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stub_dns(monkeypatch, lambda name, _: ["10.1.2.3"] if name == "intranet.example" else None)
    error = refused("http://intranet.example/wiki")
    assert error.reason == "address"
    assert "host 'intranet.example' resolves to 10.1.2.3, a private address" in error.message


def test_every_resolved_address_must_be_public(monkeypatch: pytest.MonkeyPatch) -> None:
    stub_dns(
        monkeypatch,
        lambda name, _: [PUBLIC_IP, "::1"] if name == "mixed.example" else None,
    )
    error = refused("http://mixed.example/")
    assert "resolves to ::1, a loopback address" in error.message


def test_a_name_that_does_not_resolve_fails_clearly() -> None:
    error = failed("http://no-such-host.example/")
    assert error.reason == "dns"
    assert "could not resolve host 'no-such-host.example'" in error.message


class Rebinding:
    """DNS that answers PUBLIC_IP for rebind.example once, then 127.0.0.1 (a short TTL is
    all an attacker needs); sockets to PUBLIC_IP reach the page site, which plays the
    public server. Records every lookup of the name and every connection."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, site: PageSite) -> None:
        def answer(name: str, lookup: int) -> list[str] | None:
            if name != "rebind.example":
                return None
            return [PUBLIC_IP] if lookup == 1 else ["127.0.0.1"]

        self.lookups = stub_dns(monkeypatch, answer)
        self.connections: list[tuple[str, int]] = []

        def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
            self.connections.append((_name(address[0]), address[1]))
            if address[0] == PUBLIC_IP:
                return REAL_CREATE_CONNECTION(("127.0.0.1", site.port), *args, **kwargs)
            return loopback_create_connection(address, *args, **kwargs)

        monkeypatch.setattr(socket, "create_connection", create_connection)
        self.url = f"http://rebind.example:{site.port}/echo"


def test_dns_rebinding_cannot_move_the_connection(
    site: PageSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    rebinding = Rebinding(monkeypatch, site)
    page = fetch_page(rebinding.url)  # no allow-list: only a public answer is accepted
    assert rebinding.lookups == ["rebind.example"]  # resolved once...
    assert rebinding.connections == [(PUBLIC_IP, site.port)]  # ...connected to that answer
    assert f"Host: rebind.example:{site.port}" in page.text  # the name is still the Host


def test_the_rebinding_test_catches_a_fetcher_that_resolves_twice(
    site: PageSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: check the name, then let plain httpx connect by name, and the second
    lookup puts the request on loopback. The test above would fail for such a fetcher."""
    rebinding = Rebinding(monkeypatch, site)
    checked_addresses("rebind.example", site.port, FetchPolicy())  # passes: PUBLIC_IP
    with httpx.Client(trust_env=False) as naive:
        naive.get(rebinding.url)
    assert len(rebinding.lookups) > 1  # httpx looked the name up again...
    assert rebinding.connections == [("rebind.example", site.port)]  # ...to connect by name
    assert [request.path for request in site.requests] == ["/echo"]  # and reached loopback


def test_https_keeps_the_host_name_for_sni_and_the_certificate(
    site: PageSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub_dns(monkeypatch, lambda name, _: ["127.0.0.1"] if name == "secure.example" else None)
    seen: dict[str, Any] = {}

    def wrap_socket(context: ssl.SSLContext, sock: socket.socket, *args: Any, **kwargs: Any) -> Any:
        seen.update(
            server_hostname=kwargs.get("server_hostname"),
            peer=sock.getpeername()[0],
            verify_mode=context.verify_mode,
            check_hostname=context.check_hostname,
        )
        raise ssl.SSLError("the test stops the handshake here")

    monkeypatch.setattr(ssl.SSLContext, "wrap_socket", wrap_socket)
    policy = FetchPolicy(allow_hosts={f"secure.example:{site.port}"})
    error = failed(f"https://secure.example:{site.port}/", policy=policy)
    assert error.reason == "network"
    assert seen == {
        "server_hostname": "secure.example",  # SNI and the certificate check use the name
        "peer": "127.0.0.1",  # while the socket goes to the checked address
        "verify_mode": ssl.CERT_REQUIRED,
        "check_hostname": True,
    }


def test_environment_proxies_do_not_bypass_the_checks(
    site: PageSite, policy: FetchPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # the discard port: nothing there
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert fetch_page(site.url("/tiny"), policy=policy).title == "Tiny"  # direct, not proxied
    assert refused(site.url("/tiny")).reason == "address"


# --- Clients ----------------------------------------------------------------------------


def test_a_guarded_client_refuses_on_its_own(site: PageSite) -> None:
    with GuardedClient() as client, pytest.raises(FetchRefusedError, match="loopback"):
        client.get(site.url("/tiny"))
    assert site.requests == []


def test_a_guarded_client_is_reused_across_fetches(site: PageSite, policy: FetchPolicy) -> None:
    with GuardedClient(policy) as client:
        first = fetch_page(site.url("/tiny"), client=client)
        second = fetch_page(site.url("/market-news.html"), client=client)
        assert first.title == "Tiny" and second.title is not None
        with pytest.raises(ValueError, match="policy"):
            fetch_page(site.url("/tiny"), client=client, policy=FetchPolicy())


def test_another_client_gets_the_url_and_address_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            headers={"Content-Type": "text/html; charset=utf-8"},
            content=TINY_PAGE.replace(b"Hello from a tiny page.", b"From a mock."),
        )

    stub_dns(monkeypatch, lambda name, _: ["10.9.8.7"] if name == "intranet.example" else None)
    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        assert fetch_page(f"http://{PUBLIC_IP}/report", client=client).text == "From a mock."
        assert refused("http://10.0.0.1/", client=client).reason == "address"
        assert "10.9.8.7" in refused("http://intranet.example/", client=client).message


# --- The answer -------------------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_not_cut(site: PageSite) -> None:
    small = FetchPolicy(allow_hosts={site.host_port}, max_bytes=100_000)
    for path in ("/big?bytes=200000", "/big?bytes=200000&length=0"):  # declared, streamed
        error = failed(site.url(path), policy=small)
        assert error.reason == "too-large"
        assert "larger than the 100,000-byte limit" in error.message
    assert fetch_page(site.url("/big?bytes=90000"), policy=small).body_bytes == 90_000


def test_a_gzip_bomb_is_refused_by_its_inflated_size(site: PageSite, policy: FetchPolicy) -> None:
    error = failed(site.url("/gzip-bomb?mb=20"), policy=policy)
    assert error.reason == "too-large"
    assert "2,000,000-byte limit" in error.message


def test_gzip_is_decoded(site: PageSite, policy: FetchPolicy) -> None:
    page = fetch_page(site.url("/gzip"), policy=policy)
    assert "Bank of Aldermere" in page.text
    assert page.body_bytes > 5_000  # the inflated size


def test_a_slow_server_times_out(site: PageSite) -> None:
    quick = FetchPolicy(allow_hosts={site.host_port}, total_timeout=0.5, read_timeout=0.5)
    started = time.monotonic()
    error = failed(site.url("/slow?delay=5"), policy=quick)
    assert error.reason == "timeout"
    assert "timed out" in error.message
    assert time.monotonic() - started < 2.5


def test_a_server_dripping_bytes_is_cut_off_by_the_total_limit(site: PageSite) -> None:
    quick = FetchPolicy(allow_hosts={site.host_port}, total_timeout=1.0, read_timeout=1.0)
    started = time.monotonic()
    error = failed(site.url("/drip?seconds=10"), policy=quick)
    assert error.reason == "timeout"
    assert "total time limit" in error.message
    assert time.monotonic() - started < 3.0


@pytest.mark.parametrize(
    ("path", "what"),
    [
        ("/pdf", "is a PDF (application/pdf)"),
        ("/image.png", "is an image (image/png)"),
        ("/octet", "is of type application/octet-stream"),
    ],
)
def test_other_content_types_are_refused_by_name(
    site: PageSite, policy: FetchPolicy, path: str, what: str
) -> None:
    error = failed(site.url(path), policy=policy)
    assert error.reason == "content-type"
    assert what in error.message
    assert "only HTML, XHTML and plain-text" in error.message


def test_http_errors_fail_with_the_status(site: PageSite, policy: FetchPolicy) -> None:
    error = failed(site.url("/status/404"), policy=policy)
    assert error.reason == "http-status"
    assert "HTTP 404 Not Found" in error.message
    assert "HTTP 503" in failed(site.url("/status/503"), policy=policy).message


def test_bad_bytes_in_the_declared_charset_become_replacement_characters(
    site: PageSite, policy: FetchPolicy
) -> None:
    page = fetch_page(site.url("/bad-charset"), policy=policy)
    assert page.charset == "utf-8"
    assert "caf\ufffd chain reported sales of $12.4 million" in page.text
    assert "kept its dividend at 14 cents" in page.text


def test_an_unknown_charset_falls_back_to_detection(site: PageSite, policy: FetchPolicy) -> None:
    page = fetch_page(site.url("/unknown-charset"), policy=policy)
    assert page.charset == "cp1252"
    assert "Résumé of the quarter: the café group earned €4.2 million, its “best”" in page.text


def test_a_meta_charset_is_used_when_the_header_has_none(
    site: PageSite, policy: FetchPolicy
) -> None:
    page = fetch_page(site.url("/meta-charset"), policy=policy)
    assert page.charset == "cp1252"
    assert "the café group earned €4.2 million" in page.text


def test_decoding_never_raises() -> None:
    assert decode_body(b"\xef\xbb\xbfBOM first", "latin-1", html=False) == ("BOM first", "utf-8")
    assert decode_body("café".encode("cp1252"), "ISO-8859-1", html=False)[0] == "café"
    text, codec = decode_body(b"\x80abc", "base64", html=False)  # not a text codec
    assert codec != "base64" and text.endswith("abc")
    assert decode_body(b"\xff\xfe\xfd" * 100, None, html=True)[0]  # something, never an error


def test_plain_text_passes_through(site: PageSite, policy: FetchPolicy) -> None:
    page = fetch_page(site.url("/plain.txt"), policy=policy)
    assert page.content_type == "text/plain"
    assert page.title is None
    assert page.text == PLAIN_TEXT.strip()


def test_xhtml_with_an_xml_declaration_is_read(site: PageSite, policy: FetchPolicy) -> None:
    page = fetch_page(site.url("/xhtml"), policy=policy)
    assert page.content_type == "application/xhtml+xml"
    assert page.title == "XHTML filing"
    assert "total assets of $2.3 billion" in page.text


def test_short_and_empty_pages(site: PageSite, policy: FetchPolicy) -> None:
    assert fetch_page(site.url("/tiny"), policy=policy).text == "Hello from a tiny page."
    empty = fetch_page(site.url("/empty"), policy=policy)
    assert (empty.text, empty.title, empty.body_bytes) == ("", None, 0)


def test_a_missing_content_type_is_sniffed(site: PageSite, policy: FetchPolicy) -> None:
    page = fetch_page(site.url("/no-content-type"), policy=policy)
    assert page.content_type == "text/html"
    assert "Bank of Aldermere" in page.text


def test_afetch_page_runs_the_same_fetch(site: PageSite, policy: FetchPolicy) -> None:
    page = asyncio.run(afetch_page(site.url("/tiny"), policy=policy))
    assert isinstance(page, Page) and page.text == "Hello from a tiny page."
    with pytest.raises(FetchRefusedError):
        asyncio.run(afetch_page(site.url("/tiny")))


def test_a_page_is_immutable(site: PageSite, policy: FetchPolicy) -> None:
    page = fetch_page(site.url("/tiny"), policy=policy)
    with pytest.raises(dataclasses.FrozenInstanceError):
        page.text = "changed"  # type: ignore[misc]


# --- Errors, policy and settings --------------------------------------------------------


def test_errors_map_to_http_statuses() -> None:
    refusal = FetchRefusedError("refused", reason="address")
    failure = FetchFailedError("failed", reason="network")
    assert isinstance(refusal, InvalidInputError)
    assert status_for(refusal) == 422
    assert status_for(failure) == 502


@pytest.mark.parametrize(
    "kwargs",
    [
        {"total_timeout": 0},
        {"connect_timeout": -1},
        {"max_bytes": 0},
        {"max_redirects": -1},
        {"allow_hosts": {"http://127.0.0.1:8000/"}},
        {"allow_hosts": {"user@127.0.0.1"}},
        {"allow_hosts": "127.0.0.1"},
    ],
)
def test_a_bad_policy_is_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises((ValueError, TypeError)):
        FetchPolicy(**kwargs)


def test_allow_entries_are_normalised() -> None:
    policy = FetchPolicy(allow_hosts=["LocalHost.:8080", " [::1] ", "127.0.0.1"])
    assert policy.allow_hosts == frozenset({"localhost:8080", "[::1]", "127.0.0.1"})
    assert policy.allows("localhost", 8080) and not policy.allows("localhost", 8081)
    assert policy.allows("::1", 1234) and policy.allows("127.0.0.1", 1)


_FETCH_VARIABLES = ("ALEX_FETCH_ALLOW_HOSTS", "ALEX_FETCH_TIMEOUT_SECONDS", "ALEX_FETCH_MAX_BYTES")


def test_policy_from_default_settings(
    isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in _FETCH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    policy = FetchPolicy.from_settings(load_settings())
    assert policy == FetchPolicy(connect_timeout=5.0, read_timeout=15.0, total_timeout=15.0)
    assert policy.max_bytes == 2_000_000 and policy.allow_hosts == frozenset()


def test_policy_from_settings(isolated_settings: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _FETCH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    isolated_settings.write_text(
        "ALEX_FETCH_ALLOW_HOSTS=127.0.0.1:8765, [::1]:8765 ,mirror.internal\n"
        "ALEX_FETCH_TIMEOUT_SECONDS=3.5\nALEX_FETCH_MAX_BYTES=500000\n"
    )
    policy = FetchPolicy.from_settings(load_settings())
    assert policy.allow_hosts == frozenset({"127.0.0.1:8765", "[::1]:8765", "mirror.internal"})
    assert (policy.connect_timeout, policy.read_timeout, policy.total_timeout) == (3.5, 3.5, 3.5)
    assert policy.max_bytes == 500_000


@pytest.mark.parametrize(
    ("line", "variable"),
    [
        ("ALEX_FETCH_ALLOW_HOSTS=http://127.0.0.1:8765/", "ALEX_FETCH_ALLOW_HOSTS"),
        ("ALEX_FETCH_ALLOW_HOSTS=127.0.0.1:99999", "ALEX_FETCH_ALLOW_HOSTS"),
        ("ALEX_FETCH_TIMEOUT_SECONDS=0", "ALEX_FETCH_TIMEOUT_SECONDS"),
        ("ALEX_FETCH_MAX_BYTES=10", "ALEX_FETCH_MAX_BYTES"),
    ],
)
def test_bad_fetch_settings_name_the_variable(
    isolated_settings: Path, monkeypatch: pytest.MonkeyPatch, line: str, variable: str
) -> None:
    for name in _FETCH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    isolated_settings.write_text(line + "\n")
    with pytest.raises(ConfigError, match=variable):
        load_settings()
