"""The FastAPI app: the same routes locally, on Lambda and in the container.

Each route parses its body, calls one use case and returns its answer; errors become
JSON in one place (``alex.http.errors``), never a traceback.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from enum import Enum
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import APIKeyHeader
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from alex import __version__
from alex.domain.errors import AlexError
from alex.http import operations
from alex.http import planner_operations as planner
from alex.http import portfolio_operations as portfolio
from alex.http.errors import error_body, status_for, validation_error_body
from alex.http.planner_schemas import (
    AnalysisJobResponse,
    ReportBody,
    ReportListQuery,
    ReportListResponse,
)
from alex.http.portfolio_schemas import (
    AccountBody,
    AccountListResponse,
    AccountPut,
    ClassificationDecision,
    ClassificationListResponse,
    DimensionName,
    ExportResponse,
    ImportResponse,
    PortfolioBody,
    PortfolioDeleteResponse,
    PortfolioImportBody,
    PriceAnswer,
    PriceBody,
    PricesImportBody,
    ProjectionBody,
    ProjectionRequest,
    SettingsBody,
    SettingsPut,
    TargetPut,
    TargetsResponse,
    TransactionListResponse,
    XRayBody,
)
from alex.http.schemas import (
    BatchIngestBody,
    BatchIngestResponse,
    DeleteResponse,
    DocumentBody,
    DocumentListQuery,
    DocumentListResponse,
    ErrorResponse,
    HealthResponse,
    IngestBody,
    IngestResponse,
    ResearchBody,
    ResearchJobResponse,
    ResearchResponse,
    SearchBody,
    SearchResponse,
)
from alex.ports import CheckedStore
from alex.services import Services
from alex.web.pages import install_pages
from alex.web.security import SecurityHeaders

logger = logging.getLogger("alex.http")

API_KEY_HEADER = "x-api-key"
_api_key_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=False)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodySizeLimit:
    """Refuse bodies over ``limit`` bytes with 413, by Content-Length or by counting.

    The body is read (at most ``limit`` bytes) before the app runs and replayed to it,
    so a streamed body without Content-Length is refused the same way.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        messages: list[Message] = []
        received = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            if received > self.limit:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        response = JSONResponse(
            error_body(f"Request body is over the limit of {self.limit:,} bytes"),
            status_code=413,
        )
        await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


