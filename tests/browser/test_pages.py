"""The web pages in a real Chromium against a real ``alex serve`` (fixtures: conftest.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests.browser.conftest import Tab
from tests.support.server import AlexServer

CSP_PARTS = ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'")


def cli_show(alex: AlexServer) -> dict[str, Any]:
    """``alex portfolio show --json`` on the server's own data folder."""
    done = subprocess.run(
        [sys.executable, "-m", "alex", "portfolio", "show", "--json"],
        env=alex.env,
        cwd=alex.work_dir,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    shown: dict[str, Any] = json.loads(done.stdout)
    return shown


def test_sign_in_then_the_dashboard_total_is_the_cli_total(tab: Tab, alex: AlexServer) -> None:
    first = tab.goto("/")
    assert tab.page.url == alex.url + "/login"  # redirected: no session yet
    header = first.request.redirected_from.response().headers["content-security-policy"]
    assert all(part in header for part in CSP_PARTS)
    tab.screenshots("login")
    tab.sign_in(alex.api_key or "")
    assert tab.page.url == alex.url + "/"
    total = tab.page.locator("#total-value")
    expected = cli_show(alex)["total"]
    assert total.get_attribute("value") == expected["value"]
    assert total.inner_text() == f"{float(expected['value']):,.2f}"
    assert tab.page.get_by_role("heading", name="Drift against targets").is_visible()
    assert tab.page.get_by_role("table").count() >= 6
    tab.screenshots("dashboard")
    assert tab.errors == []
    # alex serve said where to open the browser.
    assert f"Open       {alex.url.replace('127.0.0.1', 'localhost')}/ in your browser" in (
        alex.log_text()
    )


def test_a_wrong_key_is_refused(tab: Tab) -> None:
    tab.sign_in("not-the-key-0123456789")
    assert tab.page.url.endswith("/login")
    assert tab.page.get_by_role("alert").inner_text() == "That is not the API key of this server."
    assert tab.page.get_by_label("API key").input_value() == ""  # never written back
    assert tab.page.context.cookies() == []


def test_the_csp_header_is_on_every_page(tab: Tab, alex: AlexServer) -> None:
    tab.sign_in(alex.api_key or "")
    for path in ("/login", "/", "/static/alex.css", "/static/vendor/htmx/htmx.min.js"):
        # Pages as the browser navigates to them; files as the pages fetch them.
        response = tab.goto(path) if "." not in path else tab.page.request.get(tab.base_url + path)
        policy = response.headers["content-security-policy"]
        assert all(part in policy for part in CSP_PARTS), path
        assert response.headers["x-content-type-options"] == "nosniff"
    assert tab.errors == []


def test_no_serious_or_critical_accessibility_violations(tab: Tab, alex: AlexServer) -> None:
    tab.goto("/login")
    assert tab.axe_violations() == []
    tab.sign_in(alex.api_key or "")
    for width in (1280, 375):
        tab.page.set_viewport_size({"width": width, "height": 900})
        assert tab.axe_violations() == [], width
    # The dashboard fits a phone: nothing wider than the viewport but its scrolling tables.
    overflow = tab.page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= 375
    assert tab.errors == []


def test_a_cross_site_form_post_is_refused_even_with_the_cookie(
    tab: Tab, alex: AlexServer, attacker: tuple[str, Any]
) -> None:
    tab.sign_in(alex.api_key or "")
    token = tab.page.locator('input[name="csrf_token"]').first.get_attribute("value")
    url, page_class = attacker
    page_class.target, page_class.token = alex.url + "/logout", token
    tab.page.goto(url)
    with tab.page.expect_response(alex.url + "/logout") as posted:
        tab.page.get_by_role("button", name="Claim").click()
    assert posted.value.status == 403
    assert "alex_session=" in posted.value.request.all_headers().get("cookie", "")
    tab.goto("/")
    assert tab.page.url == alex.url + "/"  # still signed in: nothing was done


def test_sign_out_ends_the_session(tab: Tab, alex: AlexServer) -> None:
    tab.sign_in(alex.api_key or "")
    tab.page.get_by_role("button", name="Sign out").click()
    tab.page.wait_for_load_state()
    assert tab.page.url == alex.url + "/login"
    assert tab.page.context.cookies() == []
    tab.goto("/")
    assert tab.page.url == alex.url + "/login"
    assert tab.errors == []


def test_the_key_is_in_no_page_source_or_url(tab: Tab, alex: AlexServer) -> None:
    key = alex.api_key or ""
    seen: list[str] = []
    tab.page.on("request", lambda request: seen.append(request.url))
    tab.sign_in(key)
    assert key not in tab.page.content()
    assert seen and all(key not in url for url in seen)
