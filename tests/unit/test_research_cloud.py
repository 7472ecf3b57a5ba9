"""The researcher's cloud door (alex.http.research_cloud) and its AWS adapters, offline.

DynamoDB, SSM and Lambda are moto's (or botocore's Stubber, for the exact invoke call); the
research itself runs on a real local store with a scripted chat model, reading pages from
the loopback fixture site, through Mangum and the real FastAPI app.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws
from pydantic import SecretStr

from alex.adapters import aws_clients, dynamo_jobs, lambda_invoker
from alex.adapters.aws_clients import read_secure_parameter
from alex.adapters.dynamo_jobs import DynamoJobStore, job_from_json
from alex.adapters.lambda_invoker import AsyncInvoker, JobLaunchError
from alex.config import Settings
from alex.domain.errors import ConfigError, StoreUnavailableError
from alex.http import research_cloud as cloud
from alex.http.errors import status_for_kind
from alex.http.research_cloud import CloudResearcher, chat_model_opener
from alex.http.schemas import ResearchJobResponse
from alex.research.jobs import new_job
from alex.services import Services
from tests.pagesite import PageSite
from tests.scripted_model import ScriptedModel, answer, chat_model, news_answer, opener, text

REGION = "eu-west-2"
TABLE = "alex-research-jobs-test"
PARAMETER = "/alex/test/openai-api-key"
ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------ fixtures


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto for every AWS call; fresh boto3 clients and no secret cached from another test."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setattr(aws_clients, "_parameter_values", {})
    aws_clients.aws_client.cache_clear()
    cloud.runtime.cache_clear()
    with mock_aws():
        yield
    aws_clients.aws_client.cache_clear()
    cloud.runtime.cache_clear()


def create_table(name: str = TABLE) -> Any:
    client = boto3.client("dynamodb", region_name=REGION)
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "job_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "job_id", "KeyType": "HASH"}],
    )
    return client


@pytest.fixture
def store(aws: None) -> DynamoJobStore:
    return DynamoJobStore(TABLE, create_table(), clock=lambda: 1_800_000_000.0)


@pytest.fixture
def site() -> Iterator[PageSite]:
    with PageSite() as running:
        yield running


class Launches:
    """A launcher that records job ids; the test plays the asynchronous invocation."""

    def __init__(self) -> None:
        self.job_ids: list[str] = []

    def __call__(self, job_id: str) -> None:
        self.job_ids.append(job_id)


def researcher_on(
    services: Services, site: PageSite, model: ScriptedModel, store: DynamoJobStore
) -> tuple[CloudResearcher, Launches]:
    settings = services.settings.model_copy(update={"fetch_allow_hosts_setting": site.host_port})
    launches = Launches()
    cloud_services = Services(
        settings,
        embedder=services.embedder,
        store=services.store,
        open_chat_model=opener(model),
        job_store=store,
        launch_job=launches,
    )
    return CloudResearcher(cloud_services, store), launches


def api_event(
    method: str,
    resource: str,
    *,
    path: str | None = None,
    body: object = None,
    path_parameters: dict[str, str] | None = None,
    key_checked: bool = True,
    api_key: str = "the-clients-key",
) -> dict[str, Any]:
    """A REST API (v1) proxy event as API Gateway sends it to the function."""
    headers = {"content-type": "application/json", "x-api-key": api_key, "host": "api.test"}
    identity: dict[str, Any] = {"sourceIp": "203.0.113.9", "userAgent": "pytest"}
    if key_checked:  # what API Gateway adds once it has accepted the key
        identity.update(apiKey=api_key, apiKeyId="k1a2b3c4d5")
    return {
        "resource": resource,
        "path": path or resource,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/dev{path or resource}",
            "stage": "dev",
            "identity": identity,
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


def answered(response: dict[str, Any]) -> tuple[int, Any]:
    return int(response["statusCode"]), json.loads(response["body"])


# ------------------------------------------------------------------------ the job table


def test_the_job_table_keeps_jobs_with_a_ttl(store: DynamoJobStore) -> None:
    job = new_job("Rates", ["https://example.com/a"])
    store.put(job)
    assert store.get(job.job_id) == job
    item = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=TABLE, Key={"job_id": {"S": job.job_id}}
    )["Item"]
    assert item["expires_at"] == {"N": str(1_800_000_000 + 7 * 24 * 3600)}
    assert item["job_status"] == {"S": "queued"}
    assert job_from_json(item["job"]["S"]) == job
    assert json.loads(item["job"]["S"])["urls"] == ["https://example.com/a"]

    done = dataclasses.replace(job, status="succeeded", step="done")
    store.put(done)
    assert store.get(job.job_id) == done
    assert store.get("f" * 32) is None
    assert store.get("../not-a-job-id") is None  # not even asked: ids are 32 hex digits


def test_a_job_stored_before_jobs_had_a_record_is_still_read(store: DynamoJobStore) -> None:
    """Items written as the API's answer (result.message, error.status) live a week: read
    back, their error keeps the status it was answered with."""
    job_id = "c" * 32
    old = {
        "job_id": job_id,
        "status": "failed",
        "step": "failed",
        "detail": "",
        "topic": "Rates",
        "urls": ["https://example.com/a"],
        "created_at": "2026-01-01T00:00:00+00:00",
        "result": None,
        "error": {"message": "The model gave no valid analysis", "status": 502},
    }
    boto3.client("dynamodb", region_name=REGION).put_item(
        TableName=TABLE,
        Item={
            "job_id": {"S": job_id},
            "job_status": {"S": "failed"},
            "job": {"S": json.dumps(old)},
        },
    )
    kept = store.get(job_id)
    assert kept is not None and kept.error is not None and kept.urls == ("https://example.com/a",)
    assert kept.error.message == "The model gave no valid analysis"
    assert status_for_kind(kept.error.kind) == 502

    analysis = {
        "title": "Rates held",
        "topic": "Rates",
        "summary": "Rates held at 4%.",
        "key_points": ["Rates held at 4%."],
        "risks": [],
        "sources": [{"url": "https://example.com/a", "title": "A"}],
        "as_of": "2026-01-01",
        "model": "gpt-4.1-mini",
    }
    result = {
        "message": "Research stored",
        "document_id": "research/rates/2026-01-01",
        "status": "created",
        "analysis": analysis,
        "pages_read": ["https://example.com/a"],
        "failed_urls": {},
        "unverified_figures": ["4"],
        "seconds": 12.3,
    }
    done = {**old, "job_id": "d" * 32, "status": "succeeded", "step": "done", "error": None}
    store_item = {"job_id": {"S": "d" * 32}, "job": {"S": json.dumps({**done, "result": result})}}
    boto3.client("dynamodb", region_name=REGION).put_item(TableName=TABLE, Item=store_item)
    finished = store.get("d" * 32)
    assert finished is not None and finished.result is not None and finished.error is None
    answer = ResearchJobResponse.of(finished).model_dump(mode="json")
    # Answered as it was stored; a job from before points were checked left none out.
    assert answer == {**done, "result": {**result, "left_out": []}}


def test_a_job_is_claimed_once(store: DynamoJobStore) -> None:
    job = new_job(None, [])
    store.put(job)
    assert store.claim(job.job_id) is True
    assert store.claim(job.job_id) is False  # a second delivery of the same event
    assert store.claim("e" * 32) is False  # no such job


def test_a_result_too_large_for_dynamodb_is_kept_as_a_failure(store: DynamoJobStore) -> None:
    job = new_job("x" * 10, [])
    huge = dataclasses.replace(job, detail="y" * 400_000, status="succeeded")
    store.put(huge)
    kept = store.get(job.job_id)
    assert kept is not None and kept.status == "failed" and kept.error is not None
    assert "too large" in kept.error.message


def test_a_missing_table_is_503_not_a_crash(aws: None) -> None:
    missing = DynamoJobStore("no-such-table", boto3.client("dynamodb", region_name=REGION))
    with pytest.raises(StoreUnavailableError, match=r"no-such-table.*ResourceNotFoundException"):
        missing.get("a" * 32)
    with pytest.raises(StoreUnavailableError):
        missing.put(new_job(None, []))


# ------------------------------------------------------------------------ the secret


def test_the_openai_key_is_read_from_ssm_once_per_container(aws: None) -> None:
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name=PARAMETER, Value="sk-test-123", Type="SecureString")
    assert read_secure_parameter(PARAMETER, ssm) == "sk-test-123"
    ssm.delete_parameter(Name=PARAMETER)
    assert read_secure_parameter(PARAMETER, ssm) == "sk-test-123"  # cached, not read again


def test_a_missing_parameter_names_itself(aws: None) -> None:
    ssm = boto3.client("ssm", region_name=REGION)
    with pytest.raises(ConfigError, match=rf"{PARAMETER} does not exist.*SecureString"):
        read_secure_parameter(PARAMETER, ssm)


def test_a_plain_string_parameter_works_but_warns(
    aws: None, caplog: pytest.LogCaptureFixture
) -> None:
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name=PARAMETER, Value="sk-plain", Type="String")
    assert read_secure_parameter(PARAMETER, ssm) == "sk-plain"
    assert "not a SecureString" in caplog.text


def test_the_opener_puts_the_key_into_the_settings(
    aws: None, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name=PARAMETER, Value="sk-from-ssm", Type="SecureString")
    seen: list[Settings] = []
    scripted = chat_model(ScriptedModel([]))

    def fake_open(given: Settings) -> Any:
        seen.append(given)
        return nullcontext(scripted)

    monkeypatch.setattr(cloud, "open_chat_model", fake_open)
    with chat_model_opener(PARAMETER, lambda: ssm)(settings) as model:
        assert model is scripted
    assert seen[-1].openai_api_key is not None
    assert seen[-1].openai_api_key.get_secret_value() == "sk-from-ssm"
    assert settings.openai_api_key is None  # the container's settings are not changed

    with chat_model_opener(None, lambda: ssm)(settings):  # no parameter: no SSM, no key
        assert seen[-1].openai_api_key is None

    given = settings.model_copy(update={"openai_api_key": SecretStr("sk-env")})
    with chat_model_opener("/alex/none", lambda: ssm)(given):  # a key set already wins
        assert seen[-1].openai_api_key is not None
        assert seen[-1].openai_api_key.get_secret_value() == "sk-env"


# ------------------------------------------------------------------------ launching


def test_a_job_is_launched_by_invoking_the_function_asynchronously(store: DynamoJobStore) -> None:
    client = boto3.client("lambda", region_name=REGION)
    job = new_job("Rates", [])
    with Stubber(client) as stub:
        stub.add_response(
            "invoke",
            {"StatusCode": 202},
            expected_params={
                "FunctionName": "alex-researcher-dev-researcher",
                "InvocationType": "Event",
                "Payload": json.dumps({"alex_research_job": job.job_id}).encode(),
            },
        )
        AsyncInvoker(client, "alex-researcher-dev-researcher", store)(job.job_id)
        stub.assert_no_pending_responses()


def test_a_launch_that_fails_marks_the_job_failed(store: DynamoJobStore) -> None:
    job = new_job("Rates", [])
    store.put(job)
    client = boto3.client("lambda", region_name=REGION)
    with Stubber(client) as stub:
        stub.add_client_error("invoke", "AccessDeniedException", http_status_code=403)
        with pytest.raises(JobLaunchError, match="AccessDeniedException"):
            AsyncInvoker(client, "fn", store)(job.job_id)
    failed = store.get(job.job_id)
    assert failed is not None and failed.status == "failed" and failed.error is not None
    assert status_for_kind(failed.error.kind) == 500


# ------------------------------------------------------------------------ the events


def test_research_routes_through_mangum_and_the_app(
    services: Services, site: PageSite, store: DynamoJobStore
) -> None:
    url = site.url("/quarterly-results.html")
    model = ScriptedModel([answer() for _ in range(2)])
    researcher, launches = researcher_on(services, site, model, store)

    # POST /research: the run, in the request.
    status, body = answered(
        researcher.handle(
            api_event("POST", "/research", body={"topic": "Corvane Q3", "urls": [url]}), None
        )
    )
    assert status == 200, body
    assert body["analysis"]["topic"] == "Corvane Q3" and body["pages_read"] == [url]
    stored = services.documents.get(body["document_id"])
    assert stored.metadata["kind"] == "research"

    # POST /research/jobs: queued in the table, handed to the (fake) asynchronous invoker.
    status, job = answered(
        researcher.handle(
            api_event("POST", "/research/jobs", body={"topic": "Rates", "urls": [url]}), None
        )
    )
    assert status == 202 and job["status"] == "queued"
    assert launches.job_ids == [job["job_id"]]
    poll = api_event(
        "GET",
        "/research/jobs/{job_id}",
        path=f"/research/jobs/{job['job_id']}",
        path_parameters={"job_id": job["job_id"]},
    )
    assert answered(researcher.handle(poll, None))[1]["status"] == "queued"

    # The asynchronous invocation runs it; the next poll sees the result.
    outcome = researcher.handle({"alex_research_job": job["job_id"]}, None)
    assert outcome["status"] == "succeeded" and outcome["document_id"]
    status, finished = answered(researcher.handle(poll, None))
    assert status == 200 and finished["status"] == "succeeded" and finished["step"] == "done"
    assert finished["result"]["analysis"]["topic"] == "Rates"

    # Lambda may deliver an event twice: the job is not run again.
    calls = len(model.calls)
    assert researcher.handle({"alex_research_job": job["job_id"]}, None)["status"] == "skipped"
    assert len(model.calls) == calls
    assert researcher.handle({"alex_research_job": "0" * 32}, None)["status"] == "missing"

    unknown = api_event(
        "GET", "/research/jobs/{job_id}", path="/research/jobs/nope", path_parameters={}
    )
    assert answered(researcher.handle(unknown, None))[0] == 404


def test_only_requests_api_gateway_let_through_pass_the_key_check(
    services: Services, site: PageSite, store: DynamoJobStore
) -> None:
    researcher, launches = researcher_on(services, site, ScriptedModel([]), store)
    body = {"topic": "Rates"}
    unchecked = api_event("POST", "/research/jobs", body=body, key_checked=False)
    assert answered(researcher.handle(unchecked, None)) == (403, {"message": "Forbidden"})
    assert launches.job_ids == []
    # API Gateway's key is not the app's (random, per container), yet the request passes.
    checked = api_event("POST", "/research/jobs", body=body, api_key="any-key-API-GW-accepted")
    assert answered(researcher.handle(checked, None))[0] == 202
    invalid = api_event("POST", "/research/jobs", body={"topic": 5})
    assert answered(researcher.handle(invalid, None))[0] == 422


def test_a_failed_job_records_why(
    services: Services, site: PageSite, store: DynamoJobStore
) -> None:
    url = site.url("/market-news.html")
    researcher, _ = researcher_on(services, site, ScriptedModel([text("no JSON")]), store)
    status, job = answered(
        researcher.handle(api_event("POST", "/research/jobs", body={"urls": [url]}), None)
    )
    assert status == 202
    outcome = researcher.handle({"alex_research_job": job["job_id"]}, None)
    assert outcome["status"] == "failed" and "not a valid analysis" in outcome["error"]
    kept = store.get(job["job_id"])
    assert kept is not None and kept.error is not None
    assert kept.error.kind == "ResearchFailedError" and status_for_kind(kept.error.kind) == 502


def test_the_schedule_event_queues_and_runs_a_job(
    services: Services, site: PageSite, store: DynamoJobStore
) -> None:
    url = site.url("/market-news.html")
    model = ScriptedModel([news_answer()])
    researcher, launches = researcher_on(services, site, model, store)
    event = {"alex_scheduled_research": {"topic": "Rates", "urls": [url]}}
    outcome = researcher.handle(event, None)
    assert outcome["status"] == "succeeded"
    assert launches.job_ids == []  # run in the scheduled invocation itself
    job = store.get(outcome["job_id"])
    assert job is not None and job.result is not None and job.topic == "Rates"
    assert services.documents.get(outcome["document_id"]).metadata["kind"] == "research"

    with pytest.raises(ValueError, match="alex_scheduled_research"):
        researcher.handle({"alex_scheduled_research": {"topic": 5}}, None)
    with pytest.raises(ValueError, match="Unknown event"):
        researcher.handle({"source": "aws.events"}, None)


# ------------------------------------------------------------------------ as deployed


@pytest.fixture
def deployed_env(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The function's environment as services/researcher/serverless.yml sets it."""
    for name, value in {
        "ALEX_BACKEND": "aws",
        "DEFAULT_AWS_REGION": REGION,
        "SAGEMAKER_ENDPOINT": "alex-embeddings-test",
        "OPENSEARCH_ENDPOINT": f"https://abc123.{REGION}.aoss.amazonaws.com",
        "ALEX_JOBS_TABLE": TABLE,
        "OPENAI_API_KEY_PARAMETER": PARAMETER,
        "AWS_LAMBDA_FUNCTION_NAME": "alex-researcher-test-researcher",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    create_table()


def test_the_handler_as_deployed(deployed_env: None) -> None:
    """Built from the environment: the job table, the self-invocation (whose function does
    not exist in moto: the job is then failed, and the answer says why)."""
    researcher = cloud.runtime()
    assert isinstance(researcher.store, DynamoJobStore) and researcher.store.table == TABLE
    poll = api_event(
        "GET", "/research/jobs/{job_id}", path="/research/jobs/" + "a" * 32, path_parameters={}
    )
    assert answered(cloud.handler(poll, None)) == (404, {"message": f"No research job {'a' * 32}"})

    status, body = answered(
        cloud.handler(api_event("POST", "/research/jobs", body={"topic": "Rates"}), None)
    )
    assert status == 500
    assert "Could not start research job" in body["message"]
    assert "ResourceNotFoundException" in body["message"]
    (item,) = boto3.client("dynamodb", region_name=REGION).scan(TableName=TABLE)["Items"]
    assert item["job_status"] == {"S": "failed"}
    assert cloud.runtime() is researcher  # one per container


def test_a_job_without_the_openai_parameter_fails_with_its_name(deployed_env: None) -> None:
    researcher = cloud.runtime()
    job = new_job("Rates", [])
    researcher.store.put(job)
    outcome = cloud.handler({"alex_research_job": job.job_id}, None)
    assert outcome["status"] == "failed"
    assert PARAMETER in outcome["error"] and "does not exist" in outcome["error"]


def test_a_configuration_error_is_answered_to_api_calls(
    deployed_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ALEX_JOBS_TABLE")
    status, body = answered(
        cloud.handler(api_event("POST", "/research/jobs", body={"topic": "x"}), None)
    )
    assert status == 500 and "ALEX_JOBS_TABLE must be set" in body["message"]
    with pytest.raises(ConfigError, match="ALEX_JOBS_TABLE"):
        cloud.handler({"alex_research_job": "a" * 32}, None)
    monkeypatch.setenv("ALEX_JOBS_TABLE", TABLE)  # fixed: the next event builds it
    assert isinstance(cloud.runtime(), CloudResearcher)


@pytest.mark.parametrize("module", [cloud, aws_clients, dynamo_jobs, lambda_invoker])
def test_boto3_is_not_imported_by_the_modules_themselves(module: ModuleType) -> None:
    source = Path(str(module.__file__)).read_text("utf-8")
    top_level = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert not [line for line in top_level if "boto" in line]


# ------------------------------------------------------------------------ build_image.py


@pytest.fixture(scope="module")
def build_image() -> ModuleType:
    path = ROOT / "services" / "researcher" / "build_image.py"
    spec = importlib.util.spec_from_file_location("alex_researcher_build_image", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_image_is_built_for_lambda_from_the_repository_root(build_image: ModuleType) -> None:
    command = build_image.build_command("registry/alex-researcher:abc")
    assert command[:2] == ["docker", "build"]
    assert "--platform" in command and command[command.index("--platform") + 1] == "linux/amd64"
    assert "--provenance=false" in command
    assert Path(command[command.index("--file") + 1]) == ROOT / "services/researcher/Dockerfile"
    assert Path(command[-1]) == ROOT  # the context: pyproject.toml, uv.lock, src/
    assert "--build-arg" not in command
    with_model = build_image.build_command("r:t", local_llm=True)
    assert with_model[with_model.index("--build-arg") + 1] == "ALEX_LOCAL_LLM=true"


def test_the_pushed_digest_is_found(build_image: ModuleType) -> None:
    repository = "123456789012.dkr.ecr.eu-west-2.amazonaws.com/alex-researcher"
    digest = "sha256:" + "b" * 64
    found = build_image.digest_uri(
        ["other.example/alex@sha256:" + "c" * 64, f"{repository}@{digest}"], repository
    )
    assert found == f"{repository}@{digest}"
    with pytest.raises(SystemExit):
        build_image.digest_uri([], repository)
    assert build_image.resolve_region(None, {"AWS_DEFAULT_REGION": "eu-west-1"}) == "eu-west-1"
    assert build_image.resolve_region("ap-south-1", {"AWS_REGION": "x"}) == "ap-south-1"
    assert build_image.resolve_region(None, {}) == "us-east-1"


def test_client_errors_keep_their_code() -> None:
    error = ClientError({"Error": {"Code": "ThrottlingException"}}, "GetItem")
    assert aws_clients.error_code(error) == "ThrottlingException"
    assert aws_clients.error_code(RuntimeError("x")) == "RuntimeError"
