"""The browser-facing defences: security headers on every answer, and the cross-site check
that state-changing forms pass before their CSRF token is even read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Only our own files run: no inline script or style, no eval (so htmx's hx-on and Vega's
# default expression parser are out; Vega renders with its interpreter), no plugins, no
# framing, forms post only to us, <base> cannot redirect relative URLs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    # same-origin, not no-referrer: with no-referrer Chromium sends ``Origin: null`` on the
    # pages' own form posts, which cross_site() must refuse. Other sites get no referrer.
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),  # frame-ancestors' older twin, for older browsers
    (b"cross-origin-opener-policy", b"same-origin"),
)
# Swagger UI's page (/docs) starts itself with an inline script FastAPI writes: it keeps
# the browser's defaults for scripts rather than a policy that would break it.
_OWN_POLICY_EXEMPT = ("/docs",)


class SecurityHeaders:
    """Adds :data:`HEADERS` to every answer and the CSP to every one but Swagger UI's page;
    an HTML answer also gets ``Cache-Control: no-store`` unless it set its own (the pages
    show a household's money: no copy in shared caches or the back-forward cache)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        with_csp = not any(path == p or path.startswith(p + "/") for p in _OWN_POLICY_EXEMPT)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in HEADERS if h[0] not in present]
                if with_csp and b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
                content_type = dict(headers).get(b"content-type", b"")
                if content_type.startswith(b"text/html") and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def cross_site(request: Request) -> bool:
    """Whether a request comes from another site's page, by the headers browsers set.

    ``Sec-Fetch-Site`` (every current browser) must be ``same-origin`` or ``none`` (typed or
    bookmarked); ``Origin``, when sent, must name this host. Hosts are compared without the
    scheme: behind a TLS-terminating proxy (API Gateway) the app may see ``http`` while the
    browser says ``https``. A request with neither header (an old browser, curl) is left to
    the CSRF token alone. SameSite=Strict already keeps the cookie off cross-site requests;
    this is the second lock for a browser or proxy that gets SameSite wrong.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    if origin is None:
        return False
    if origin == "null":  # sandboxed frames, data: URLs, some redirects: never ours
        return True
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc.lower() != host.lower()
