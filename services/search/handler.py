"""Alex's search on AWS Lambda: POST /search (semantic, keyword or hybrid) and GET /health.

Thin: ``lambda_http`` reads the API Gateway event and maps errors; each route validates its
input with the API's models and calls ``alex.http.operations``, as the FastAPI app does.
The services are built once per container, when Lambda imports this module.
"""

from __future__ import annotations

from lambda_http import Event, LambdaDoor, LambdaRequest, Response, Routes
from pydantic import BaseModel

from alex.config import load_settings
from alex.http import operations
from alex.http.schemas import SearchBody
from alex.services import Services

door = LambdaDoor(lambda: Services(load_settings()))


def search(services: Services, request: LambdaRequest) -> BaseModel:
    return operations.search(services, request.body(SearchBody))


def health(services: Services, request: LambdaRequest) -> BaseModel:
    return operations.health()


ROUTES: Routes = {
    ("POST", "/search"): search,
    ("GET", "/health"): health,
}


def handler(event: Event, context: object) -> Response:
    return door.handle(event, ROUTES)
