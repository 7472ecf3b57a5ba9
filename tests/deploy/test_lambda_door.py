"""The Lambda handlers in process: event parsing, error mapping, the HTTP API's answers.

No Node.js needed. The Serverless side (packaging, invoke local) is in test_serverless.py.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from alex.config import load_settings
from alex.domain.errors import (
    ConfigError,
    EmbedderUnavailableError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    StoreUnavailableError,
)
from alex.http.app import create_app
from alex.services import Services

from .helpers import load_handler

KEY = "deploy-test-key-0123456789"


@pytest.fixture(scope="module")
def ingest_module() -> ModuleType:
    return load_handler("ingest")


@pytest.fixture(scope="module")
def search_module() -> ModuleType:
    return load_handler("search")


def event(
    body: str | None,
    *,
    base64_encoded: bool = False,
    route: tuple[str, str] = ("POST", "/ingest"),
    path: str | None = None,
    query: dict[str, list[str]] | None = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A REST API (v1) proxy event as API Gateway sends it, key already checked."""
    method, resource = route
    return {
        "resource": resource,
        "path": path or resource,
        "httpMethod": method,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} if query else None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_parameters,
        "headers": {"content-type": "application/json", "x-api-key": KEY},
        "requestContext": {"identity": {"apiKey": KEY}, "stage": "dev"},
        "body": body,
        "isBase64Encoded": base64_encoded,
    }


def answer(response: dict[str, Any]) -> tuple[int, Any]:
    assert response["headers"] == {"content-type": "application/json"}
    assert isinstance(response["body"], str)
    return response["statusCode"], json.loads(response["body"])


class FakeIngest:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[tuple[object, object, object]] = []

    def ingest(self, text: object, metadata: object = None, source_id: object = None) -> Any:
        self.calls.append((text, metadata, source_id))
        if self.error:
            raise self.error
        return SimpleNamespace(document_id="d" * 32, status="created", chunks=1)


def fake_services(ingest: FakeIngest, max_body_bytes: int = 1024) -> Any:
    return SimpleNamespace(settings=SimpleNamespace(max_body_bytes=max_body_bytes), ingest=ingest)


def door_with(module: ModuleType, services: Any) -> Any:
    return module.LambdaDoor(lambda: services)


