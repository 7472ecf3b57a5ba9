"""POST /search on AWS Lambda: semantic, keyword or hybrid search, answered as ``alex serve`` does.

Thin: ``lambda_http`` parses the API Gateway event and maps errors; this file only calls the
use case. The services are built once per container, when Lambda imports this module.
"""

from __future__ import annotations

from typing import Any

from lambda_http import Body, Event, LambdaDoor, Response

from alex.config import load_settings
from alex.http.schemas import SearchHit, SearchResponse
from alex.services import Services

FIELDS = ("query", "k", "mode", "filters")

door = LambdaDoor(lambda: Services(load_settings()))


def search(services: Services, body: Body) -> dict[str, Any]:
    query, k, mode = body.get("query"), body.get("k", 5), body.get("mode", "hybrid")
    hits = services.search.search(query, k, mode, body.get("filters"))
    answer = SearchResponse(query=query, mode=mode, results=[SearchHit.of(hit) for hit in hits])
    return answer.model_dump(mode="json")


def handler(event: Event, context: object) -> Response:
    return door.handle(event, FIELDS, search)
