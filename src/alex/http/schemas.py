"""Request and response bodies of the HTTP API (its OpenAPI document is built from these)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from alex.domain.models import ChunkHit, Document, DocumentSummary, IngestStatus
from alex.domain.validation import (
    INT64,
    MAX_RESEARCH_TOPIC_CHARS,
    MAX_RESEARCH_URLS,
    MAX_URL_CHARS,
)
from alex.http.errors import status_for_kind

if TYPE_CHECKING:
    # Types only: the ingest and search Lambdas import this module without the researcher.
    from alex.domain.jobs import JobFailure
    from alex.research.jobs import JobResult, ResearchJob
    from alex.research.orchestrator import ResearchResult

JsonScalar = StrictStr | StrictInt | StrictFloat | StrictBool | None
MetadataBody = dict[str, JsonScalar | list[JsonScalar]]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IngestBody(_Body):
    text: StrictStr = Field(description="The document's text.")
    metadata: MetadataBody = Field(
        default_factory=dict,
        description="Scalars or lists of scalars, e.g. ticker, source, topic.",
    )
    id: StrictStr | None = Field(
        None,
        description="Your stable id for the document (a URL, a file name). Re-ingesting a "
        "changed text under the same id replaces the old version. Without it the id "
        "comes from the text, so the same text is stored once.",
    )


class IngestResponse(BaseModel):
    """Exactly the original course contract: clients read ``document_id``."""

    message: str
    document_id: str


class BatchIngestBody(_Body):
    documents: list[IngestBody] = Field(min_length=1)


class BatchItem(BaseModel):
    document_id: str
    status: IngestStatus
    chunks: int


class BatchIngestResponse(BaseModel):
    message: str
    results: list[BatchItem]


class SearchBody(_Body):
    query: StrictStr
    k: StrictInt = Field(5, description="How many chunks to return (1-100).")
    mode: Literal["hybrid", "semantic", "keyword"] = "hybrid"
    filters: dict[str, StrictStr | StrictInt | StrictFloat | StrictBool] = Field(
        default_factory=dict,
        description="Metadata equality filters; a list-valued field matches if it contains "
        "the value.",
    )


class SearchHit(BaseModel):
    document_id: str
    chunk: int
    score: float
    text: str
    metadata: MetadataBody

    @classmethod
    def of(cls, hit: ChunkHit) -> SearchHit:
        return cls(
            document_id=hit.document_id,
            chunk=hit.chunk_ordinal,
            score=hit.score,
            text=hit.text,
            metadata=hit.metadata,
        )


class SearchResponse(BaseModel):
    query: str
    mode: str
    results: list[SearchHit]


class DocumentSummaryBody(BaseModel):
    document_id: str
    metadata: MetadataBody
    chunks: int
    chars: int
    preview: str
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, summary: DocumentSummary) -> DocumentSummaryBody:
        return cls(
            document_id=summary.id,
            metadata=summary.metadata,
            chunks=summary.chunk_count,
            chars=summary.chars,
            preview=summary.preview,
            created_at=summary.created_at,
            updated_at=summary.updated_at,
        )


class DocumentListQuery(_Body):
    """GET /documents's query string."""

    limit: int = Field(50, ge=1, le=500, description="At most this many documents.")
    offset: int = Field(0, ge=0, le=INT64.stop - 1, description="Skip this many first.")
    filter: list[str] = Field(
        default_factory=list, description="key=value metadata filters, repeatable."
    )


class DocumentListResponse(BaseModel):
    documents: list[DocumentSummaryBody]
    total: int
    limit: int
    offset: int


class DocumentBody(BaseModel):
    document_id: str
    source_id: str | None
    text: str
    metadata: MetadataBody
    chunks: int
    created_at: str | None
    updated_at: str | None

    @classmethod
    def of(cls, document: Document) -> DocumentBody:
        return cls(
            document_id=document.id,
            source_id=document.source_id,
            text=document.text,
            metadata=document.metadata,
            chunks=document.chunk_count,
            created_at=document.created_at,
            updated_at=document.updated_at,
        )


