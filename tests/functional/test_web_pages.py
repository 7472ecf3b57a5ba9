"""The web pages in process (alex.web): sign-in and its cookie, CSRF and the cross-site
check, security headers, the key never in a page or a redirect, and the dashboard's figures
equal to the JSON API's, escaped, from one read of the portfolio.

The portfolio store is the real SQLite one in the test's data folder; the documents side
runs on the fakes (no model load)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from alex.http.app import create_app
from alex.portfolio.service import PortfolioService
from alex.portfolio_tables import money_text
from alex.services import Services
from alex.web.identity import COOKIE_NAME
from alex.web.pages import money
from alex.web.security import CONTENT_SECURITY_POLICY

KEY = "web-pages-key-0123456789"
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "portfolio"
HOSTILE_ACCOUNT = '<script>alert("account")</script>'
HOSTILE_INSTRUMENT = '"><img src=x onerror=alert(1)>'


class Recorder:
    """Every answer a client got, so a test can look through all of them for the key."""

    def __init__(self) -> None:
        self.responses: list[httpx.Response] = []

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        self.responses.append(response)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def app_client(fake_services: Services, recorder: Recorder) -> Iterator[TestClient]:
    """A browser-like client: no key header, follows nothing by itself."""
    app = create_app(fake_services, KEY)
    with TestClient(
        app, raise_server_exceptions=False, follow_redirects=False, base_url="http://alex.test"
    ) as client:
        client.event_hooks["response"].append(recorder)
        yield client


def api(client: TestClient, method: str, path: str, **kwargs: Any) -> Any:
    response = client.request(method, path, headers={"x-api-key": KEY}, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def import_household(client: TestClient) -> None:
    files = [{"name": p.name, "text": p.read_text("utf-8")} for p in sorted(SAMPLES.glob("*.csv"))]
    for file in files:  # hostile names, as a user's own files could carry
        if file["name"] == "accounts.csv":
            file["text"] = file["text"].replace("Joint brokerage", HOSTILE_ACCOUNT)
        if file["name"] == "instruments.csv":
            file["text"] = file["text"].replace(
                "Meridian Total US Market ETF",
                f'"{HOSTILE_INSTRUMENT.replace(chr(34), 2 * chr(34))}"',
            )
    api(client, "POST", "/portfolio/import", json={"files": files})


def sign_in(client: TestClient) -> str:
    """Signs in; the CSRF token of the new session (from the dashboard's sign-out form)."""
    response = client.post("/login", data={"api_key": KEY})
    assert response.status_code == 303 and response.headers["location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    marker = 'name="csrf_token" value="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


def test_pages_need_a_session_and_redirect_to_sign_in(app_client: TestClient) -> None:
    response = app_client.get("/")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    login = app_client.get("/login")
    assert login.status_code == 200
    assert '<label for="api-key">API key</label>' in login.text
    assert 'type="password"' in login.text


def test_a_wrong_key_is_refused_with_no_cookie(app_client: TestClient) -> None:
    response = app_client.post("/login", data={"api_key": KEY[:-1] + "X"})
    assert response.status_code == 401
    assert "set-cookie" not in response.headers
    assert "not the API key of this server" in response.text
    assert app_client.get("/").status_code == 303
    missing = app_client.post("/login", data={})
    assert missing.status_code == 401


def test_the_session_cookie_is_signed_httponly_strict_and_expires(app_client: TestClient) -> None:
    response = app_client.post("/login", data={"api_key": KEY})
    cookie = response.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "max-age", "path", "samesite"} <= attributes
    assert "samesite=strict" in cookie.lower() and "path=/" in cookie.lower()
    assert "max-age=28800" in cookie.lower()  # 8 hours
    assert "secure" not in attributes  # plain http on loopback: a Secure cookie is not sent
    assert KEY not in cookie
    # Forged: the cookie's signature no longer matches.
    value = app_client.cookies[COOKIE_NAME]
    app_client.cookies.set(COOKIE_NAME, value[:-3] + "abc", domain="alex.test")
    assert app_client.get("/").status_code == 303


def test_the_cookie_is_secure_over_https(fake_services: Services) -> None:
    app = create_app(fake_services, KEY)
    with TestClient(app, base_url="https://alex.test", follow_redirects=False) as client:
        cookie = client.post("/login", data={"api_key": KEY}).headers["set-cookie"]
    assert "secure" in [part.strip().lower() for part in cookie.split(";")]


def test_the_json_api_keeps_its_key_and_ignores_the_cookie(app_client: TestClient) -> None:
    sign_in(app_client)
    refused = app_client.get("/portfolio")
    assert refused.status_code == 403 and refused.json() == {"message": "Forbidden"}
    assert app_client.get("/portfolio", headers={"x-api-key": KEY}).status_code == 200
    assert app_client.get("/health").status_code == 200


def test_sign_out_needs_the_csrf_token_and_a_same_site_request(app_client: TestClient) -> None:
    token = sign_in(app_client)
    assert app_client.post("/logout").status_code == 403
    assert app_client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    for headers in (
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
        {"origin": "https://evil.example"},
        {"origin": "null"},
    ):
        response = app_client.post("/logout", data={"csrf_token": token}, headers=headers)
        assert response.status_code == 403, headers
        assert "Request refused" in response.text
    assert app_client.get("/").status_code == 200  # still signed in: nothing happened
    # htmx sends the token as a header; a same-origin request passes.
    done = app_client.post(
        "/logout",
        headers={
            "x-csrf-token": token,
            "sec-fetch-site": "same-origin",
            "origin": "http://alex.test",
        },
    )
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert (
        COOKIE_NAME in done.headers["set-cookie"]
        and "max-age=0" in done.headers["set-cookie"].lower()
    )
    assert app_client.get("/").status_code == 303


def test_sign_in_from_another_site_is_refused(app_client: TestClient) -> None:
    response = app_client.post(
        "/login", data={"api_key": KEY}, headers={"sec-fetch-site": "cross-site"}
    )
    assert response.status_code == 403 and "set-cookie" not in response.headers


def test_security_headers_on_pages_api_and_files(app_client: TestClient) -> None:
    sign_in(app_client)
    for path in ("/login", "/", "/health", "/static/alex.css", "/portfolio", "/nowhere"):
        headers = app_client.get(path).headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path
        assert headers["x-frame-options"] == "DENY", path
    policy = CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe" not in policy  # no unsafe-inline, no unsafe-eval
    assert app_client.get("/").headers["cache-control"] == "no-store"
    # Swagger UI's page starts with FastAPI's inline script: it keeps the other headers.
    docs = app_client.get("/docs").headers
    assert "content-security-policy" not in docs and docs["x-content-type-options"] == "nosniff"


def test_an_unexpected_error_keeps_the_security_headers(
    app_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 500 is answered inside SecurityHeaders: Starlette's own last-resort handler sits
    outside every middleware the app adds, so its answer would carry none of them."""
    sign_in(app_client)

    def broken(services: Services) -> None:
        raise RuntimeError("<b>not for the browser</b>")

    monkeypatch.setattr("alex.web.pages.dashboard", broken)
    response = app_client.get("/")
    assert response.status_code == 500
    assert response.json() == {"message": "Internal server error"}
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def test_pages_have_no_inline_script_or_style(app_client: TestClient) -> None:
    sign_in(app_client)
    import_household(app_client)
    for path in ("/login", "/"):
        text = app_client.get(path).text
        assert "<script>" not in text and " style=" not in text and "<style" not in text
        assert " on" + "click=" not in text


def test_the_dashboard_shows_the_api_figures_escaped(app_client: TestClient) -> None:
    import_household(app_client)
    api(
        app_client,
        "PUT",
        "/portfolio/targets/asset_class",
        json={"weights": {"equity": "60", "bond": "30", "cash": "10"}},
    )
    shown = api(app_client, "GET", "/portfolio")
    findings = api(app_client, "GET", "/portfolio/xray")["findings"]
    sign_in(app_client)
    page = app_client.get("/").text
    total = shown["total"]["value"]
    assert f'<data id="total-value" value="{total}">{money(total)}</data>' in page
    assert money(total) == money_text(total)  # the CLI's text for the same figure
    for account in shown["accounts"]:
        assert money(account["total"]["value"]) in page
    for finding in findings:
        assert finding["severity"] in page
    for bucket in shown["allocations"]["asset_class"]["buckets"]:
        assert f"{Decimal(bucket['drift']):+,}" in page
    assert 'data-chart="chart-allocation_sector"' in page  # the chart, drawn by script
    # Escaped, never markup.
    assert HOSTILE_ACCOUNT not in page and HOSTILE_INSTRUMENT not in page
    assert "&lt;script&gt;alert(&#34;account&#34;)&lt;/script&gt;" in page
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_dashboard_reads_the_portfolio_once(
    app_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_household(app_client)
    sign_in(app_client)
    reads = []
    state = PortfolioService._state

    def counted(self: PortfolioService, day: Any) -> Any:
        reads.append(day)
        return state(self, day)

    monkeypatch.setattr(PortfolioService, "_state", counted)
    assert app_client.get("/").status_code == 200
    assert len(reads) == 1


def test_an_empty_portfolio_says_how_to_import(app_client: TestClient) -> None:
    sign_in(app_client)
    assert "No portfolio yet" in app_client.get("/").text


def test_the_key_is_in_no_page_and_no_redirect(app_client: TestClient, recorder: Recorder) -> None:
    import_household(app_client)
    app_client.post("/login", data={"api_key": "wrong-" + KEY})
    token = sign_in(app_client)
    app_client.get("/login")
    app_client.post("/logout", data={"csrf_token": token})
    app_client.get("/")
    pages = [r for r in recorder.responses if r.request.headers.get("x-api-key") is None]
    assert [r.status_code for r in pages] == [401, 303, 200, 303, 303, 303]
    for response in pages:
        assert KEY not in response.text, response.request.url
        assert KEY not in response.headers.get("location", "")
        assert KEY not in response.headers.get("set-cookie", "")
        assert KEY not in str(response.request.url)
