"""POST /portfolio/projection in the cloud: the researcher's image (alex.http.research_cloud,
the FastAPI app through Mangum) answers it on the portfolio table (moto) exactly as
`alex serve` does on SQLite for the same sample household, with only the DynamoDB calls its
role is granted, and `alex portfolio project` in remote mode prints the same JSON through it.

No Node.js and no Docker: the image's door runs in process with the environment that
services/researcher/serverless.yml gives the function.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from alex.adapters.aws_clients import aws_client
from alex.cli import app
from alex.config import Settings, load_settings
from alex.http import research_cloud as cloud
from alex.http.app import create_app
from alex.services import Services
from tests.support.moto_tables import portfolio_table

from .helpers import ROOT, SERVICES
from .test_service_config import config

REGION = "eu-west-2"
TABLE = "alex-portfolio-image-test"
KEY = "projection-image-key-0123456789"
SAMPLES = ROOT / "samples" / "portfolio"
DAY = "2026-12-03"  # the sample household's last prices
BODY = {"current_age": 45, "retirement_age": 65, "contribution": "10000", "seed": 1, "as_of": DAY}
runner = CliRunner()
REAL_CLIENT = httpx.Client


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    """moto with the portfolio table holding the sample household, and the function's
    environment as services/researcher/serverless.yml sets it; yields a DynamoDB client."""
    environment = config(SERVICES / "researcher" / "serverless.yml")["functions"]["researcher"][
        "environment"
    ]
    assert environment["ALEX_PORTFOLIO_TABLE"] == "${param:portfolioTable}"
    with portfolio_table(monkeypatch, tmp_path, TABLE, REGION) as client:
        for name, value in {
            "ALEX_BACKEND": "aws",
            "DEFAULT_AWS_REGION": REGION,
            "SAGEMAKER_ENDPOINT": "alex-embeddings-test",
            "OPENSEARCH_ENDPOINT": f"https://abc123.{REGION}.aoss.amazonaws.com",
            cloud.JOBS_TABLE_ENV: "alex-research-jobs-test",
            cloud.OPENAI_KEY_PARAMETER_ENV: "/alex/test/openai-api-key",
            "ALEX_PORTFOLIO_TABLE": TABLE,
            "AWS_LAMBDA_FUNCTION_NAME": "alex-researcher-test-researcher",
        }.items():
            monkeypatch.setenv(name, value)
        importer = Services(load_settings())
        importer.portfolio.files.import_files(household())
        importer.close()
        cloud.runtime.cache_clear()
        yield client
        cloud.runtime.cache_clear()


def household() -> list[tuple[str, str]]:
    return [(path.name, path.read_text("utf-8")) for path in sorted(SAMPLES.glob("*.csv"))]


def api_event(method: str, path: str, body: str | None) -> dict[str, Any]:
    """A REST API (v1) proxy event as API Gateway sends it once it has checked the key."""
    headers = {"content-type": "application/json", "x-api-key": "the-clients-key"}
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/dev{path}",
            "stage": "dev",
            "identity": {"apiKey": "the-clients-key", "apiKeyId": "k1a2b3c4d5"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def local_answer(tmp_path: Path, body: dict[str, Any]) -> Any:
    """`alex serve`'s answer on a local SQLite store of the same household."""
    given: dict[str, Any] = {"_env_file": None, "ALEX_DATA_DIR": str(tmp_path)}
    local = Services(Settings(**given, ALEX_BACKEND="local"))
    local.portfolio.files.import_files(household())
    with TestClient(create_app(local, api_key=KEY), headers={"x-api-key": KEY}) as client:
        answer = client.post("/portfolio/projection", json=body)
    local.close()
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_image_answers_the_projection_as_alex_serve_does(deployed: Any, tmp_path: Path) -> None:
    calls: list[str] = []
    dynamodb = aws_client("dynamodb", REGION)  # the container's one client (cached)
    dynamodb.meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.append(model.name)
    )
    response = cloud.handler(api_event("POST", "/portfolio/projection", json.dumps(BODY)), None)
    assert response["statusCode"] == 200, response["body"]
    answer = json.loads(response["body"])
    assert answer == local_answer(tmp_path / "local", BODY)
    assert answer["paths"] == 10_000 and answer["rows"]
    assert not list(Path(load_settings().data_dir).rglob("*.sqlite3"))  # the table, only

    # Least privilege, measured: every call it made is granted to the function's role (the
    # infrastructure's ResearcherLambdaRole) on the portfolio table, and nothing more is (its
    # grants on the planner's table are test_researcher_service.py's).
    role = config(ROOT / "infrastructure" / "serverless.yml")["resources"]["Resources"][
        "ResearcherLambdaRole"
    ]
    (policy,) = role["Properties"]["Policies"]
    granted = {
        action
        for statement in policy["PolicyDocument"]["Statement"]
        if statement.get("Sid") == "ProjectionReadsPortfolio"  # on PortfolioTable
        for action in statement["Action"]
    }
    assert calls and {f"dynamodb:{call}" for call in calls} == granted

    # Bad input is named as by the app (422), through the same door.
    bad = cloud.handler(
        api_event("POST", "/portfolio/projection", json.dumps({**BODY, "contribution": "-1e3"})),
        None,
    )
    assert bad["statusCode"] == 422 and "contribution" in json.loads(bad["body"])["message"]


def through_api_gateway(request: httpx.Request) -> httpx.Response:
    """The deployed API as the CLI sees it: the projection goes to the image's handler;
    API Gateway answers 403 for routes it does not have (here, every other)."""
    path = unquote(request.url.path).removeprefix("/dev")
    if (request.method, path) != ("POST", "/portfolio/projection"):
        return httpx.Response(403, json={"message": "Missing Authentication Token"})
    answer = cloud.handler(api_event("POST", path, request.content.decode("utf-8")), None)
    return httpx.Response(answer["statusCode"], content=answer["body"].encode("utf-8"))


def test_the_remote_cli_projects_through_the_image(
    deployed: Any, isolated_settings: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`alex portfolio project --json` against the deployed API prints what it prints on a
    local store of the same household."""
    args = ["portfolio", "project", "--age", "50", "--years", "5", "--seed", "3", "--json"]

    def client(**kwargs: Any) -> httpx.Client:
        return REAL_CLIENT(**{**kwargs, "transport": httpx.MockTransport(through_api_gateway)})

    endpoint = f"https://a1b2c3d4e5.execute-api.{REGION}.amazonaws.com/dev"
    isolated_settings.write_text(f"ALEX_API_ENDPOINT={endpoint}\nALEX_API_KEY={KEY}\n")
    with monkeypatch.context() as patch:
        patch.setattr(httpx, "Client", client)
        remote = runner.invoke(app, args)
    assert remote.exit_code == 0, (remote.output, remote.exception)

    # The same command on a local store (no endpoint, local backend) of the same files.
    data = tmp_path / "local-cli"
    isolated_settings.write_text(f"ALEX_BACKEND=local\nALEX_DATA_DIR={data}\n")
    files = [str(path) for path in sorted(SAMPLES.glob("*.csv"))]
    assert runner.invoke(app, ["portfolio", "import", *files]).exit_code == 0
    local = runner.invoke(app, args)
    assert local.exit_code == 0, local.output
    assert json.loads(remote.output) == json.loads(local.output)