class UnexpectedErrors:
    """Answer an error no handler took with a JSON 500, logged, never a traceback.

    Not ``exception_handler(Exception)``: Starlette runs that one in its
    ``ServerErrorMiddleware``, outside every middleware the app adds, so its 500 went out
    without :class:`~alex.web.security.SecurityHeaders` (no CSP, no nosniff). This one is
    added first, so it sits inside them. An error after the answer has started cannot be
    answered again: it is raised on, to the server.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as error:
            if started:
                raise
            logger.exception("Unhandled error", exc_info=error)
            response = JSONResponse(error_body("Internal server error"), status_code=500)
            await response(scope, _no_receive, send)


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]


class _Forbidden(Exception):
    """A missing or wrong API key: answered 403 as API Gateway does."""


def _check_api_key(request: Request, key: Annotated[str | None, Depends(_api_key_header)]) -> None:
    expected: bytes = request.app.state.api_key
    given = (key or "").encode("utf-8")
    # compare_digest takes the same time wherever the first difference is.
    if not secrets.compare_digest(given, expected):
        raise _Forbidden


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AlexError)
    async def domain_error(_: Request, error: AlexError) -> JSONResponse:
        return JSONResponse(error_body(error.message), status_code=status_for(error))

    @app.exception_handler(_Forbidden)
    async def forbidden(_: Request, __: _Forbidden) -> JSONResponse:
        return JSONResponse(error_body("Forbidden"), status_code=403)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        status, body = validation_error_body(error.errors())
        return JSONResponse(body, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(error_body(str(error.detail)), status_code=error.status_code)


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 403, 404, 413, 422, 502, 503)
}


def build_router() -> APIRouter:
    """The keyed routes; each validates its request and calls ``alex.http.operations``."""
    router = APIRouter(dependencies=[Depends(_check_api_key)], responses=_ERRORS)

    @router.post("/ingest", response_model=IngestResponse, tags=["ingest"])
    def ingest(body: IngestBody, services: ServicesDep) -> IngestResponse:
        """Store one document (the original course contract)."""
        return operations.ingest(services, body)

    @router.post("/ingest/batch", response_model=BatchIngestResponse, tags=["ingest"])
    def ingest_batch(body: BatchIngestBody, services: ServicesDep) -> BatchIngestResponse:
        """Store many documents; one invalid document rejects the batch, nothing stored."""
        return operations.ingest_batch(services, body)

    @router.post("/search", response_model=SearchResponse, tags=["search"])
    def search(body: SearchBody, services: ServicesDep) -> SearchResponse:
        """Semantic, keyword or hybrid search over stored chunks."""
        return operations.search(services, body)

    @router.post("/research", response_model=ResearchResponse, tags=["research"])
    def research(body: ResearchBody, services: ServicesDep) -> ResearchResponse:
        """Read pages, write a cited analysis, store it; answers when done (can take minutes:
        see POST /research/jobs)."""
        return operations.research(services, body)

    @router.post(
        "/research/jobs", response_model=ResearchJobResponse, status_code=202, tags=["research"]
    )
    def submit_research_job(body: ResearchBody, services: ServicesDep) -> ResearchJobResponse:
        """Queue a research run; poll GET /research/jobs/{job_id} for its result."""
        return operations.submit_research_job(services, body)

    @router.get("/research/jobs/{job_id}", response_model=ResearchJobResponse, tags=["research"])
    def research_job(job_id: str, services: ServicesDep) -> ResearchJobResponse:
        return operations.research_job(services, job_id)

    @router.get("/documents", response_model=DocumentListResponse, tags=["documents"])
    def list_documents(
        query: Annotated[DocumentListQuery, Query()], services: ServicesDep
    ) -> DocumentListResponse:
        """Documents, newest first."""
        return operations.list_documents(services, query)

    @router.get("/documents/{document_id}", response_model=DocumentBody, tags=["documents"])
    def get_document(document_id: str, services: ServicesDep) -> DocumentBody:
        return operations.get_document(services, document_id)

    @router.delete("/documents/{document_id}", response_model=DeleteResponse, tags=["documents"])
    def delete_document(document_id: str, services: ServicesDep) -> DeleteResponse:
        return operations.delete_document(services, document_id)

    return router


# Query values the portfolio routes take; checked by alex.http.portfolio_operations.
AsOf = Annotated[
    str | None,
    Query(
        max_length=10, description="The day, YYYY-MM-DD (default today).", examples=["2026-11-30"]
    ),
]
AccountId = Annotated[str, Path(max_length=64, examples=["brokerage"])]
Symbol = Annotated[str, Path(max_length=200, examples=["HAGB"])]


def build_portfolio_router() -> APIRouter:
    """The portfolio's keyed routes (docs/portfolio.md, "The HTTP API")."""
    router = APIRouter(dependencies=[Depends(_check_api_key)], responses=_ERRORS)
    tags: list[str | Enum] = ["portfolio"]

    @router.get("/portfolio", response_model=PortfolioBody, tags=tags)
    def show_portfolio(services: ServicesDep, as_of: AsOf = None) -> PortfolioBody:
        """Accounts, holdings, values, gains, income and allocation with drift, valued at the
        prices and rates last known on ``as_of``; money as strings in minor units."""
        return portfolio.portfolio_show(services, as_of)

    @router.post("/portfolio/import", response_model=ImportResponse, tags=tags)
    def import_portfolio(body: PortfolioImportBody, services: ServicesDep) -> ImportResponse:
        """Import files (Alex's CSVs, Ghostfolio's JSON) together: all or nothing, a bad row
        named by file, row and column; a re-import adds nothing."""
        return portfolio.portfolio_import(services, body)

    @router.get("/portfolio/export", response_model=ExportResponse, tags=tags)
    def export_portfolio(
        services: ServicesDep,
        format: Literal["alex", "ghostfolio"] = "alex",
        what: Literal["accounts", "instruments", "fx", "prices", "transactions"] = "transactions",
    ) -> ExportResponse:
        """The stored records as a file that /portfolio/import reads back."""
        return portfolio.portfolio_export(services, format, what)

    @router.get("/portfolio/xray", response_model=XRayBody, tags=tags)
    def xray(services: ServicesDep, as_of: AsOf = None) -> XRayBody:
        """The risk checks: each finding in plain English with its figures."""
        return portfolio.portfolio_xray(services, as_of)

    @router.post("/portfolio/projection", response_model=ProjectionBody, tags=tags)
    def projection(body: ProjectionRequest, services: ServicesDep) -> ProjectionBody:
        """Monte Carlo retirement projection of today's portfolio (seeded, nominal)."""
        return portfolio.portfolio_projection(services, body)

    @router.post("/prices", response_model=ImportResponse, tags=tags)
    def import_prices(body: PricesImportBody, services: ServicesDep) -> ImportResponse:
        """Import closing prices (date,symbol,close,currency CSV); a price for a symbol and
        day replaces the one stored."""
        return portfolio.prices_import(services, body)

    @router.put("/prices", response_model=PriceAnswer, tags=tags)
    def set_price(body: PriceBody, services: ServicesDep) -> PriceAnswer:
        """Record one closing price (default: today)."""
        return portfolio.prices_set(services, body)

    @router.get("/portfolio/accounts", response_model=AccountListResponse, tags=tags)
    def list_accounts(services: ServicesDep) -> AccountListResponse:
        return portfolio.list_accounts(services)

    @router.get("/portfolio/accounts/{account_id}", response_model=AccountBody, tags=tags)
    def get_account(account_id: AccountId, services: ServicesDep) -> AccountBody:
        return portfolio.get_account(services, account_id)

    @router.put("/portfolio/accounts/{account_id}", response_model=AccountBody, tags=tags)
    def put_account(account_id: AccountId, body: AccountPut, services: ServicesDep) -> AccountBody:
        """Create or replace an account (its currency is fixed once it has transactions)."""
        return portfolio.put_account(services, account_id, body)

    @router.delete(
        "/portfolio/accounts/{account_id}", response_model=PortfolioDeleteResponse, tags=tags
    )
    def delete_account(account_id: AccountId, services: ServicesDep) -> PortfolioDeleteResponse:
        """Delete an account that no transaction names (422 says how many do)."""
        return portfolio.delete_account(services, account_id)

    @router.get("/portfolio/transactions", response_model=TransactionListResponse, tags=tags)
    def list_transactions(
        services: ServicesDep,
        account: Annotated[str | None, Query(max_length=64)] = None,
        start: Annotated[str | None, Query(max_length=10, examples=["2024-01-01"])] = None,
        end: Annotated[str | None, Query(max_length=10, examples=["2024-12-31"])] = None,
    ) -> TransactionListResponse:
        """Transactions by date then id, in one account and dated start to end (inclusive)."""
        return portfolio.list_transactions(services, account, start, end)

    @router.delete(
        "/portfolio/transactions/{transaction_id}",
        response_model=PortfolioDeleteResponse,
        tags=tags,
    )
    def delete_transaction(
        transaction_id: Annotated[str, Path(max_length=128)], services: ServicesDep
    ) -> PortfolioDeleteResponse:
        """Delete one transaction, unless the ledger without it is wrong (422 says why)."""
        return portfolio.delete_transaction(services, transaction_id)

    @router.get("/portfolio/targets", response_model=TargetsResponse, tags=tags)
    def targets(services: ServicesDep) -> TargetsResponse:
        return portfolio.get_targets(services)

    @router.put("/portfolio/targets/{dimension}", response_model=TargetsResponse, tags=tags)
    def put_target(
        dimension: DimensionName, body: TargetPut, services: ServicesDep
    ) -> TargetsResponse:
        """Set the target allocation along one dimension (shares summing to 100); empty
        weights remove it."""
        return portfolio.put_target(services, dimension, body)

    @router.get("/portfolio/classifications", response_model=ClassificationListResponse, tags=tags)
    def classifications(services: ServicesDep) -> ClassificationListResponse:
        """Classifications a model proposed for instruments with unknown weights, waiting
        for accept or reject; not counted in any allocation until accepted. Proposing runs
        where the model is: `alex portfolio classify`, or the analysis job."""
        return portfolio.list_classifications(services)

    @router.post(
        "/portfolio/classifications/{symbol}/accept",
        response_model=ClassificationDecision,
        tags=tags,
    )
    def accept_classification(symbol: Symbol, services: ServicesDep) -> ClassificationDecision:
        """The proposed weights become the instrument's, for the dimensions it still has
        unknown (weights of its own are kept); 404 if the symbol has no proposal."""
        return portfolio.accept_classification(services, symbol)

    @router.post(
        "/portfolio/classifications/{symbol}/reject",
        response_model=ClassificationDecision,
        tags=tags,
    )
    def reject_classification(symbol: Symbol, services: ServicesDep) -> ClassificationDecision:
        """Drop the proposal; the instrument stays as it is. 404 if it has none."""
        return portfolio.reject_classification(services, symbol)

    @router.get("/portfolio/settings", response_model=SettingsBody, tags=tags)
    def settings(services: ServicesDep) -> SettingsBody:
        return portfolio.get_settings(services)

    @router.put("/portfolio/settings", response_model=SettingsBody, tags=tags)
    def put_settings(body: SettingsPut, services: ServicesDep) -> SettingsBody:
        """Change the settings given; the others stay as stored."""
        return portfolio.put_settings(services, body)

    return router


