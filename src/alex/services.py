"""The composition root: builds the adapters the settings choose and the use cases on them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from alex.config import Settings
from alex.documents import DocumentService
from alex.domain.models import EMBEDDING_DIMENSION, EMBEDDING_MODEL
from alex.ingest import IngestService
from alex.ports import Embedder, VectorStore
from alex.search import SearchService

if TYPE_CHECKING:
    from alex.research.service import ResearchJobs, ResearchService


@dataclass
class Services:
    """Everything a door needs; adapters are created on first use and kept."""

    settings: Settings

    def _require_aws(self) -> tuple[str, str, str]:
        """SAGEMAKER_ENDPOINT, OPENSEARCH_ENDPOINT and DEFAULT_AWS_REGION, or a clear error."""
        self.settings.require("SAGEMAKER_ENDPOINT", "OPENSEARCH_ENDPOINT", "DEFAULT_AWS_REGION")
        settings = self.settings
        # require() has raised if any is missing; this only narrows the types.
        assert settings.sagemaker_endpoint and settings.opensearch_endpoint and settings.aws_region
        return settings.sagemaker_endpoint, settings.opensearch_endpoint, settings.aws_region

    @cached_property
    def embedder(self) -> Embedder:
        """The model itself: local ONNX Runtime, or the SageMaker endpoint."""
        if self.settings.backend == "aws":
            from alex.adapters.sagemaker_embedder import SageMakerEmbedder

            endpoint, _, region = self._require_aws()
            return SageMakerEmbedder(endpoint, region=region)
        from alex.adapters.local_embedder import LocalEmbedder

        return LocalEmbedder(batch_size=self.settings.embed_batch_size)

    @cached_property
    def ingest_embedder(self) -> Embedder:
        """The model behind a queue that merges concurrent ingests into shared batches.

        Searches call the model directly: a one-line query must not wait in line behind
        other clients' ingest batches (measured: ~0.6 s p50 under a mixed load).
        """
        from alex.adapters.batching_embedder import BatchingEmbedder

        return BatchingEmbedder(self.embedder)

    @cached_property
    def store(self) -> VectorStore:
        if self.settings.backend == "aws":
            from alex.adapters.opensearch_store import OpenSearchStore

            _, endpoint, region = self._require_aws()
            return OpenSearchStore.connect(endpoint, region)
        from alex.adapters.sqlite_store import SqliteStore

        return SqliteStore(self.settings.store_path, EMBEDDING_DIMENSION, EMBEDDING_MODEL)

    @cached_property
    def ingest(self) -> IngestService:
        return IngestService(
            self.ingest_embedder, self.store, self.settings.limits, self.settings.chunk_overlap
        )

    @cached_property
    def search(self) -> SearchService:
        return SearchService(self.embedder, self.store, self.settings.limits)

    @cached_property
    def documents(self) -> DocumentService:
        return DocumentService(self.store)

    @cached_property
    def research(self) -> ResearchService:
        """The researcher; it starts its chat model on the first run."""
        from alex.research.service import ResearchService

        return ResearchService(self.settings, self.ingest, self.search)

    @cached_property
    def research_jobs(self) -> ResearchJobs:
        from alex.research.service import ResearchJobs

        return ResearchJobs(self.research)

    def warm_up(self) -> None:
        """Load the model and the vectors before the first request, not during it."""
        _ = self.embedder
        self.store.warm_up()

    def close(self) -> None:
        if "research_jobs" in self.__dict__:
            self.research_jobs.close()
        if "research" in self.__dict__:
            self.research.close()
        if "store" in self.__dict__:
            self.store.close()