class DeleteResponse(BaseModel):
    message: str
    document_id: str


class HealthResponse(BaseModel):
    status: Literal["ok"]
    version: str


class ErrorResponse(BaseModel):
    message: str
    errors: Annotated[list[dict[str, object]] | None, Field(None)] = None


class ResearchBody(_Body):
    topic: StrictStr | None = Field(
        None,
        max_length=MAX_RESEARCH_TOPIC_CHARS,
        description="What to research; null lets Alex choose.",
    )
    # Each URL capped here, before a job keeps it and before its errors quote it.
    urls: list[Annotated[StrictStr, Field(max_length=MAX_URL_CHARS)]] = Field(
        default_factory=list,
        max_length=MAX_RESEARCH_URLS,
        description="Pages to read (http/https), each at most 2,048 characters. Empty: the "
        "configured default sources.",
    )


class SourceBody(BaseModel):
    url: str
    title: str


class AnalysisBody(BaseModel):
    title: str
    topic: str
    summary: str
    key_points: list[str]
    risks: list[str]
    sources: list[SourceBody]
    as_of: str
    model: str


class LeftOutBody(BaseModel):
    text: str
    reason: str = Field(
        description="no-valid-citation, figure-not-in-cited-sentence, figures-dropped, "
        "not-in-cited-sentence, page-instruction, url, cut-off or repeated"
    )
    detail: str


class ResearchResponse(BaseModel):
    message: str
    document_id: str
    status: IngestStatus
    analysis: AnalysisBody
    pages_read: list[str] = Field(description="Every page the run read (final URLs).")
    failed_urls: dict[str, str] = Field(description="Pages that could not be read, and why.")
    unverified_figures: list[str] = Field(
        description="Numbers in the analysis that appear on no page read: check them."
    )
    left_out: list[LeftOutBody] = Field(
        default_factory=list,
        description="Points the model wrote that failed a check, so were not stored, and why.",
    )
    seconds: float

    @classmethod
    def of(cls, result: JobResult) -> ResearchResponse:
        return cls(
            message="Research stored",
            document_id=result.document_id,
            status=result.status,
            analysis=AnalysisBody.model_validate(result.analysis.model_dump()),
            pages_read=list(result.pages_read),
            failed_urls=dict(result.failed_urls),
            unverified_figures=list(result.unverified_figures),
            left_out=[
                LeftOutBody.model_validate(point, from_attributes=True) for point in result.left_out
            ],
            seconds=round(result.seconds, 2),
        )

    @classmethod
    def of_run(cls, run: ResearchResult) -> ResearchResponse:
        """The answer to a run that just finished (``POST /research``, ``alex research``)."""
        # Here, not at the top: the ingest and search Lambdas ship without alex.research.
        from alex.research.jobs import JobResult

        return cls.of(JobResult.of(run))


class ResearchJobError(BaseModel):
    message: str
    status: int

    @classmethod
    def of(cls, failure: JobFailure) -> ResearchJobError:
        return cls(message=failure.message, status=int(status_for_kind(failure.kind)))


class ResearchJobResponse(BaseModel):
    job_id: str
    status: Literal["queued", "running", "succeeded", "failed"]
    step: str
    detail: str
    topic: str | None
    urls: list[str]
    created_at: str
    result: ResearchResponse | None = None
    error: ResearchJobError | None = None

    @classmethod
    def of(cls, job: ResearchJob) -> ResearchJobResponse:
        return cls(
            job_id=job.job_id,
            status=job.status,
            step=job.step,
            detail=job.detail,
            topic=job.topic,
            urls=list(job.urls),
            created_at=job.created_at,
            result=None if job.result is None else ResearchResponse.of(job.result),
            error=None if job.error is None else ResearchJobError.of(job.error),
        )
