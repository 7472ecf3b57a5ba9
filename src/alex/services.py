"""The composition root: the use cases, built on the adapters it is given or the settings choose.

Every adapter is a parameter with a default (cosmicpython's ``bootstrap``): a door passes
nothing and gets what the settings say; a test or the cloud researcher passes its own
(in-memory fakes, a scripted chat model, the DynamoDB job store). Defaults are built on first
use, so a door that only searches never starts the chat model.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from alex.config import Settings
from alex.documents import DocumentService
from alex.domain.models import EMBEDDING_DIMENSION, EMBEDDING_MODEL
from alex.ingest import IngestService
from alex.ports import (
    AnalysisJobStore,
    Embedder,
    JobStore,
    PortfolioStore,
    ReportStore,
    VectorStore,
)
from alex.search import SearchService

if TYPE_CHECKING:
    from alex.planner.service import AnalysisService
    from alex.portfolio.service import PortfolioService
    from alex.research.llm import ModelOpener
    from alex.research.service import ResearchJobs, ResearchService

JobLauncher = Callable[[str], None]
"""Starts a queued research job by id (default: this process's worker thread)."""


class Services:
    """Everything a door needs; each adapter is the one passed in, or built on first use."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        store: VectorStore | None = None,
        open_chat_model: ModelOpener | None = None,
        job_store: JobStore | None = None,
        launch_job: JobLauncher | None = None,
        launch_analysis: JobLauncher | None = None,
        portfolio_store: PortfolioStore | None = None,
        analysis_jobs: AnalysisJobStore | None = None,
        reports: ReportStore | None = None,
        analysis_stale_after: timedelta | None = None,
    ) -> None:
        self.settings = settings
        self._embedder = embedder
        self._store = store
        self._open_chat_model = open_chat_model
        self._job_store = job_store
        self._launch_job = launch_job
        self._launch_analysis = launch_analysis
        self._portfolio_store = portfolio_store
        self._analysis_jobs = analysis_jobs
        self._reports = reports
        # A running analysis job older than this reads as timed out (the cloud's function
        # timeout: alex.planner.service, timed_out); None locally.
        self._analysis_stale_after = analysis_stale_after

    def _require_aws(self) -> tuple[str, str, str]:
        """SAGEMAKER_ENDPOINT, OPENSEARCH_ENDPOINT and DEFAULT_AWS_REGION, or a clear error."""
        self.settings.require("SAGEMAKER_ENDPOINT", "OPENSEARCH_ENDPOINT", "DEFAULT_AWS_REGION")
        settings = self.settings
        # require() has raised if any is missing; this only narrows the types.
        assert settings.sagemaker_endpoint and settings.opensearch_endpoint and settings.aws_region
        return settings.sagemaker_endpoint, settings.opensearch_endpoint, settings.aws_region

    @property
    def embedder(self) -> Embedder:
        """The model itself: the one given, local ONNX Runtime, or the SageMaker endpoint."""
        if self._embedder is None:
            self._embedder = self._default_embedder()
        return self._embedder

    def _default_embedder(self) -> Embedder:
        if self.settings.backend == "aws":
            from alex.adapters.sagemaker_embedder import SageMakerEmbedder

            endpoint, _, region = self._require_aws()
            return SageMakerEmbedder(
                endpoint, region=region, max_concurrency=self.settings.sagemaker_concurrency
            )
        from alex.adapters.local_embedder import LocalEmbedder

        return LocalEmbedder(batch_size=self.settings.embed_batch_size)

    @property
    def store(self) -> VectorStore:
        """The one given, the SQLite file, or the OpenSearch Serverless collection."""
        if self._store is None:
            self._store = self._default_store()
        return self._store

    def _default_store(self) -> VectorStore:
        if self.settings.backend == "aws":
            from alex.adapters.opensearch import OpenSearchStore

            _, endpoint, region = self._require_aws()
            return OpenSearchStore.connect(endpoint, region)
        from alex.adapters.sqlite_store import SqliteStore

        return SqliteStore(self.settings.store_path, EMBEDDING_DIMENSION, EMBEDDING_MODEL)

    @cached_property
    def ingest_embedder(self) -> Embedder:
        """The model behind a queue that merges concurrent ingests into shared batches.

        Searches call the model directly: a one-line query must not wait in line behind
        other clients' ingest batches (measured: ~0.6 s p50 under a mixed load).
        """
        from alex.adapters.batching_embedder import BatchingEmbedder

        return BatchingEmbedder(self.embedder)

    @cached_property
    def ingest(self) -> IngestService:
        return IngestService(
            self.ingest_embedder,
            self.store,
            self.settings.limits,
            self.settings.chunk_overlap,
            max_request_chunks=self.settings.request_chunk_limit,
        )

    @cached_property
    def search(self) -> SearchService:
        return SearchService(self.embedder, self.store, self.settings.limits)

    @cached_property
    def documents(self) -> DocumentService:
        return DocumentService(self.store)

    @property
    def open_chat_model(self) -> ModelOpener:
        """How a chat model is opened: the opener given (tests: a scripted model), else the
        settings' choice (``alex.research.llm.open_chat_model``). The planner's agents too."""
        if self._open_chat_model is not None:
            return self._open_chat_model
        from alex.research.llm import open_chat_model

        return open_chat_model

    @cached_property
    def research(self) -> ResearchService:
        """The researcher; it opens its chat model on the first run."""
        from alex.research.service import ResearchService

        return ResearchService(self.settings, self.ingest, self.search, self._open_chat_model)

    @cached_property
    def research_jobs(self) -> ResearchJobs:
        from alex.research.service import ResearchJobs

        return ResearchJobs(self.research, self._job_store, self._launch_job)

    @property
    def portfolio_store(self) -> PortfolioStore:
        """The one given, the DynamoDB table (``ALEX_BACKEND=aws``), or tables in the
        documents' SQLite file (one file to back up and move; ``SqlitePortfolioStore``
        creates only its own tables in it)."""
        if self._portfolio_store is None:
            self._portfolio_store = self._default_portfolio_store()
        return self._portfolio_store

    def _default_portfolio_store(self) -> PortfolioStore:
        if self.settings.backend == "aws":
            from alex.adapters.aws_clients import aws_client
            from alex.adapters.portfolio_dynamo import DynamoPortfolioStore

            # Only what the table needs: the portfolio Lambdas have no SageMaker endpoint.
            self.settings.require("ALEX_PORTFOLIO_TABLE", "DEFAULT_AWS_REGION")
            table, region = self.settings.portfolio_table, self.settings.aws_region
            assert table and region  # require() has raised if either is missing
            return DynamoPortfolioStore(table, aws_client("dynamodb", region))
        from alex.adapters.portfolio_sqlite import SqlitePortfolioStore

        return SqlitePortfolioStore(self.settings.store_path)

    @cached_property
    def portfolio(self) -> PortfolioService:
        from alex.portfolio.service import PortfolioService

        return PortfolioService(self.portfolio_store)

    @property
    def analysis_jobs(self) -> AnalysisJobStore:
        """The planner's job store: the one given, the DynamoDB table (``ALEX_BACKEND=aws``),
        or a table in the documents' SQLite file (which, on opening, marks failed the jobs
        a process that has ended left unfinished)."""
        if self._analysis_jobs is None:
            if self.settings.backend == "aws":
                from alex.adapters.planner_dynamo import DynamoAnalysisJobStore

                self._analysis_jobs = DynamoAnalysisJobStore(*self._planner_table())
            else:
                from alex.adapters.planner_sqlite import SqliteAnalysisJobStore

                self._analysis_jobs = SqliteAnalysisJobStore(self.settings.store_path)
        return self._analysis_jobs

    @property
    def reports(self) -> ReportStore:
        """The planner's reports: the one given, the DynamoDB table, or the SQLite file."""
        if self._reports is None:
            if self.settings.backend == "aws":
                from alex.adapters.planner_dynamo import DynamoReportStore

                self._reports = DynamoReportStore(*self._planner_table())
            else:
                from alex.adapters.planner_sqlite import SqliteReportStore

                self._reports = SqliteReportStore(self.settings.store_path)
        return self._reports

    def _planner_table(self) -> tuple[str, Any]:
        """ALEX_PLANNER_TABLE and a DynamoDB client in DEFAULT_AWS_REGION, or a clear error."""
        from alex.adapters.aws_clients import aws_client

        self.settings.require("ALEX_PLANNER_TABLE", "DEFAULT_AWS_REGION")
        table, region = self.settings.planner_table, self.settings.aws_region
        assert table and region  # require() has raised if either is missing
        return table, aws_client("dynamodb", region)

    @cached_property
    def analysis(self) -> AnalysisService:
        """The planner's analysis jobs and reports; it shares the researcher's chat model."""
        from alex.planner.service import AnalysisService

        return AnalysisService(
            self.settings,
            self.portfolio,
            self.research,
            self.ingest,
            self.search,
            self.analysis_jobs,
            self.reports,
            self._launch_analysis,
            stale_after=self._analysis_stale_after,
        )

    def warm_up(self) -> None:
        """Load the model and the vectors before the first request, not during it."""
        _ = self.embedder
        self.store.warm_up()

    def close(self) -> None:
        """Close what was opened: jobs, the chat model, then the store."""
        built = vars(self)  # cached_property keeps what it built here
        if "analysis" in built:
            self.analysis.close()
        if "research_jobs" in built:
            self.research_jobs.close()
        if "research" in built:
            self.research.close()
        if self._store is not None:
            self._store.close()
        if self._portfolio_store is not None:
            self._portfolio_store.close()
        for planner_store in (self._analysis_jobs, self._reports):
            if planner_store is not None:
                planner_store.close()
