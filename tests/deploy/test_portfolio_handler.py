"""The portfolio's Lambda handler in process, on DynamoDB (moto): it serves every route of
the FastAPI app's portfolio router but the projection (the researcher's image serves it:
test_projection_image.py), and answers as the app does.

No Node.js needed. The packaging (zip, routes on the shared API) is in test_serverless.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient

from alex.adapters.portfolio_dynamo import DynamoPortfolioStore
from alex.config import Settings
from alex.http.app import build_portfolio_router, create_app
from alex.portfolio.model import Weights
from alex.services import Services
from tests.support.moto_tables import portfolio_table

from .helpers import ROOT, load_handler

REGION = "eu-west-2"
TABLE = "alex-portfolio-lambda-test"
SAMPLES = ROOT / "samples" / "portfolio"
DAY = "2026-12-03"  # the sample household's last prices
KEY = "portfolio-handler-key-0123456789"
# Served by the researcher's image: numpy would take the zip over its 6 MB target.
IMAGE_ONLY = {("POST", "/portfolio/projection")}


@pytest.fixture(scope="module")
def portfolio_module() -> ModuleType:
    return load_handler("portfolio")


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    with portfolio_table(monkeypatch, tmp_path, TABLE, REGION) as client:
        yield client


def settings(tmp_path: Path, **values: str) -> Settings:
    # No .env and no inherited environment: the values the serverless.yml sets.
    given: dict[str, Any] = {"_env_file": None, "ALEX_DATA_DIR": str(tmp_path), **values}
    return Settings(**given)


def aws_services(tmp_path: Path) -> Services:
    return Services(
        settings(
            tmp_path, ALEX_BACKEND="aws", ALEX_PORTFOLIO_TABLE=TABLE, DEFAULT_AWS_REGION=REGION
        )
    )


def household_files() -> list[dict[str, str]]:
    return [
        {"name": path.name, "text": path.read_text("utf-8")}
        for path in sorted(SAMPLES.glob("*.csv"))
    ]


def event(
    method: str, resource: str, body: object = None, query: dict[str, str] | None = None
) -> dict[str, Any]:
    """A REST API (v1) proxy event as API Gateway sends it, the key already checked."""
    return {
        "resource": resource,
        "path": resource,
        "httpMethod": method,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": None,
        "headers": {"content-type": "application/json", "x-api-key": KEY},
        "requestContext": {"identity": {"apiKey": KEY}, "stage": "dev"},
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


def call(module: ModuleType, services: Services, lambda_event: dict[str, Any]) -> tuple[int, Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "door", module.LambdaDoor(lambda: services))
        response = module.handler(lambda_event, None)
    assert response["headers"] == {"content-type": "application/json"}
    return response["statusCode"], json.loads(response["body"])


def test_the_handler_serves_the_portfolio_router_but_the_projection(
    portfolio_module: ModuleType,
) -> None:
    app_routes = {
        (method, route.path)
        for route in build_portfolio_router().routes
        for method in getattr(route, "methods", ())
    }
    assert app_routes >= IMAGE_ONLY
    assert set(portfolio_module.ROUTES) == app_routes - IMAGE_ONLY


def test_import_and_show_the_sample_household_in_dynamodb(
    portfolio_module: ModuleType, table: Any, tmp_path: Path
) -> None:
    """POST /portfolio/import then GET /portfolio through the handler, on the table: the
    answers are the FastAPI app's on a local SQLite store of the same files."""
    cloud = aws_services(tmp_path / "cloud")
    status, imported = call(
        portfolio_module, cloud, event("POST", "/portfolio/import", {"files": household_files()})
    )
    assert status == 200, imported
    assert isinstance(cloud.portfolio_store, DynamoPortfolioStore)
    rows = SAMPLES.joinpath("transactions.csv").read_text("utf-8").count("\n") - 1
    stored = table.scan(TableName=TABLE, Select="COUNT")["Count"]
    assert stored >= rows > 0  # written to the table itself

    # A new container (a cold start) reads what the first stored.
    status, shown = call(
        portfolio_module,
        aws_services(tmp_path / "cloud2"),
        event("GET", "/portfolio", query={"as_of": DAY}),
    )
    assert status == 200, shown
    assert not list(tmp_path.rglob("*.sqlite3"))

    local = Services(settings(tmp_path / "local"))
    with TestClient(create_app(local, api_key=KEY), headers={"x-api-key": KEY}) as client:
        expected_import = client.post("/portfolio/import", json={"files": household_files()})
        expected_show = client.get("/portfolio", params={"as_of": DAY})
    assert expected_import.json() == imported
    assert expected_show.json() == shown
    assert shown["total"]["value"] is not None

    # Importing again adds nothing, as locally; a bad day is named (422), as by the app.
    status, again = call(
        portfolio_module, cloud, event("POST", "/portfolio/import", {"files": household_files()})
    )
    assert status == 200 and [r["new"] for r in again["reports"]] == [0] * len(again["reports"])
    status, bad = call(
        portfolio_module, cloud, event("GET", "/portfolio", query={"as_of": "2026-13-01"})
    )
    assert status == 422 and "as_of" in bad["message"]
    cloud.close()
    local.close()