RecordId = Annotated[
    str, Path(pattern=r"^[0-9a-f]{32}$", examples=["0193a4c5e7f0a1b2c3d4e5f6a7b8c9d0"])
]


def build_planner_router() -> APIRouter:
    """The planner's keyed routes (docs/planner.md, "Doors")."""
    router = APIRouter(dependencies=[Depends(_check_api_key)], responses=_ERRORS)
    tags: list[str | Enum] = ["planner"]

    @router.post("/analysis/jobs", response_model=AnalysisJobResponse, status_code=202, tags=tags)
    def submit_analysis_job(services: ServicesDep) -> AnalysisJobResponse:
        """Queue an analysis of the portfolio (classify, compute, recall, write, check,
        store); poll GET /analysis/jobs/{job_id} for its steps and report."""
        return planner.submit_analysis_job(services)

    @router.get("/analysis/jobs/{job_id}", response_model=AnalysisJobResponse, tags=tags)
    def analysis_job(job_id: RecordId, services: ServicesDep) -> AnalysisJobResponse:
        """The job's status, each step's progress, and its report or error."""
        return planner.analysis_job(services, job_id)

    @router.get("/reports", response_model=ReportListResponse, tags=tags)
    def list_reports(
        query: Annotated[ReportListQuery, Query()], services: ServicesDep
    ) -> ReportListResponse:
        """Stored reports, newest first (without their Markdown, figures and charts)."""
        return planner.list_reports(services, query)

    @router.get("/reports/{report_id}", response_model=ReportBody, tags=tags)
    def get_report(report_id: RecordId, services: ServicesDep) -> ReportBody:
        """A report: its Markdown, the figure set it was checked against, its charts."""
        return planner.get_report(services, report_id)

    return router


