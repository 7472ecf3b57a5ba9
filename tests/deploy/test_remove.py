"""`npm run remove` in the state guide 3 leaves a user in, offline: fake credentials and
either an unreachable endpoint or moto's CloudFormation and S3 (``AWS_ENDPOINT_URL``).

Guide 3 deploys infrastructure, ingest and search; the researcher fails for want of an
image. Removing must still take everything down, dependents first, keep going past a
service that fails, and keep compose's state file until every service is gone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from .helpers import ROOT, SERVICES
from .test_serverless import OUTPUTS
from .test_service_config import config, portfolio_table

pytestmark = [pytest.mark.deploy, pytest.mark.usefixtures("node_tools")]

STAGE = "citestrm"
REGION = "eu-south-2"
REVERSE_ORDER = [
    "alex-portfolio",
    "alex-researcher",
    "alex-search",
    "alex-ingest",
    "alex-infrastructure",
]
# The stacks guide 3's deploy leaves: the researcher failed (no image), so it and the portfolio
# service composed after it were never created.
GUIDE_3_STACKS = ["alex-search", "alex-ingest", "alex-infrastructure"]
# What guide 3's deploy leaves in compose's state: the researcher failed, so it has no entry.
GUIDE_3_STATE = {
    "components": {
        "infrastructure": {"outputs": OUTPUTS},
        "ingest": {"outputs": {}},
        "search": {"outputs": {}},
    }
}


@pytest.fixture
def guide_3_state() -> Iterator[Path]:
    state = ROOT / ".serverless" / f"state.{STAGE}.json"
    if state.exists():
        pytest.skip(f"{state} exists (a real '{STAGE}' stage?): not overwriting it")
    image_note = SERVICES / "researcher" / f"image-{REGION}.json"
    assert not image_note.exists(), f"{image_note}: guide 3 has no researcher image"
    state.parent.mkdir(exist_ok=True)
    state.write_text(json.dumps(GUIDE_3_STATE), "utf-8")
    yield state
    state.unlink(missing_ok=True)


def npm_run_remove(endpoint: str) -> subprocess.CompletedProcess[str]:
    npm = shutil.which("npm")
    assert npm is not None
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("AWS_") and name != "ALEX_RESEARCHER_IMAGE_URI"
    }
    env |= {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # fake: nothing reaches AWS
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint,
        "SLS_TELEMETRY_DISABLED": "1",
        "SLS_NOTIFICATIONS_MODE": "off",
    }
    return subprocess.run(
        [npm, "run", "remove", "--", "--stage", STAGE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )


def attempted(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The services osls started removing (it logs this once their config has resolved)."""
    output = result.stdout + result.stderr  # osls logs on stderr
    return re.findall(rf"Removing (alex-[a-z]+) from stage {STAGE}\b", output)


def test_an_unreachable_aws_fails_every_service_in_turn_and_the_state_is_kept(
    guide_3_state: Path,
) -> None:
    result = npm_run_remove("http://127.0.0.1:9")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    # Every service gets past its configuration (no image, no outputs needed) to the
    # network, dependents first; one failing does not stop the next.
    assert attempted(result) == REVERSE_ORDER, output[-3000:]
    assert "Cannot resolve" not in output and "No researcher image" not in output
    assert output.count("ECONNREFUSED") >= len(REVERSE_ORDER)
    for service in ("portfolio", "researcher", "search", "ingest", "infrastructure"):
        assert f"  {service}: FAILED" in result.stdout
    assert json.loads(guide_3_state.read_text("utf-8")) == GUIDE_3_STATE


@pytest.fixture
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def deploy_guide_3_stacks(endpoint: str) -> Any:
    """Stand-ins for the three stacks guide 3 deploys, each with osls's deployment bucket
    (one holding an artifact), the infrastructure's with the portfolio and planner tables as
    declared (each holding a record); the researcher's and the portfolio's stacks were never
    created."""
    options: dict[str, Any] = {
        "endpoint_url": endpoint,
        "region_name": REGION,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    cloudformation = boto3.client("cloudformation", **options)
    template = {"Resources": {"ServerlessDeploymentBucket": {"Type": "AWS::S3::Bucket"}}}
    table = json.loads(json.dumps(portfolio_table()).replace("${sls:stage}", STAGE))
    planner = json.loads(
        json.dumps(
            config(ROOT / "infrastructure" / "serverless.yml")["resources"]["Resources"][
                "PlannerTable"
            ]
        ).replace("${sls:stage}", STAGE)
    )
    for stack in GUIDE_3_STACKS:
        resources = dict(template["Resources"])
        if stack == "alex-infrastructure":
            resources["PortfolioTable"] = table
            resources["PlannerTable"] = planner
        body = json.dumps({"Resources": resources})
        cloudformation.create_stack(StackName=f"{stack}-{STAGE}", TemplateBody=body)
    boto3.client("dynamodb", **options).put_item(
        TableName=table["Properties"]["TableName"],
        Item={"pk": {"S": "PORTFOLIO#default"}, "sk": {"S": "SETTINGS"}},
    )
    boto3.client("dynamodb", **options).put_item(
        TableName=planner["Properties"]["TableName"],
        Item={"pk": {"S": "REPORT"}, "sk": {"S": "0" * 32}},
    )
    bucket = cloudformation.describe_stack_resource(
        StackName=f"alex-ingest-{STAGE}", LogicalResourceId="ServerlessDeploymentBucket"
    )["StackResourceDetail"]["PhysicalResourceId"]
    boto3.client("s3", **options).put_object(
        Bucket=bucket, Key=f"serverless/alex-ingest/{STAGE}/1/ingest.zip", Body=b"zip"
    )
    return cloudformation


def test_guide_3_state_is_removed_completely_and_a_second_remove_succeeds(
    guide_3_state: Path, moto_endpoint: str
) -> None:
    cloudformation = deploy_guide_3_stacks(moto_endpoint)

    result = npm_run_remove(moto_endpoint)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert attempted(result) == REVERSE_ORDER
    for service in ("portfolio", "researcher"):
        assert f"  {service}: not deployed (nothing to remove)" in result.stdout
    for service in ("search", "ingest", "infrastructure"):
        assert f"  {service}: removed" in result.stdout
    statuses = {
        summary["StackName"]: summary["StackStatus"]
        for summary in cloudformation.list_stacks()["StackSummaries"]
        if summary["StackName"].endswith(f"-{STAGE}")
    }
    assert statuses == {f"{stack}-{STAGE}": "DELETE_COMPLETE" for stack in GUIDE_3_STACKS}
    # DeletionPolicy Delete: nothing is left to bill or to block the next deploy's table.
    options = {"endpoint_url": moto_endpoint, "region_name": REGION}
    tables = boto3.client(
        "dynamodb", **options, aws_access_key_id="testing", aws_secret_access_key="testing"
    ).list_tables()["TableNames"]
    assert f"alex-portfolio-{STAGE}" not in tables
    assert f"alex-planner-{STAGE}" not in tables
    assert not guide_3_state.exists(), "everything is gone: so is compose's state"

    again = npm_run_remove(moto_endpoint)
    assert again.returncode == 0, (again.stdout + again.stderr)[-3000:]
    assert again.stdout.count("not deployed (nothing to remove)") == len(REVERSE_ORDER)
