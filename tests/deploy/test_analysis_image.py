"""The analysis job in the cloud: the researcher's image (alex.http.research_cloud, the FastAPI
app through Mangum) queues it on ``POST /analysis/jobs``, runs it in the asynchronous
invocation it starts, once however often that event is delivered, and serves the job and its
report; the monthly schedule's event runs one more. The tables are moto's, the chat model is
scripted (no network), SageMaker and the OpenSearch collection are in-memory stand-ins, and
every call the run makes is recorded and checked against the role's grants.

No Node.js and no Docker: the image's door runs in process with the environment that
services/researcher/serverless.yml gives the function.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
from botocore.awsrequest import AWSResponse

from alex.adapters import aws_clients, sagemaker_embedder
from alex.adapters.aws_clients import aws_client
from alex.adapters.lambda_invoker import ANALYSIS_JOB_EVENT
from alex.adapters.opensearch import OpenSearchStore
from alex.adapters.planner_dynamo import TABLE_DEFINITION as PLANNER_TABLE_DEFINITION
from alex.adapters.planner_dynamo import DynamoAnalysisJobStore
from alex.config import load_settings
from alex.domain.models import EMBEDDING_DIMENSION
from alex.http import research_cloud as cloud
from alex.planner.jobs import new_analysis_job, utc_now
from alex.services import Services
from tests.fakes.opensearch import FakeOpenSearch
from tests.scripted_model import ScriptedModel
from tests.support.cloud_stubs import SlowEndpoint
from tests.support.moto_tables import portfolio_table
from tests.support.planner_household import SAMPLES, setup, store_plan
from tests.support.planner_run import job_replies, offline_like, report_reply, retirement_reply

from .helpers import ROOT, SERVICES
from .test_projection_image import api_event
from .test_service_config import config

REGION = "eu-west-2"
PORTFOLIO_TABLE = "alex-portfolio-analysis-test"
PLANNER_TABLE = "alex-planner-analysis-test"
PARAMETER = "/alex/test/openai-api-key"
FUNCTION = "alex-researcher-test-researcher"


# ------------------------------------------------------------------------ recorded calls


@dataclass
class Calls:
    """Every AWS call the function made: (action, resource) as IAM names them."""

    made: set[tuple[str, str]] = field(default_factory=set)
    invocations: list[dict[str, Any]] = field(default_factory=list)

    def actions_on(self, resource: str) -> set[str]:
        return {action for action, on in self.made if on == resource}


class RecordingCollection(FakeOpenSearch):
    """The in-memory collection, recording the data-access permission each call needs."""

    PERMISSIONS: ClassVar[dict[str, str]] = {
        "exists": "aoss:DescribeIndex",
        "get_mapping": "aoss:DescribeIndex",
        "create": "aoss:CreateIndex",
        "bulk": "aoss:WriteDocument",
        "search": "aoss:ReadDocument",
    }

    def __init__(self, calls: Calls) -> None:
        super().__init__()
        self._calls = calls

    def __getattribute__(self, name: str) -> Any:
        permissions = object.__getattribute__(self, "PERMISSIONS")
        if name in permissions:
            object.__getattribute__(self, "_calls").made.add((permissions[name], "collection"))
        return object.__getattribute__(self, name)


class RecordingEndpoint(SlowEndpoint):
    def __init__(self, calls: Calls) -> None:
        super().__init__(0.0)
        self._calls = calls

    def invoke_endpoint(self, **request: Any) -> dict[str, Any]:
        self._calls.made.add(("sagemaker:InvokeEndpoint", request["EndpointName"]))
        return super().invoke_endpoint(**request)


def record(calls: Calls) -> None:
    """Record every call of the container's DynamoDB, SSM and Lambda clients; the Lambda
    invocation is recorded, not sent (the test plays the asynchronous event)."""
    tables = {PORTFOLIO_TABLE: "portfolio", PLANNER_TABLE: "planner"}

    def dynamodb(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls.made.add((f"dynamodb:{model.name}", tables[params["TableName"]]))

    def ssm(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls.made.add((f"ssm:{model.name}", params["Name"]))

    def invoke(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls.made.add(("lambda:InvokeFunction", params["FunctionName"]))
        assert params["InvocationType"] == "Event"
        calls.invocations.append(json.loads(params["Payload"]))

    def not_sent(**_: Any) -> Any:
        return AWSResponse("https://lambda.test", 202, {}, None), {"StatusCode": 202}

    # before-parameter-build sees the call's own parameters; before-call may answer it.
    aws_client("dynamodb", REGION).meta.events.register("before-parameter-build.dynamodb", dynamodb)
    aws_client("ssm", REGION).meta.events.register("before-parameter-build.ssm", ssm)
    lambda_client = aws_client("lambda", REGION)
    lambda_client.meta.events.register("before-parameter-build.lambda.Invoke", invoke)
    lambda_client.meta.events.register("before-call.lambda.Invoke", not_sent)


# ------------------------------------------------------------------------ the deployment


@dataclass
class Deployed:
    calls: Calls
    model: ScriptedModel
    jobs: DynamoAnalysisJobStore


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Deployed]:
    """moto with both tables (the portfolio holding the sample household with the planner
    fixture's targets and plan) and the OpenAI key's parameter; the function's environment as
    services/researcher/serverless.yml sets it; the chat model scripted."""
    environment = config(SERVICES / "researcher" / "serverless.yml")["functions"]["researcher"][
        "environment"
    ]
    assert environment["ALEX_PLANNER_TABLE"] == "${param:plannerTable}"
    calls = Calls()
    model = ScriptedModel(job_replies())
    with portfolio_table(monkeypatch, tmp_path, PORTFOLIO_TABLE, REGION) as client:
        client.create_table(TableName=PLANNER_TABLE, **PLANNER_TABLE_DEFINITION)
        aws_client("ssm", REGION).put_parameter(
            Name=PARAMETER, Value="sk-test-not-a-real-key", Type="SecureString"
        )
        for name, value in {
            "ALEX_BACKEND": "aws",
            "DEFAULT_AWS_REGION": REGION,
            "SAGEMAKER_ENDPOINT": "alex-embeddings-test",
            "OPENSEARCH_ENDPOINT": f"https://abc123.{REGION}.aoss.amazonaws.com",
            cloud.JOBS_TABLE_ENV: "alex-research-jobs-test",
            cloud.OPENAI_KEY_PARAMETER_ENV: PARAMETER,
            "ALEX_PORTFOLIO_TABLE": PORTFOLIO_TABLE,
            "ALEX_PLANNER_TABLE": PLANNER_TABLE,
            "ALEX_ANALYSIS_TIMEOUT_SECONDS": str(environment["ALEX_ANALYSIS_TIMEOUT_SECONDS"]),
            "AWS_LAMBDA_FUNCTION_NAME": FUNCTION,
        }.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        monkeypatch.setattr(aws_clients, "_parameter_values", {})  # read once per container
        import_household()
        monkeypatch.setattr(sagemaker_embedder, "_clients", {REGION: RecordingEndpoint(calls)})
        collection = RecordingCollection(calls)
        monkeypatch.setattr(
            OpenSearchStore,
            "connect",
            classmethod(
                lambda cls, endpoint, region, **_: cls(
                    collection,
                    dimension=EMBEDDING_DIMENSION,
                    settle_seconds=0.0,
                    sleep=lambda seconds: None,
                )
            ),
        )
        opened: list[Any] = []

        def open_model(settings: Any) -> Any:
            opened.append(settings.openai_api_key)  # the key read from SSM
            return nullcontext(offline_like(model))

        monkeypatch.setattr(cloud, "open_chat_model", open_model)
        cloud.runtime.cache_clear()
        record(calls)
        yield Deployed(calls, model, DynamoAnalysisJobStore(PLANNER_TABLE, client))
        assert all(key is not None for key in opened)
        cloud.runtime.cache_clear()


def import_household() -> None:
    """The sample household, its targets, spending and plan, as `alex portfolio` keeps them."""
    importer = Services(load_settings())
    portfolio = importer.portfolio
    portfolio.files.import_files(
        [(path.name, path.read_text("utf-8")) for path in sorted(SAMPLES.glob("*.csv"))]
    )
    chosen = setup()
    for dimension, weights in chosen["targets"].items():
        portfolio.set_target(dimension, {name: Decimal(share) for name, share in weights.items()})
    portfolio.update_settings(monthly_spending=Decimal(chosen["monthly_spending"]))
    store_plan(portfolio)
    importer.close()


def call(method: str, path: str) -> tuple[int, Any]:
    response = cloud.handler(api_event(method, path, None), None)
    return response["statusCode"], json.loads(response["body"])


def role_grants(*sids: str) -> set[str]:
    """The infrastructure's ResearcherLambdaRole: the actions of the statements ``sids``
    (all statements when none is named). Its table statements carry Sids: the loader here
    reads no CloudFormation tags, so a statement's resource is told by its Sid."""
    role = config(ROOT / "infrastructure" / "serverless.yml")["resources"]["Resources"][
        "ResearcherLambdaRole"
    ]
    (policy,) = role["Properties"]["Policies"]
    found: set[str] = set()
    for statement in policy["PolicyDocument"]["Statement"]:
        if sids and statement.get("Sid") not in sids:
            continue
        actions = statement["Action"]
        found.update([actions] if isinstance(actions, str) else actions)
    return found


def researcher_policy_actions() -> set[str]:
    """The researcher service's own policy (its job table, itself, its key parameter)."""
    policy = config(SERVICES / "researcher" / "serverless.yml")["resources"]["Resources"][
        "ResearcherPolicy"
    ]
    found: set[str] = set()
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        actions = statement["Action"]
        found.update([actions] if isinstance(actions, str) else actions)
    return found


def collection_permissions() -> set[str]:
    """The researcher's rules in the collection's data access policy (a JSON text)."""
    text = (ROOT / "infrastructure" / "serverless.yml").read_text("utf-8")
    block = text.split('"Alex researcher: search, and store its analyses"', 1)[1]
    block = block.split('"Principal"', 1)[0]
    return set(re.findall(r'"(aoss:\w+)"', block))


# ------------------------------------------------------------------------ the tests


def test_a_job_is_queued_run_once_by_its_event_and_read_with_its_report(
    deployed: Deployed,
) -> None:
    status, queued = call("POST", "/analysis/jobs")
    assert status == 202, queued
    job_id = queued["job_id"]
    assert queued["status"] == "queued"
    # The function invoked itself asynchronously with the job's event, and nothing ran yet.
    assert deployed.calls.invocations == [{ANALYSIS_JOB_EVENT: job_id}]
    assert deployed.model.calls == []

    # The asynchronous invocation: the job runs to its end.
    outcome = cloud.handler(deployed.calls.invocations[0], None)
    assert outcome["status"] == "succeeded", outcome
    assert len(deployed.model.calls) == 3  # tagger, reporter, retirement writer

    status, done = call("GET", f"/analysis/jobs/{job_id}")
    assert status == 200, done
    assert done["status"] == "succeeded"
    assert [step["status"] for step in done["steps"]] == ["done"] * 6
    report_id = done["report_id"]
    assert done["result"]["report_id"] == report_id == outcome["report_id"]

    status, listed = call("GET", "/reports")
    assert status == 200 and [r["report_id"] for r in listed["reports"]] == [report_id]
    status, report = call("GET", f"/reports/{report_id}")
    assert status == 200, report
    assert report["markdown"].startswith("# Portfolio report")
    assert "MTUS" in report["markdown"]  # the largest holding, in the code's headline
    assert report["figures"] and set(report["charts"]) >= {"allocation_asset_class"}

    # A second delivery of the same event (Lambda delivers at least once) runs nothing.
    again = cloud.handler({ANALYSIS_JOB_EVENT: job_id}, None)
    assert again == {"job_id": job_id, "status": "succeeded", "report_id": report_id}
    assert len(deployed.model.calls) == 3
    assert call("GET", "/reports")[1]["reports"] == listed["reports"]

    # Unknown ids: 404 for an id of the right form, 422 for any other text.
    assert call("GET", f"/analysis/jobs/{'0' * 32}")[0] == 404
    assert call("GET", "/reports/not-an-id")[0] == 422
    assert cloud.handler({ANALYSIS_JOB_EVENT: "0" * 32}, None)["status"] == "missing"


def test_the_schedule_event_runs_one_job_and_the_calls_are_the_roles(
    deployed: Deployed,
) -> None:
    """The monthly schedule's event queues and runs one job; every AWS call both jobs made
    is one the function's role grants, and the planner table's are exactly its grants."""
    first = cloud.handler({cloud.ANALYSIS_SCHEDULE_EVENT: {}}, None)
    assert first["status"] == "succeeded", first
    # The same day again: HAGB's proposal waits (no tagger), the day's report is replaced.
    deployed.model.replies.extend([report_reply(), retirement_reply()])
    second = cloud.handler({cloud.ANALYSIS_SCHEDULE_EVENT: {}}, None)
    assert second["status"] == "succeeded", second
    assert len(deployed.model.calls) == 5
    status, listed = call("GET", "/reports")
    assert status == 200 and [r["report_id"] for r in listed["reports"]] == [second["report_id"]]
    assert deployed.calls.invocations == []  # the schedule's invocation runs it in place

    made = deployed.calls
    planner = made.actions_on("planner")
    assert planner == role_grants("AnalysisJobsOnPlannerTable"), planner
    portfolio = made.actions_on("portfolio")
    portfolio_grants = role_grants("ProjectionReadsPortfolio", "PagesWritePortfolio")
    assert portfolio and portfolio <= portfolio_grants, portfolio
    assert made.actions_on("alex-embeddings-test") == {"sagemaker:InvokeEndpoint"}
    assert "sagemaker:InvokeEndpoint" in role_grants()
    aoss = made.actions_on("collection")
    assert {"aoss:ReadDocument", "aoss:WriteDocument"} <= aoss  # recall, then the report
    assert aoss <= collection_permissions(), aoss
    assert "aoss:APIAccessAll" in role_grants()
    assert made.actions_on(PARAMETER) == {"ssm:GetParameter"}
    assert "ssm:GetParameter" in researcher_policy_actions()
    resources = {on for _, on in made.made}
    assert resources == {"planner", "portfolio", "alex-embeddings-test", "collection", PARAMETER}


def test_a_job_lambda_killed_reads_as_timed_out(deployed: Deployed) -> None:
    """Lambda kills an invocation at the function's timeout: a running job older than that
    (and a minute) reads as failed, timed out, and stays so; a younger one still runs."""
    now = utc_now()
    killed = new_analysis_job(now - timedelta(minutes=20)).running(now - timedelta(minutes=17))
    killed = killed.at_step("classify", "done", "").at_step("compute", "running", "")
    deployed.jobs.put(killed)
    young = new_analysis_job(now - timedelta(minutes=5)).running(now - timedelta(minutes=5))
    deployed.jobs.put(young)

    status, answer = call("GET", f"/analysis/jobs/{killed.id}")
    assert status == 200, answer
    assert answer["status"] == "failed"
    assert answer["error"]["message"].startswith("timed out")
    steps = {step["name"]: step["status"] for step in answer["steps"]}
    assert steps["classify"] == "done" and steps["compute"] == "failed"
    stored = deployed.jobs.get(killed.id)
    assert stored is not None and stored.status == "failed"
    # A late delivery of its event does not run it.
    assert cloud.handler({ANALYSIS_JOB_EVENT: killed.id}, None)["status"] == "failed"
    assert deployed.model.calls == []

    assert call("GET", f"/analysis/jobs/{young.id}")[1]["status"] == "running"
    limit = cloud.ANALYSIS_STALE_AFTER
    assert limit == timedelta(seconds=cloud.FUNCTION_TIMEOUT_SECONDS + 60)