def call(module: ModuleType, door: Any, body: str | None, **kwargs: Any) -> tuple[int, Any]:
    """``module.handler`` (what Lambda calls) on an event, with ``door`` as its door."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "door", door)
        return answer(module.handler(event(body, **kwargs), None))


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ('{"text": "a", ', 400, "Malformed JSON in the request body"),
        ("{'text': 'single quotes'}", 400, "Malformed JSON in the request body"),
        ("[1, 2]", 422, "Invalid request: body: Input should be a JSON object"),
        ('"text"', 422, "Invalid request: body: Input should be a JSON object"),
        ("", 422, "Invalid request: body: Field required"),
        (None, 422, "Invalid request: body: Field required"),
        (
            '{"text": "a", "metdata": {}}',
            422,
            "Invalid request: metdata: Extra inputs are not permitted",
        ),
        ('{"text": "' + "x" * 2000 + '"}', 413, "Request body is over the limit of 1,024 bytes"),
    ],
)
def test_bad_requests_are_refused_before_the_use_case(
    ingest_module: ModuleType, body: str | None, status: int, message: str
) -> None:
    ingest = FakeIngest()
    got_status, got = call(ingest_module, door_with(ingest_module, fake_services(ingest)), body)
    assert (got_status, got["message"]) == (status, message)
    assert ingest.calls == []


def test_base64_bodies_are_decoded(ingest_module: ModuleType) -> None:
    ingest = FakeIngest()
    door = door_with(ingest_module, fake_services(ingest))
    raw = base64.b64encode(json.dumps({"text": "Grüße", "id": "x"}).encode()).decode()
    assert call(ingest_module, door, raw, base64_encoded=True) == (
        200,
        {"message": "Document indexed successfully", "document_id": "d" * 32},
    )
    assert ingest.calls == [("Grüße", {}, "x")]  # the body model fills defaults, as the app
    assert call(ingest_module, door, "not base64!", base64_encoded=True)[0] == 400


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidInputError("'text' is empty"), 422),
        (PayloadTooLargeError("'text' is too long"), 413),
        (NotFoundError("no such document"), 404),
        (StoreUnavailableError("collection unreachable"), 503),
        (EmbedderUnavailableError("endpoint cold"), 503),
        (ConfigError("SAGEMAKER_ENDPOINT must be set"), 500),
    ],
)
def test_domain_errors_map_through_the_shared_table(
    ingest_module: ModuleType, error: Exception, status: int
) -> None:
    door = door_with(ingest_module, fake_services(FakeIngest(error)))
    assert call(ingest_module, door, '{"text": "a"}') == (status, {"message": str(error)})


def test_unexpected_errors_are_500_without_details(
    ingest_module: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    door = door_with(ingest_module, fake_services(FakeIngest(RuntimeError("secret detail"))))
    status, body = call(ingest_module, door, '{"text": "a"}')
    assert (status, body) == (500, {"message": "Internal server error"})
    assert "secret detail" in caplog.text  # logged for CloudWatch, not answered


def test_a_configuration_error_at_start_is_answered_on_every_request(
    ingest_module: ModuleType,
) -> None:
    def fail() -> Any:
        raise ConfigError("OPENSEARCH_ENDPOINT must be set")

    door = ingest_module.LambdaDoor(fail)
    for _ in range(2):
        assert call(ingest_module, door, '{"text": "a"}') == (
            500,
            {"message": "OPENSEARCH_ENDPOINT must be set"},
        )


def test_the_aws_backend_reports_what_it_misses(ingest_module: ModuleType) -> None:
    """As deployed (ALEX_BACKEND=aws) but without its settings: a 500 naming the variables."""
    door = ingest_module.LambdaDoor(lambda: Services(load_settings(backend="aws")))
    status, body = call(ingest_module, door, '{"text": "Northwind raised guidance."}')
    assert status == 500
    assert "SAGEMAKER_ENDPOINT" in body["message"]


# --- the same answers as the HTTP API (alex serve), on a real store and the real model ---


@pytest.fixture
def two_doors(services: Services, tmp_path: Path) -> Iterator[tuple[TestClient, Services]]:
    """The FastAPI app on ``services``; a second, empty store for the Lambda door."""
    lambda_services = Services(
        load_settings(data_dir_setting=tmp_path / "lambda-data"), embedder=services.embedder
    )
    with TestClient(create_app(services, KEY), raise_server_exceptions=False) as client:
        client.headers["x-api-key"] = KEY
        client.headers["content-type"] = "application/json"
        yield client, lambda_services
    lambda_services.close()


INGEST_CASES = [
    '{"text": "Northwind raised guidance to $5.1bn.", "metadata": {"ticker": "NWSC"}}',
    '{"text": "Northwind raised guidance to $5.1bn.", "metadata": {"ticker": "NWSC"}}',
    '{"text": "Northwind raised guidance to $5.1bn.", "metadata": {"ticker": "NWND"}}',
    '{"text": "Contoso owes 2.6 times EBITDA.", "id": "contoso-note", "metadata": {"year": 2025}}',
    '{"text": "Contoso owes 2.6 times EBITDA.", "metadata": {"year": 2025}}',
    '{"text": ',
    "[]",
    "",
    '{"text": ""}',
    '{"text": 5}',
    '{"text": "a", "extra": 1}',
    '{"text": "a", "metadata": {"nested": {"no": 1}}}',
    '{"text": "a", "metadata": ["list"]}',
    '{"text": "a", "id": ""}',
    '{"text": "a\\u0000b"}',
]
SEARCH_CASES = [
    '{"query": "how leveraged is Contoso", "k": 3}',
    '{"query": "guidance", "mode": "keyword", "filters": {"ticker": "NWND"}}',
    '{"query": "EBITDA", "mode": "semantic", "k": 1, "filters": {"year": 2025}}',
    '{"query": "nothing matches this filter", "filters": {"ticker": "ZZZZ"}}',
    '{"query": "x", "k": 0}',
    '{"query": "x", "k": true}',
    '{"query": "x", "k": 101}',
    '{"query": "x", "mode": "fuzzy"}',
    '{"query": ""}',
    '{"query": "x", "filters": {"a": [1]}}',
    '{"query": "x", "limit": 3}',
    '{"query": "x"',
]


def test_lambda_answers_as_the_http_api(
    two_doors: tuple[TestClient, Services], ingest_module: ModuleType, search_module: ModuleType
) -> None:
    client, lambda_services = two_doors
    doors: list[tuple[str, ModuleType, list[str]]] = [
        ("/ingest", ingest_module, INGEST_CASES),
        ("/search", search_module, SEARCH_CASES),
    ]
    for path, module, cases in doors:
        door = module.LambdaDoor(lambda: lambda_services)
        for body in cases:
            http = client.post(path, content=body.encode())
            status, lambda_body = call(module, door, body, route=("POST", path))
            assert status == http.status_code, (path, body, http.json(), lambda_body)
            if status == 200:
                assert lambda_body == http.json(), (path, body)
            else:
                assert isinstance(lambda_body["message"], str) and lambda_body["message"]


def test_document_routes_answer_as_the_http_api(
    two_doors: tuple[TestClient, Services], ingest_module: ModuleType
) -> None:
    """GET /documents (query string), GET and DELETE /documents/{id} (path parameter)."""
    client, lambda_services = two_doors
    door = ingest_module.LambdaDoor(lambda: lambda_services)
    texts = [("Northwind raised guidance.", "NWND"), ("Contoso cut its dividend.", "CTSO")]
    for text, ticker in texts:
        body = json.dumps({"text": text, "metadata": {"ticker": ticker}})
        assert client.post("/ingest", content=body).status_code == 200
        assert call(ingest_module, door, body)[0] == 200

    def both(method: str, resource: str, **request: Any) -> tuple[int, Any]:
        query: dict[str, list[str]] = request.get("query", {})
        document_id: str | None = request.get("document_id")
        path = resource.replace("{document_id}", document_id or "")
        http = client.request(method, path, params=query)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(ingest_module, "door", door)
            lambda_event = event(
                None,
                route=(method, resource),
                path=path,
                query=query,
                path_parameters={"document_id": document_id} if document_id else None,
            )
            status, body = answer(ingest_module.handler(lambda_event, None))
        assert status == http.status_code, (method, path, query, http.json(), body)
        if status == 200 and method == "GET" and resource == "/documents":
            # Same documents in the same order; timestamps differ between the two stores.
            assert [d["document_id"] for d in body["documents"]] == [
                d["document_id"] for d in http.json()["documents"]
            ]
            assert {k: v for k, v in body.items() if k != "documents"} == {
                k: v for k, v in http.json().items() if k != "documents"
            }
        elif status == 200:
            assert body.keys() == http.json().keys()
        return status, body

    status, listed = both("GET", "/documents", query={"filter": ["ticker=NWND"], "limit": ["5"]})
    assert status == 200 and listed["total"] == 1 and listed["limit"] == 5
    assert both("GET", "/documents", query={"filter": ["ticker=NWND", "ticker=CTSO"]})[0] == 200
    for bad in ({"limit": ["0"]}, {"limit": ["x"]}, {"filter": ["no-equals"]}, {"foo": ["1"]}):
        assert both("GET", "/documents", query=bad)[0] == 422, bad
    document_id = listed["documents"][0]["document_id"]
    status, document = both("GET", "/documents/{document_id}", document_id=document_id)
    assert status == 200 and document["text"] == "Northwind raised guidance."
    assert both("GET", "/documents/{document_id}", document_id="0" * 32)[0] == 404
    assert both("DELETE", "/documents/{document_id}", document_id=document_id)[0] == 200
    assert both("DELETE", "/documents/{document_id}", document_id=document_id)[0] == 404


def test_a_route_the_handler_does_not_serve_is_404(ingest_module: ModuleType) -> None:
    door = door_with(ingest_module, fake_services(FakeIngest()))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ingest_module, "door", door)
        response = ingest_module.handler(event("{}", route=("POST", "/search")), None)
    assert answer(response) == (404, {"message": "Not Found"})
