"""What each route of Alex's API does, once, for every door.

The FastAPI app (``alex serve``, the container) and the Lambda handlers both validate
requests with the models in ``alex.http.schemas`` and then call these functions, so a route
answers the same wherever it runs. Each one calls one use case and shapes its answer.
"""

from __future__ import annotations

from alex import __version__
from alex.domain.validation import parse_key_values
from alex.http.schemas import (
    BatchIngestBody,
    BatchIngestResponse,
    BatchItem,
    DeleteResponse,
    DocumentBody,
    DocumentListQuery,
    DocumentListResponse,
    DocumentSummaryBody,
    HealthResponse,
    IngestBody,
    IngestResponse,
    ResearchBody,
    ResearchJobResponse,
    ResearchResponse,
    SearchBody,
    SearchHit,
    SearchResponse,
)
from alex.ingest import IngestRequest
from alex.services import Services

# The original course's POST /ingest answered "Document indexed successfully"; clients may
# show these words, so they are part of the contract.
INGEST_MESSAGES = {
    "created": "Document indexed successfully",
    "updated": "Document updated",
    "unchanged": "Document already indexed",
}


def ingest(services: Services, body: IngestBody) -> IngestResponse:
    result = services.ingest.ingest(body.text, body.metadata, body.id)
    return IngestResponse(message=INGEST_MESSAGES[result.status], document_id=result.document_id)


def ingest_batch(services: Services, body: BatchIngestBody) -> BatchIngestResponse:
    results = services.ingest.ingest_many(
        [IngestRequest(item.text, item.metadata, item.id) for item in body.documents]
    )
    return BatchIngestResponse(
        message=f"{len(results)} documents processed",
        results=[
            BatchItem(document_id=r.document_id, status=r.status, chunks=r.chunks) for r in results
        ],
    )


def search(services: Services, body: SearchBody) -> SearchResponse:
    hits = services.search.search(body.query, body.k, body.mode, body.filters)
    return SearchResponse(
        query=body.query, mode=body.mode, results=[SearchHit.of(hit) for hit in hits]
    )


def list_documents(services: Services, query: DocumentListQuery) -> DocumentListResponse:
    summaries, total = services.documents.list_documents(
        query.limit, query.offset, parse_key_values(query.filter, "filter")
    )
    return DocumentListResponse(
        documents=[DocumentSummaryBody.of(s) for s in summaries],
        total=total,
        limit=query.limit,
        offset=query.offset,
    )


def get_document(services: Services, document_id: str) -> DocumentBody:
    return DocumentBody.of(services.documents.get(document_id))


def delete_document(services: Services, document_id: str) -> DeleteResponse:
    services.documents.delete(document_id)
    return DeleteResponse(message="Document deleted", document_id=document_id)


def research(services: Services, body: ResearchBody) -> ResearchResponse:
    return ResearchResponse.of_run(services.research.run(body.topic, body.urls))


def submit_research_job(services: Services, body: ResearchBody) -> ResearchJobResponse:
    return ResearchJobResponse.of(services.research_jobs.submit(body.topic, body.urls))


def research_job(services: Services, job_id: str) -> ResearchJobResponse:
    return ResearchJobResponse.of(services.research_jobs.get(job_id))


def health() -> HealthResponse:
    return HealthResponse(status="ok", version=__version__)
