"""The HTTP API in process: keys, the course contract, bad input and nothing stored from it.

Routing and validation, not ranking: the app runs on the in-memory fakes (no model load).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from alex.http.app import create_app
from alex.services import Services

KEY = "test-key-0123456789"
OPEN_ROUTES = {"/health", "/docs", "/openapi.json", "/docs/oauth2-redirect", "/redoc"}


@pytest.fixture
def services(fake_services: Services) -> Services:
    return fake_services


@pytest.fixture
def app(services: Services) -> FastAPI:
    return create_app(services, KEY)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        test_client.headers["x-api-key"] = KEY
        yield test_client


def _count(client: TestClient) -> int:
    return int(client.get("/documents").json()["total"])


def test_course_contract_ingest(client: TestClient) -> None:
    response = client.post(
        "/ingest",
        json={
            "text": "Northwind reported record sales.",
            "metadata": {"source": "test", "ticker": "NWND"},
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"message", "document_id"}
    assert body["message"] == "Document indexed successfully"
    stored = client.get(f"/documents/{body['document_id']}").json()
    assert stored["text"] == "Northwind reported record sales."
    assert stored["metadata"] == {"source": "test", "ticker": "NWND"}


def test_keyed_routes_refuse_missing_and_wrong_keys_with_json_403(
    app: FastAPI, client: TestClient
) -> None:
    # Every operation the OpenAPI document lists, so a new route cannot slip through unkeyed.
    paths = app.openapi()["paths"]
    keyed = [
        (method.upper(), path)
        for path, ops in paths.items()
        if path not in OPEN_ROUTES
        for method in ops
    ]
    assert {path for _, path in keyed} >= {
        "/ingest",
        "/ingest/batch",
        "/search",
        "/documents",
        "/documents/{document_id}",
    }
    for method, template in keyed:
        path = template.replace("{document_id}", "abc")
        for headers in ({"x-api-key": ""}, {"x-api-key": "wrong"}, {"x-api-key": KEY + "x"}):
            response = client.request(method, path, headers=headers, json={"text": "t"})
            assert response.status_code == 403, (method, path, headers)
            assert response.json() == {"message": "Forbidden"}
        unkeyed = TestClient(app).request(method, path, json={"text": "t"})
        assert unkeyed.status_code == 403
        assert unkeyed.json() == {"message": "Forbidden"}
    bare = TestClient(app)
    assert bare.get("/health").json()["status"] == "ok"
    assert bare.get("/openapi.json").status_code == 200
    assert "swagger" in bare.get("/docs").text.lower()
    assert _count(client) == 0


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "Malformed JSON"),
        (b'{"text": ""}', 422, "empty"),
        (b'{"text": "   \\n"}', 422, "empty"),
        (b'{"text": 42}', 422, "text"),
        (b'{"text": "ok", "metadata": "nope"}', 422, "metadata"),
        (b'{"text": "ok", "metadata": {"a": {"nested": 1}}}', 422, "metadata"),
        (b'{"metadata": {}}', 422, "text"),
        (b'{"text": "ok", "unexpected": 1}', 422, "unexpected"),
        (b"[]", 422, "body"),
    ],
)
def test_bad_ingest_bodies_are_clear_4xx_and_store_nothing(
    client: TestClient, body: bytes, status: int, message: str
) -> None:
    response = client.post("/ingest", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    payload = response.json()
    assert message in payload["message"]
    assert "Traceback" not in response.text
    assert _count(client) == 0


def test_oversize_body_is_413_and_stores_nothing(client: TestClient, services: Services) -> None:
    limit = services.settings.max_body_bytes
    response = client.post("/ingest", json={"text": "x" * (limit + 10)})
    assert response.status_code == 413
    assert "limit" in response.json()["message"]

    # Streaming without a Content-Length is cut off too.
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(limit // 65536 + 2):
            yield b"y" * 65536
        yield b'"}'

    streamed = client.post(
        "/ingest", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert _count(client) == 0


def test_text_over_the_character_limit_is_413(client: TestClient, services: Services) -> None:
    too_long = "word " * (services.settings.max_text_chars // 5 + 1)
    response = client.post("/ingest", json={"text": too_long})
    assert response.status_code in (413,)
    assert _count(client) == 0


def test_batch_is_all_or_nothing_on_validation(client: TestClient) -> None:
    response = client.post("/ingest/batch", json={"documents": [{"text": "fine"}, {"text": " "}]})
    assert response.status_code == 422
    assert "document 1" in response.json()["message"]
    assert _count(client) == 0
    response = client.post(
        "/ingest/batch",
        json={"documents": [{"text": "one", "id": "a"}, {"text": "two", "id": "b"}]},
    )
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["created", "created"]
    assert _count(client) == 2


def test_search_list_get_delete_round_trip(client: TestClient) -> None:
    ingest = client.post(
        "/ingest",
        json={
            "text": "Solar farms sell power under long contracts.",
            "metadata": {"ticker": "SUNY"},
        },
    )
    document_id = ingest.json()["document_id"]
    for mode in ("hybrid", "semantic", "keyword"):
        hits = client.post(
            "/search",
            json={
                "query": "solar power contracts",
                "k": 3,
                "mode": mode,
                "filters": {"ticker": "SUNY"},
            },
        ).json()["results"]
        assert hits[0]["document_id"] == document_id, mode
        assert hits[0]["metadata"] == {"ticker": "SUNY"}
    listed = client.get("/documents", params={"filter": "ticker=SUNY"}).json()
    assert [d["document_id"] for d in listed["documents"]] == [document_id]
    assert client.get("/documents", params={"filter": "ticker=NONE"}).json()["total"] == 0
    assert client.delete(f"/documents/{document_id}").json()["document_id"] == document_id
    missing = client.get(f"/documents/{document_id}")
    assert missing.status_code == 404 and "No document" in missing.json()["message"]
    assert client.delete(f"/documents/{document_id}").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"query": ""},
        {"query": "x", "k": 0},
        {"query": "x", "k": 1000},
        {"query": "x", "mode": "fuzzy"},
        {"query": "x", "filters": {"ticker": ["A"]}},
        {"query": "x", "k": "5"},
    ],
)
def test_bad_searches_are_422(client: TestClient, body: dict[str, object]) -> None:
    response = client.post("/search", json=body)
    assert response.status_code == 422
    assert response.json()["message"]


def test_bad_list_parameters_are_4xx(client: TestClient) -> None:
    assert client.get("/documents", params={"limit": 0}).status_code == 422
    assert client.get("/documents", params={"filter": "no-equals"}).status_code == 422
