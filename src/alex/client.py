"""One client for the CLI: the local store, or a keyed Alex API, behind one protocol.

Both implementations answer with the same types (the API's bodies from
``alex.http.schemas``, ``IngestResult``), so every command is written once. Both are
context managers; the CLI closes them when a command ends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Protocol, Self

from alex.config import Settings, load_settings
from alex.domain.errors import AlexError, ConfigError
from alex.domain.models import EMBEDDING_MODEL, IngestResult
from alex.http import planner_operations, portfolio_operations
from alex.http.planner_schemas import (
    AnalysisJobResponse,
    ReportBody,
    ReportListQuery,
    ReportListResponse,
)
from alex.http.portfolio_schemas import (
    ClassificationDecision,
    ClassificationListResponse,
    ClassifyReportBody,
    ClassifyResponse,
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
    RefusalBody,
    SettingsBody,
    SettingsPut,
    TargetPut,
    TargetsResponse,
    XRayBody,
)
from alex.http.schemas import DocumentBody, DocumentSummaryBody, ResearchResponse, SearchHit
from alex.ingest import IngestRequest, ProgressCallback
from alex.services import Services

IngestOutcome = IngestResult | AlexError
"""One document's result, or why it was refused (the others are stored all the same)."""
StepCallback = Callable[[str, str], None]
"""A research run's progress: (step, detail)."""
AnalysisCallback = Callable[[str, str, str], None]
"""An analysis job's progress: (step, status, detail)."""


