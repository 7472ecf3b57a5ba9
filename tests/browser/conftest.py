"""Browser tests: Playwright for Python driving a real Chromium against a real ``alex serve``.

One server and one browser for the whole session (their start is most of the suite's time);
each test gets a fresh browser context (no cookies) and page. The browser is Debian's
``/usr/bin/chromium`` when present (``.ci/run`` installs it on Linux CI; ``--no-sandbox``
only as root, where Chromium's sandbox cannot start), else Playwright's own
(``uv run playwright install chromium`` on a user's machine); with neither the suite is
skipped, saying which command installs one.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.pagesite import PageSite
from tests.support.browser import chromium_options
from tests.support.server import AlexServer

playwright_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "portfolio"
SCREENSHOTS = ROOT / "build" / "screenshots"  # git-ignored (build/)
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": 1280, "phone": 375}


@pytest.fixture(scope="package")
def fixture_site() -> Iterator[PageSite]:
    """The loopback fixture pages (tests/pagesite.py) that research runs read."""
    with PageSite() as site:
        yield site


@pytest.fixture(scope="package")
def alex(tmp_path_factory: pytest.TempPathFactory, fixture_site: PageSite) -> Iterator[AlexServer]:
    """``alex serve`` on a free loopback port with the sample household (and a target, so
    the dashboard has drift to show) in a temporary data folder. Its fetch policy allows
    the fixture site's one host:port, as the tests' ALEX_FETCH_ALLOW_HOSTS (loopback stays
    refused by default)."""
    server = AlexServer(
        tmp_path_factory.mktemp("browser-serve"), secrets.token_urlsafe(24), name="browser"
    )
    server.env["ALEX_FETCH_ALLOW_HOSTS"] = fixture_site.host_port
    server.start()
    try:
        with server.client(timeout=60) as client:
            files = [{"name": p.name, "text": p.read_text("utf-8")} for p in SAMPLES.glob("*.csv")]
            client.post("/portfolio/import", json={"files": files}).raise_for_status()
            weights = {"equity": "60", "bond": "30", "cash": "10"}
            client.put(
                "/portfolio/targets/asset_class", json={"weights": weights}
            ).raise_for_status()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(**chromium_options())
        except playwright_api.Error as error:
            pytest.skip(f"no Chromium: `uv run playwright install chromium` ({error})")
        yield launched
        launched.close()


@dataclass
class Tab:
    """A page in a fresh context, with every console error and uncaught exception it saw."""

    page: Any
    base_url: str
    errors: list[str] = field(default_factory=list)

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base_url + path)

    def sign_in(self, key: str) -> None:
        self.goto("/login")
        self.page.get_by_label("API key").fill(key)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_load_state()

    def screenshots(self, name: str) -> list[Path]:
        """The page at desktop and phone widths, full height, into build/screenshots/."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        written = []
        for label, width in WIDTHS.items():
            self.page.set_viewport_size({"width": width, "height": 900})
            path = SCREENSHOTS / f"{name}-{label}.png"
            self.page.screenshot(path=str(path), full_page=True)
            written.append(path)
        self.page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})
        return written

    def axe_violations(self) -> list[dict[str, Any]]:
        """axe-core's serious and critical violations on the current page. Injected through
        the DevTools protocol (``evaluate``), which the page's CSP does not govern: the app
        never serves axe-core, and the CSP stays the production one."""
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.evaluate(AXE.read_text("utf-8"))
        found: list[dict[str, Any]] = self.page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => ({id: v.id, impact: v.impact, help: v.help,
                             targets: v.nodes.map(n => n.target.join(' '))}))"""
        )
        return found


@pytest.fixture
def tab(browser: Any, alex: AlexServer) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900})
    page = context.new_page()
    opened = Tab(page, alex.url)
    page.on(
        "console", lambda message: message.type == "error" and opened.errors.append(message.text)
    )
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    yield opened
    context.close()


class _AttackerPage(BaseHTTPRequestHandler):
    """Another site's page: a form that posts to Alex's sign-out with the victim's own
    CSRF token (as if it had leaked), so only the cross-site check can refuse it."""

    target = ""
    token = ""

    def do_GET(self) -> None:
        body = (
            "<!doctype html><title>Win a prize</title>"
            f'<form method="post" action="{self.target}">'
            f'<input type="hidden" name="csrf_token" value="{self.token}">'
            "<button>Claim</button></form>"
        ).encode()
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def attacker() -> Iterator[tuple[str, type[_AttackerPage]]]:
    """A page on another port of 127.0.0.1: same site as Alex (ports do not make sites), so
    the SameSite=Strict cookie IS sent with its post, and the cross-site check must refuse."""
    handler = type("Attacker", (_AttackerPage,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", handler
    finally:
        server.shutdown()
        server.server_close()
