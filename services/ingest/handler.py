"""Alex's document routes on AWS Lambda: POST /ingest (the original course contract),
POST /ingest/batch, GET /documents, GET and DELETE /documents/{document_id}.

Thin: ``lambda_http`` reads the API Gateway event and maps errors; each route validates its
input with the API's models and calls ``alex.http.operations``, as the FastAPI app does.
The services are built once per container, when Lambda imports this module.
"""

from __future__ import annotations

from lambda_http import Event, LambdaDoor, LambdaRequest, Response, Routes
from pydantic import BaseModel

from alex.config import load_settings
from alex.http import operations
from alex.http.schemas import BatchIngestBody, DocumentListQuery, IngestBody
from alex.services import Services

door = LambdaDoor(lambda: Services(load_settings()))


def ingest(services: Services, request: LambdaRequest) -> BaseModel:
    return operations.ingest(services, request.body(IngestBody))


def ingest_batch(services: Services, request: LambdaRequest) -> BaseModel:
    return operations.ingest_batch(services, request.body(BatchIngestBody))


def list_documents(services: Services, request: LambdaRequest) -> BaseModel:
    return operations.list_documents(services, request.query(DocumentListQuery))


def get_document(services: Services, request: LambdaRequest) -> BaseModel:
    return operations.get_document(services, request.path("document_id"))


def delete_document(services: Services, request: LambdaRequest) -> BaseModel:
    return operations.delete_document(services, request.path("document_id"))


ROUTES: Routes = {
    ("POST", "/ingest"): ingest,
    ("POST", "/ingest/batch"): ingest_batch,
    ("GET", "/documents"): list_documents,
    ("GET", "/documents/{document_id}"): get_document,
    ("DELETE", "/documents/{document_id}"): delete_document,
}


def handler(event: Event, context: object) -> Response:
    return door.handle(event, ROUTES)