class AlexClient(Protocol):
    """What the CLI asks of Alex, wherever Alex runs."""

    @property
    def where(self) -> str:
        """Where the documents are, for messages: "the local store" or the API's URL."""
        ...

    def ingest_many(
        self, requests: Sequence[IngestRequest], progress: ProgressCallback | None = None
    ) -> list[IngestOutcome]:
        """Store documents in batches; one outcome per request, in order."""
        ...

    def search(
        self, query: str, k: int, mode: str, filters: Mapping[str, str]
    ) -> list[SearchHit]: ...

    def list_documents(
        self, limit: int, offset: int, filters: Mapping[str, str]
    ) -> tuple[list[DocumentSummaryBody], int]:
        """One page of documents, newest first, and how many match in all."""
        ...

    def get(self, document_id: str) -> DocumentBody: ...

    def delete(self, document_id: str) -> None: ...

    def research(
        self, topic: str | None, urls: Sequence[str], progress: StepCallback
    ) -> ResearchResponse:
        """Run a research to its end, reporting each step."""
        ...

    def status_rows(self) -> list[tuple[str, str]]:
        """What ``alex status`` shows: (name, value) rows."""
        ...

    def check_integrity(self) -> list[str]:
        """Problems found in the store, or an empty list."""
        ...

    # The portfolio: the bodies of its routes (alex.http.portfolio_schemas), both ways.
    def portfolio_import(self, body: PortfolioImportBody) -> ImportResponse: ...

    def portfolio_export(self, format: str, what: str) -> ExportResponse: ...

    def portfolio_show(self, as_of: str | None) -> PortfolioBody: ...

    def portfolio_xray(self, as_of: str | None) -> XRayBody: ...

    def portfolio_project(self, body: ProjectionRequest) -> ProjectionBody: ...

    def portfolio_target(self, dimension: str, body: TargetPut) -> TargetsResponse: ...

    def portfolio_settings(self, update: SettingsPut | None) -> SettingsBody:
        """The settings, after changing those ``update`` gives (None: only read them)."""
        ...

    def portfolio_delete_account(self, account_id: str) -> PortfolioDeleteResponse: ...

    def prices_import(self, body: PricesImportBody) -> ImportResponse: ...

    def prices_set(self, body: PriceBody) -> PriceAnswer: ...

    def portfolio_classify(self, progress: StepCallback) -> ClassifyResponse:
        """Propose classifications for instruments with unknown weights (only where the model
        is: a remote API answers the proposals waiting, with ``report`` null)."""
        ...

    def portfolio_classifications(self) -> ClassificationListResponse: ...

    def portfolio_decide(self, symbol: str, accept: bool) -> ClassificationDecision:
        """Accept (or reject) the proposal for ``symbol``."""
        ...

    # The planner: the bodies of its routes (alex.http.planner_schemas), both ways.
    def analyse(self, progress: AnalysisCallback) -> AnalysisJobResponse:
        """Run an analysis job to its end, reporting each step; the ended job."""
        ...

    def list_reports(self, query: ReportListQuery) -> ReportListResponse: ...

    def get_report(self, report_id: str) -> ReportBody: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class Closing:
    """A client as a context manager: ``with open_client(...) as client`` closes it."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class LocalClient(Closing):
    """The use cases of this machine's store (``Services``), closed with the client."""

    where = "the local store"

    def __init__(self, services: Services) -> None:
        self.services = services

    def ingest_many(
        self, requests: Sequence[IngestRequest], progress: ProgressCallback | None = None
    ) -> list[IngestOutcome]:
        # Validated one by one first: a bad document is reported, the others stored.
        outcomes: list[IngestOutcome | None] = []
        valid: list[IngestRequest] = []
        for request in requests:
            try:
                self.services.ingest.validate(request)
            except AlexError as error:
                outcomes.append(error)
                continue
            outcomes.append(None)
            valid.append(request)
        stored = iter(self.services.ingest.ingest_many(valid, progress) if valid else [])
        return [outcome if outcome is not None else next(stored) for outcome in outcomes]

    def search(self, query: str, k: int, mode: str, filters: Mapping[str, str]) -> list[SearchHit]:
        return [SearchHit.of(hit) for hit in self.services.search.search(query, k, mode, filters)]

    def list_documents(
        self, limit: int, offset: int, filters: Mapping[str, str]
    ) -> tuple[list[DocumentSummaryBody], int]:
        summaries, total = self.services.documents.list_documents(limit, offset, filters)
        return [DocumentSummaryBody.of(summary) for summary in summaries], total

    def get(self, document_id: str) -> DocumentBody:
        return DocumentBody.of(self.services.documents.get(document_id))

    def delete(self, document_id: str) -> None:
        self.services.documents.delete(document_id)

    def research(
        self, topic: str | None, urls: Sequence[str], progress: StepCallback
    ) -> ResearchResponse:
        return ResearchResponse.of_run(self.services.research.run(topic, urls, progress))

    def status_rows(self) -> list[tuple[str, str]]:
        from alex.research.llm import describe as describe_chat_model

        settings = self.services.settings
        present = self._store_present()
        documents, chunks = self.services.documents.count() if present else (0, 0)
        size = sum(
            path.stat().st_size
            for path in settings.store_path.parent.glob(settings.store_path.name + "*")
        )
        return [
            ("backend", settings.backend),
            ("model", EMBEDDING_MODEL),
            ("store", str(settings.store_path)),
            (
                "store size",
                f"{size / 1e6:.1f} MB" if present else "none yet (an ingest creates it)",
            ),
            ("documents", str(documents)),
            ("chunks", str(chunks)),
            (
                "settings file",
                f"{settings.env_file}" + ("" if settings.env_file.exists() else " (none)"),
            ),
            ("API key", "set" if settings.api_key else "not set (alex serve makes one)"),
            ("research model", describe_chat_model(settings)),
        ]

    def check_integrity(self) -> list[str]:
        if not self._store_present():
            return [f"no store at {self.services.settings.store_path}"]
        return self.services.documents.check_integrity()

    # The portfolio: the same functions the HTTP routes call, so --json matches the API's.
    def portfolio_import(self, body: PortfolioImportBody) -> ImportResponse:
        return portfolio_operations.portfolio_import(self.services, body)

    def portfolio_export(self, format: str, what: str) -> ExportResponse:
        return portfolio_operations.portfolio_export(self.services, format, what)

    def portfolio_show(self, as_of: str | None) -> PortfolioBody:
        return portfolio_operations.portfolio_show(self.services, as_of)

    def portfolio_xray(self, as_of: str | None) -> XRayBody:
        return portfolio_operations.portfolio_xray(self.services, as_of)

    def portfolio_project(self, body: ProjectionRequest) -> ProjectionBody:
        return portfolio_operations.portfolio_projection(self.services, body)

    def portfolio_target(self, dimension: str, body: TargetPut) -> TargetsResponse:
        return portfolio_operations.put_target(self.services, dimension, body)

    def portfolio_settings(self, update: SettingsPut | None) -> SettingsBody:
        if update is None:
            return portfolio_operations.get_settings(self.services)
        return portfolio_operations.put_settings(self.services, update)

    def portfolio_delete_account(self, account_id: str) -> PortfolioDeleteResponse:
        return portfolio_operations.delete_account(self.services, account_id)

    def prices_import(self, body: PricesImportBody) -> ImportResponse:
        return portfolio_operations.prices_import(self.services, body)

    def prices_set(self, body: PriceBody) -> PriceAnswer:
        return portfolio_operations.prices_set(self.services, body)

    def portfolio_classify(self, progress: StepCallback) -> ClassifyResponse:
        from alex.planner.classify import classify_unknown

        services = self.services
        report = classify_unknown(
            services.portfolio,
            lambda: services.open_chat_model(services.settings),
            progress=progress,
        )
        proposals = portfolio_operations.proposal_bodies
        body = ClassifyReportBody(
            model=report.model,
            proposed=proposals(services, list(report.proposed)),
            not_classified=[
                RefusalBody(symbol=r.symbol, reason=r.reason) for r in report.not_classified
            ],
            skipped=[RefusalBody(symbol=r.symbol, reason=r.reason) for r in report.skipped],
        )
        return ClassifyResponse(report=body, proposals=self.portfolio_classifications().proposals)

    def portfolio_classifications(self) -> ClassificationListResponse:
        return portfolio_operations.list_classifications(self.services)

    def portfolio_decide(self, symbol: str, accept: bool) -> ClassificationDecision:
        decide = (
            portfolio_operations.accept_classification
            if accept
            else portfolio_operations.reject_classification
        )
        return decide(self.services, symbol)

    def analyse(self, progress: AnalysisCallback) -> AnalysisJobResponse:
        from alex.planner.service import run_analysis_job

        analysis = self.services.analysis
        job = run_analysis_job(analysis, analysis.create().id, progress)
        return planner_operations.analysis_job(self.services, job.id)

    def list_reports(self, query: ReportListQuery) -> ReportListResponse:
        return planner_operations.list_reports(self.services, query)

    def get_report(self, report_id: str) -> ReportBody:
        return planner_operations.get_report(self.services, report_id)

    def _store_present(self) -> bool:
        # Opening a store creates it: status only looks, so a deleted data folder cannot pass.
        settings = self.services.settings
        return settings.backend != "local" or settings.store_path.exists()

    def close(self) -> None:
        self.services.close()


def open_client(endpoint: str | None = None, settings: Settings | None = None) -> AlexClient:
    """A client of the API at ``endpoint`` or ALEX_API_ENDPOINT, else of the local store."""
    from alex.remote import BATCH_BYTES, BATCH_DOCUMENTS, RemoteClient  # it builds on Closing

    settings = settings or load_settings()
    url = endpoint or settings.api_endpoint
    if not url:
        return LocalClient(Services(settings))
    if settings.api_key is None:
        raise ConfigError(f"ALEX_API_KEY must be set to use the API at {url}")
    return RemoteClient(
        url,
        settings.api_key.get_secret_value(),
        # The server's limits, as far as this machine's settings know them.
        batch_documents=min(BATCH_DOCUMENTS, settings.limits.max_batch_documents),
        batch_bytes=min(BATCH_BYTES, settings.max_body_bytes),
    )
