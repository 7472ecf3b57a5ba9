"""The web pages' door: sign-in, sign-out and the dashboard, mounted on the FastAPI app.

Like ``alex.http`` it calls the use cases (through ``Services``) and only renders what they
return; it never builds an adapter. Pages need a session (``alex.web.identity``); every
state-changing form passes :func:`require_form_session` (cross-site check, then the
session's CSRF token). The JSON API is untouched: its routes still take only ``x-api-key``
and never the cookie, so a cross-site form cannot reach them with the user's credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context

from alex.services import Services
from alex.web.dashboard import dashboard
from alex.web.identity import COOKIE_NAME, KeySessions, Session, Sessions
from alex.web.security import cross_site

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"  # htmx requests send it (base.html's hx-headers)


def money(amount: str | None) -> str:
    """A money string as ``alex portfolio show`` prints it (``portfolio_tables.money_text``):
    grouped thousands, the exact minor units, ``?`` when unknown."""
    return "?" if amount is None else f"{Decimal(amount):,}"


def percent(share: str | None, signed: bool = False) -> str:
    if share is None:
        return ""
    value = Decimal(share)
    return f"{value:+,}" if signed else f"{value:,}"


def templates() -> Jinja2Templates:
    # Autoescape on for every template whatever its name: all text a page shows came from a
    # user's files or a web page. StrictUndefined: a typo in a template fails its test.
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["money"] = money
    environment.filters["percent"] = percent
    environment.globals["path_for"] = path_for
    return Jinja2Templates(env=environment)


@pass_context
def path_for(context: Mapping[str, Any], name: str, /, **params: Any) -> str:
    """A route's or file's path for a template: relative to the host, so a page served through
    a proxy (API Gateway's https) never links to the app's own view of the scheme."""
    request: Request = context["request"]
    return request.url_for(name, **params).path


class SignInRequired(Exception):
    """A page asked for without a valid session: answered by a redirect to /login."""


class CrossSiteRefused(Exception):
    """A state-changing request from another site, or without the session's CSRF token."""


def _sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.web_sessions
    return sessions


def page_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def current_session(request: Request) -> Session | None:
    return _sessions(request).read(request.cookies.get(COOKIE_NAME))


def require_session(request: Request) -> Session:
    session = current_session(request)
    if session is None:
        raise SignInRequired
    return session


async def require_form_session(request: Request) -> Session:
    """The session of a same-site request carrying its CSRF token (form field or header)."""
    if cross_site(request):
        raise CrossSiteRefused
    session = require_session(request)
    token = request.headers.get(CSRF_HEADER)
    if token is None:
        value = (await request.form()).get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    if not _sessions(request).csrf_ok(session, token):
        raise CrossSiteRefused
    return session


PageSession = Annotated[Session, Depends(require_session)]
FormSession = Annotated[Session, Depends(require_form_session)]


def _path(request: Request, name: str) -> str:
    """A route's path (behind a proxy's prefix too): redirects never carry a host or query."""
    return request.url_for(name).path


def cookie_path(request: Request) -> str:
    """The session cookie's ``Path``: the pages' root as the browser sees it, ``/`` for
    ``alex serve``, ``/<stage>/app/`` behind API Gateway (the stage is the scope's
    ``root_path``), so the cookie goes to the pages and to nothing else on that host."""
    return _path(request, "dashboard")


def render(
    request: Request,
    name: str,
    session: Session | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Template ``name`` as a page; ``page`` (the nav's current entry) defaults to none."""
    pages: Jinja2Templates = request.app.state.web_templates
    return pages.TemplateResponse(
        request, name, {"session": session, "page": None, **context}, status_code=status_code
    )


def build_pages() -> APIRouter:
    """Sign-in, sign-out and the dashboard. Other pages live in their own modules, each with
    its own router, included by :func:`install_pages`."""
    router = APIRouter(include_in_schema=False)

    @router.get("/login", name="login")
    def login_page(request: Request) -> Response:
        if current_session(request) is not None:
            return RedirectResponse(_path(request, "dashboard"), status_code=303)
        return render(request, "login.html", None, error=None)

    @router.post("/login", name="login_submit")
    async def login(request: Request) -> Response:
        # No session yet, so no token to check: the cross-site check is the lock here.
        if cross_site(request):
            raise CrossSiteRefused
        value = (await request.form()).get("api_key")
        sessions = _sessions(request)
        session = sessions.sign_in(value if isinstance(value, str) else "")
        if session is None:
            error = "That is not the API key of this server."
            return render(request, "login.html", None, status_code=401, error=error)
        response = RedirectResponse(_path(request, "dashboard"), status_code=303)
        response.set_cookie(
            COOKIE_NAME,
            sessions.cookie(session),
            max_age=int(sessions.lifetime.total_seconds()),
            path=cookie_path(request),
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
        return response

    @router.post("/logout", name="logout")
    def logout(request: Request, _: FormSession) -> Response:
        response = RedirectResponse(_path(request, "login"), status_code=303)
        response.delete_cookie(
            COOKIE_NAME,
            path=cookie_path(request),
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
        return response

    @router.get("/", name="dashboard")
    def dashboard_page(request: Request, session: PageSession) -> Response:
        figures = dashboard(page_services(request))
        return render(request, "dashboard.html", session, page="dashboard", board=figures)

    return router


def install_pages(app: FastAPI, api_key: bytes, prefix: str = "") -> None:
    """Mount the pages at ``prefix`` (``/`` when empty) and their files at ``prefix/static``
    on ``app``; sign-in takes ``api_key``.

    ``alex serve`` uses no prefix. Behind API Gateway the pages live under ``/app``
    (:mod:`alex.http.research_cloud`): one greedy resource without an API key, apart from
    the JSON routes, which keep theirs (docs/deploy.md, "The pages in the cloud"). Every link
    comes from ``path_for``/``url_for``, so no template knows the prefix.
    """
    if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
        raise ValueError(f"a page prefix starts with / and does not end with one: {prefix!r}")
    app.state.web_sessions = KeySessions(api_key)
    app.state.web_templates = pages = templates()
    # /docs is the app's, at its root: API Gateway publishes it nowhere (docs/deploy.md).
    pages.env.globals["api_docs"] = not prefix
    app.mount(f"{prefix}/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, _: SignInRequired) -> Response:
        return RedirectResponse(_path(request, "login"), status_code=303)

    @app.exception_handler(CrossSiteRefused)
    async def cross_site_refused(request: Request, _: CrossSiteRefused) -> Response:
        return pages.TemplateResponse(
            request,
            "refused.html",
            {"session": current_session(request), "page": None},
            status_code=403,
        )

    # One router per page module (``render`` and the session guards are shared from here,
    # so the page modules are imported here, not at the top: they import this one).
    from alex.web import accounts, charts, knowledge, reports, research, retirement

    modules = (accounts, retirement, knowledge, research, reports)
    for router in (build_pages(), charts.router, *(module.router for module in modules)):
        app.include_router(router, prefix=prefix)