def test_delete_an_account_through_the_handler(
    portfolio_module: ModuleType, table: Any, tmp_path: Path
) -> None:
    """DELETE /portfolio/accounts/{account_id} on the table: 422 naming the transactions
    that keep an account, 404 for an unknown one, and a free account deleted."""
    cloud = aws_services(tmp_path / "cloud")
    call(portfolio_module, cloud, event("POST", "/portfolio/import", {"files": household_files()}))
    spare = {"name": "Spare", "kind": "savings", "currency": "USD"}

    def on(method: str, account: str, body: object = None) -> tuple[int, Any]:
        request = event(method, "/portfolio/accounts/{account_id}", body)
        request["pathParameters"] = {"account_id": account}
        return call(portfolio_module, cloud, request)

    assert on("PUT", "spare", spare)[0] == 200
    status, refused = on("DELETE", "savings")
    assert status == 422 and "transactions are stored in it" in refused["message"]
    assert on("DELETE", "spare") == (200, {"message": "Account deleted", "id": "spare"})
    assert on("DELETE", "spare")[0] == 404
    assert on("GET", "savings")[0] == 200
    cloud.close()


CLASSIFY_REQUESTS = [
    ("GET", "/portfolio/classifications", None),
    ("POST", "/portfolio/classifications/{symbol}/accept", "HAGB"),
    ("POST", "/portfolio/classifications/{symbol}/reject", "MTUS"),
    ("POST", "/portfolio/classifications/{symbol}/reject", "MTUS"),  # none left: 404
    ("GET", "/portfolio/classifications", None),
]


def with_proposals(services: Services) -> Services:
    """The household with two proposals stored (proposing needs a model: not a route)."""
    services.portfolio.files.import_files([(f["name"], f["text"]) for f in household_files()])
    mtus = services.portfolio_store.get_instrument("MTUS")
    assert mtus is not None
    services.portfolio_store.put_instrument(replace(mtus, sector=Weights()))
    for symbol, sector in (
        ("HAGB", {"government": Decimal(100)}),
        ("MTUS", {"technology": Decimal("62.5"), "other": Decimal("37.5")}),
    ):
        services.portfolio.classifications.propose(
            symbol,
            {"sector": Weights(sector)},
            confidence=Decimal("0.6"),
            reason="Proposed by the test.",
            model="test-model",
        )
    return services


def test_proposed_classifications_are_listed_accepted_and_rejected_in_dynamodb(
    portfolio_module: ModuleType, table: Any, tmp_path: Path
) -> None:
    """The three classification routes through the handler, on the table, answer as the
    FastAPI app does on SQLite."""
    cloud = with_proposals(aws_services(tmp_path / "cloud"))
    through_lambda = []
    for method, resource, symbol in CLASSIFY_REQUESTS:
        lambda_event = event(method, resource)
        if symbol is not None:
            lambda_event["path"] = resource.format(symbol=symbol)
            lambda_event["pathParameters"] = {"symbol": symbol}
        through_lambda.append(call(portfolio_module, cloud, lambda_event))
    hagb = cloud.portfolio_store.get_instrument("HAGB")
    assert hagb is not None and hagb.sector == Weights({"government": Decimal(100)})

    local = with_proposals(Services(settings(tmp_path / "local")))
    with TestClient(create_app(local, api_key=KEY), headers={"x-api-key": KEY}) as app:
        through_app = [
            (answer.status_code, answer.json())
            for answer in (
                app.request(method, resource.format(symbol=symbol))
                for method, resource, symbol in CLASSIFY_REQUESTS
            )
        ]
    assert through_lambda == through_app
    assert [status for status, _ in through_lambda] == [200, 200, 200, 404, 200]
    assert [p["symbol"] for p in through_lambda[0][1]["proposals"]] == ["HAGB", "MTUS"]
    assert through_lambda[1][1]["applied"] == ["sector"]
    assert through_lambda[4][1] == {"proposals": []}
    cloud.close()
    local.close()
