"""POST /ingest on AWS Lambda: the original course contract, ``{"message", "document_id"}``.

Thin: ``lambda_http`` parses the API Gateway event and maps errors; this file only calls the
use case. The services are built once per container, when Lambda imports this module.
"""

from __future__ import annotations

from typing import Any

from lambda_http import Body, Event, LambdaDoor, Response

from alex.config import load_settings
from alex.http.schemas import IngestResponse
from alex.services import Services

# The same words as POST /ingest in alex/http/app.py (tests/deploy compares the two doors).
MESSAGES = {
    "created": "Document indexed successfully",
    "updated": "Document updated",
    "unchanged": "Document already indexed",
}
FIELDS = ("text", "metadata", "id")

door = LambdaDoor(lambda: Services(load_settings()))


def ingest(services: Services, body: Body) -> dict[str, Any]:
    result = services.ingest.ingest(body.get("text"), body.get("metadata"), body.get("id"))
    answer = IngestResponse(message=MESSAGES[result.status], document_id=result.document_id)
    return answer.model_dump(mode="json")


def handler(event: Event, context: object) -> Response:
    return door.handle(event, FIELDS, ingest)
