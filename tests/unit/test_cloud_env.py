"""alex.cloud_env against moto: a stack with the real template's output keys, and the API key
wired as the ingest service wires it (provider.apiGateway.apiKeys + usagePlan: a key, a usage
plan for the API's stage, the key in the plan).

The stack is a minimal template (one S3 bucket) whose Outputs use the keys of
infrastructure/serverless.yml: EmbeddingEndpointName, CollectionEndpoint, ApiId, ApiEndpoint,
PortfolioTableName, PlannerTableName.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from alex.cloud_env import main, read_deployment
from alex.domain.errors import ConfigError

REGION = "eu-west-1"
STAGE = "dev"
SAGEMAKER = "alex-embeddings-dev"
COLLECTION = "https://abc123def456.eu-west-1.aoss.amazonaws.com"
API_KEY = "apiKeyValue0123456789abcdefghijklmnopWXYZ"
PORTFOLIO_TABLE = "alex-portfolio-dev"
PLANNER_TABLE = "alex-planner-dev"


@pytest.fixture(autouse=True)
def fake_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials and no shared config: nothing here can reach a real account."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def _template(outputs: dict[str, str]) -> str:
    return json.dumps(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Resources": {"Dummy": {"Type": "AWS::S3::Bucket"}},
            "Outputs": {key: {"Value": value} for key, value in outputs.items()},
        }
    )


def deploy(
    *, skip_stack: bool = False, drop_output: str | None = None, key_in_plan: bool = True
) -> str:
    """The infrastructure stack, the REST API and its key, as `npm run deploy` leaves them.

    Returns the API's base URL.
    """
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    apigateway = boto3.client("apigateway", region_name=REGION)
    api_id = apigateway.create_rest_api(name=f"alex-{STAGE}")["id"]
    url = f"https://{api_id}.execute-api.{REGION}.amazonaws.com/{STAGE}"
    outputs = {
        "EmbeddingEndpointName": SAGEMAKER,
        "CollectionEndpoint": COLLECTION,
        "CollectionArn": f"arn:aws:aoss:{REGION}:123456789012:collection/abc123def456",
        "ApiId": api_id,
        "ApiRootResourceId": "root1234",
        "ApiEndpoint": url,
        "IngestRoleArn": "arn:aws:iam::123456789012:role/ingest",
        "SearchRoleArn": "arn:aws:iam::123456789012:role/search",
        "PortfolioTableName": PORTFOLIO_TABLE,
        "PlannerTableName": PLANNER_TABLE,
    }
    if not skip_stack:
        kept = {key: value for key, value in outputs.items() if key != drop_output}
        cloudformation.create_stack(
            StackName=f"alex-infrastructure-{STAGE}", TemplateBody=_template(kept)
        )
    # A key whose name only starts with the real one (nameQuery is a prefix match), and a
    # plan for another API: neither may be taken for the real ones.
    apigateway.create_api_key(name=f"alex-{STAGE}-old", value="W" * 40, enabled=True)
    other_api = apigateway.create_rest_api(name="someone-else")["id"]
    key_id = apigateway.create_api_key(name=f"alex-{STAGE}", value=API_KEY, enabled=True)["id"]
    other_plan = apigateway.create_usage_plan(
        name="other", apiStages=[{"apiId": other_api, "stage": STAGE}]
    )
    apigateway.create_usage_plan_key(usagePlanId=other_plan["id"], keyId=key_id, keyType="API_KEY")
    if key_in_plan:
        plan = apigateway.create_usage_plan(
            name=f"alex-ingest-{STAGE}",
            apiStages=[{"apiId": api_id, "stage": STAGE}],
            throttle={"rateLimit": 5, "burstLimit": 10},
            quota={"limit": 5000, "period": "DAY"},
        )
        apigateway.create_usage_plan_key(usagePlanId=plan["id"], keyId=key_id, keyType="API_KEY")
    return url


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.mark.usefixtures("aws")
def test_read_deployment_reads_the_variables_and_the_region() -> None:
    url = deploy()
    assert read_deployment(STAGE, REGION) == {
        "SAGEMAKER_ENDPOINT": SAGEMAKER,
        "OPENSEARCH_ENDPOINT": COLLECTION,
        "ALEX_API_ENDPOINT": url,
        "ALEX_PORTFOLIO_TABLE": PORTFOLIO_TABLE,
        "ALEX_PLANNER_TABLE": PLANNER_TABLE,
        "ALEX_API_KEY": API_KEY,
        "DEFAULT_AWS_REGION": REGION,
    }


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    ("output", "variable"),
    [("PortfolioTableName", "ALEX_PORTFOLIO_TABLE"), ("PlannerTableName", "ALEX_PLANNER_TABLE")],
)
def test_a_stack_from_before_a_table_gives_the_other_variables(output: str, variable: str) -> None:
    url = deploy(drop_output=output)
    values = read_deployment(STAGE, REGION)
    assert variable not in values
    assert values["ALEX_API_ENDPOINT"] == url and values["ALEX_API_KEY"] == API_KEY


@pytest.mark.usefixtures("aws")
def test_injected_clients_are_used() -> None:
    deploy()
    values = read_deployment(
        STAGE,
        REGION,
        cloudformation=boto3.client("cloudformation", region_name=REGION),
        apigateway=boto3.client("apigateway", region_name=REGION),
    )
    assert values["ALEX_API_KEY"] == API_KEY


@pytest.mark.usefixtures("aws")
def test_main_writes_env_and_keeps_other_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = deploy()
    env = tmp_path / "project.env"
    env.write_text(
        "# my settings\n"
        "OPENAI_API_KEY=sk-keep-me\n"
        "\n"
        "ALEX_API_KEY=old-local-key-0123456789\n"
        "# SAGEMAKER_ENDPOINT=commented-out\n",
        encoding="utf-8",
    )

    code = main(["--stage", STAGE, "--region", REGION, "--env-file", str(env)])

    assert code == 0
    lines = env.read_text("utf-8").splitlines()
    assert lines[:3] == ["# my settings", "OPENAI_API_KEY=sk-keep-me", ""]
    assert "# SAGEMAKER_ENDPOINT=commented-out" in lines
    assert f"ALEX_API_KEY={API_KEY}" in lines
    assert "old-local-key" not in env.read_text("utf-8")
    for line in (
        f"ALEX_API_ENDPOINT={url}",
        f"SAGEMAKER_ENDPOINT={SAGEMAKER}",
        f"OPENSEARCH_ENDPOINT={COLLECTION}",
        f"ALEX_PORTFOLIO_TABLE={PORTFOLIO_TABLE}",
        f"ALEX_PLANNER_TABLE={PLANNER_TABLE}",
    ):
        assert lines.count(line) == 1
    out = capsys.readouterr().out
    assert API_KEY not in out and f"ALEX_API_KEY=****{API_KEY[-4:]}" in out
    assert f"SAGEMAKER_ENDPOINT={SAGEMAKER}" in out


@pytest.mark.usefixtures("aws")
def test_region_from_environment_and_default_env_file(
    isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy()
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # AWS_REGION comes first
    assert main([]) == 0
    assert f"ALEX_API_KEY={API_KEY}" in isolated_settings.read_text("utf-8")


@pytest.mark.usefixtures("aws")
def test_dry_run_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deploy()
    env = tmp_path / ".env"
    assert main(["--region", REGION, "--env-file", str(env), "--dry-run"]) == 0
    assert not env.exists()
    assert "Would write" in capsys.readouterr().out


@pytest.mark.usefixtures("aws")
def test_missing_stack_is_named() -> None:
    deploy(skip_stack=True)
    with pytest.raises(
        ConfigError, match=f"alex-infrastructure-{STAGE} not found in {REGION}"
    ) as error:
        read_deployment(STAGE, REGION)
    assert "npm run deploy" in error.value.message


@pytest.mark.usefixtures("aws")
def test_wrong_stage_exits_1_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    deploy()
    assert main(["--stage", "prod", "--region", REGION, "--env-file", "unused.env"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "alex-infrastructure-prod not found" in err and "--stage" in err


@pytest.mark.usefixtures("aws")
def test_missing_output_is_named() -> None:
    deploy(drop_output="CollectionEndpoint")
    with pytest.raises(ConfigError, match="has no output CollectionEndpoint"):
        read_deployment(STAGE, REGION)


@pytest.mark.usefixtures("aws")
def test_missing_api_key_is_named() -> None:
    deploy()
    apigateway = boto3.client("apigateway", region_name=REGION)
    for item in apigateway.get_api_keys()["items"]:
        if item["name"] == f"alex-{STAGE}":
            apigateway.delete_api_key(apiKey=item["id"])
    with pytest.raises(ConfigError, match=f"API Gateway key alex-{STAGE} not found"):
        read_deployment(STAGE, REGION)


@pytest.mark.usefixtures("aws")
def test_a_key_no_usage_plan_links_to_the_api_is_refused() -> None:
    """API Gateway would answer 403 to every request with it: say so now, write nothing."""
    deploy(key_in_plan=False)
    with pytest.raises(ConfigError, match=f"API key alex-{STAGE} is in no usage plan") as error:
        read_deployment(STAGE, REGION)
    assert "npm run deploy" in error.value.message


def test_no_credentials_exits_1_with_a_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    # No credentials from anywhere: not a developer's ~/.aws, not a session an earlier
    # test left in boto3 (that made this test depend on the order tests run in).
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    env = tmp_path / ".env"
    assert main(["--region", REGION, "--env-file", str(env)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "configure AWS credentials (aws configure)" in err
    assert not env.exists()