# Swagger UI's files, vendored from npm (static/swagger-ui/SOURCE.md): FastAPI's own /docs
# loads them from a CDN, so it did not work offline and ran a third party's script.
_SWAGGER_UI = FilePath(__file__).parent / "static" / "swagger-ui"
_DOCS_FILES = "/docs/files"


def _install_docs(app: FastAPI) -> None:
    """``/docs`` from the package's own Swagger UI; no ReDoc (its script is on a CDN too)."""
    app.mount(_DOCS_FILES, StaticFiles(directory=_SWAGGER_UI), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")  # behind a proxy's prefix
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{_DOCS_FILES}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{_DOCS_FILES}/swagger-ui.css",
            swagger_favicon_url=f"{root}{_DOCS_FILES}/favicon-32x32.png",
            # Swagger UI would otherwise send the API document to validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )


def create_app(
    services: Services, api_key: str, *, pages_key: str | None = None, pages_prefix: str = ""
) -> FastAPI:
    """The app, serving ``services``, answering keyed routes only to ``api_key``.

    The web pages sign in with ``pages_key`` (default ``api_key``) and live under
    ``pages_prefix`` (default none: at ``/``). On Lambda the two differ: the keyed routes
    take a random key API Gateway's checked requests are given, the pages the API's real key
    (alex.http.research_cloud)."""
    if not api_key:
        raise ValueError("an API key is required")
    app = FastAPI(
        title="Alex",
        version=__version__,
        description="Alex's knowledge base and portfolio: ingest documents, search them; "
        "import transactions, see holdings, risk checks and a retirement projection. "
        "Every route but "
        f"/health needs the `{API_KEY_HEADER}` header.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    app.state.api_key = api_key.encode("utf-8")
    _install_error_handlers(app)

    @app.get(
        "/health",
        response_model=HealthResponse,
        responses={503: {"model": ErrorResponse}},
        tags=["health"],
    )
    def health(services: ServicesDep) -> HealthResponse:
        """ok, or 503 saying why the store cannot be written (e.g. its file was deleted)."""
        # Only the local store has a file to lose; building the cloud one here would make
        # the container's health check depend on AWS credentials.
        if services.settings.backend == "local":
            store = services.store
            if isinstance(store, CheckedStore):  # cheap (one stat), not the integrity check
                store.check_available()
        return operations.health()

    _install_docs(app)
    app.include_router(build_router())
    app.include_router(build_portfolio_router())
    app.include_router(build_planner_router())
    # The web pages (alex.web): sign-in, dashboard; the API above keeps its x-api-key.
    install_pages(app, (pages_key or api_key).encode("utf-8"), pages_prefix)
    # Added first, so innermost: its 500 goes out through the two below.
    app.add_middleware(UnexpectedErrors)
    app.add_middleware(BodySizeLimit, limit=services.settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app
