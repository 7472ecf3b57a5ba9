"""The serverless.yml files themselves (no Node.js): the two Lambda services stay in step,
and the portfolio's and the planner's tables and roles match their DynamoDB adapters."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from .helpers import COMMON, LAMBDA_SERVICES, ROOT, SERVICES


class _Loader(yaml.SafeLoader):
    """Reads CloudFormation short forms (!Ref, !Sub, ...) as plain values."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def config(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(path.read_text("utf-8"), Loader=_Loader)
    return loaded


SHARED = "${file(../common/lambda-packaging.yml):%s}"


def test_both_lambda_services_build_and_package_alike() -> None:
    ingest, search = (config(SERVICES / name / "serverless.yml") for name in ("ingest", "search"))
    assert ingest["plugins"] == search["plugins"]
    assert ingest["plugins"] == ["alex-lambda-build", "serverless-python-requirements"]
    # Packaging comes from one shared file, so the two cannot drift apart.
    assert ingest["package"] == search["package"] == SHARED % "package"
    for name in (ingest, search):
        assert name["custom"]["pythonRequirements"] == SHARED % "pythonRequirements"
    assert ingest["custom"]["alexBuild"] == search["custom"]["alexBuild"]
    for key in ("runtime", "architecture", "iam", "environment", "memorySize", "timeout"):
        assert ingest["provider"][key] == search["provider"][key], key
    for key in ("restApiId", "restApiRootResourceId"):
        assert ingest["provider"]["apiGateway"][key] == search["provider"]["apiGateway"][key]


def test_python_requirements_are_built_without_docker_for_the_lambda_target() -> None:
    custom = config(SERVICES / "ingest" / "serverless.yml")["custom"]
    options = config(SERVICES / "common" / "lambda-packaging.yml")["pythonRequirements"]
    assert options["dockerizePip"] is False and options["useStaticCache"] is False
    assert {
        "--platform=manylinux2014_x86_64",
        "--only-binary=:all:",
        "--python-version=3.12",
        "--implementation=cp",
        "--no-deps",
    } <= set(options["pipCmdExtraArgs"])
    provider = config(SERVICES / "ingest" / "serverless.yml")["provider"]
    assert provider["runtime"] == "python3.12" and provider["architecture"] == "x86_64"
    assert "boto3" not in custom["alexBuild"]["requirements"]


def test_package_json_pins_exact_versions_and_scripts_run_compose() -> None:
    package = json.loads((ROOT / "package.json").read_text("utf-8"))
    versions = package["devDependencies"]
    for name in ("osls", "@osls/compose", "serverless-python-requirements", "js-yaml"):
        assert versions[name][0].isdigit(), (name, versions[name])  # exact, no ^ or ~
    for script in ("package", "deploy"):
        assert package["scripts"][script] == f"osls-compose {script}"
    # Compose's remove stops at the first failing service and drops its state: our own.
    assert package["scripts"]["remove"] == "node scripts/remove_stage.js"
    assert (ROOT / "scripts" / "remove_stage.js").is_file()
    lock = json.loads((ROOT / "package-lock.json").read_text("utf-8"))
    assert lock["packages"]["node_modules/osls"]["version"] == versions["osls"]


def portfolio_table() -> dict[str, Any]:
    resource: dict[str, Any] = config(ROOT / "infrastructure" / "serverless.yml")["resources"][
        "Resources"
    ]["PortfolioTable"]
    return resource


def test_the_portfolio_table_is_the_adapters_table_with_recovery_on() -> None:
    """The key schema and billing the DynamoDB adapter (and its moto tests) use, on demand,
    point-in-time recovery on; removed with the stage, never silently replaced."""
    from alex.adapters.portfolio_dynamo import TABLE_DEFINITION

    resource = portfolio_table()
    assert resource["Type"] == "AWS::DynamoDB::Table"
    properties = dict(resource["Properties"])
    assert properties.pop("TableName") == "alex-portfolio-${sls:stage}"
    assert properties.pop("PointInTimeRecoverySpecification") == {
        "PointInTimeRecoveryEnabled": True
    }
    assert properties == TABLE_DEFINITION
    assert resource["DeletionPolicy"] == "Delete"  # docs/deploy.md, "The portfolio table"
    assert resource["UpdateReplacePolicy"] == "Retain"


def client_calls(module: Any) -> tuple[str, set[str]]:
    """A module's source and the names of the boto3 client methods it calls."""
    source = Path(module.__file__).read_text("utf-8")
    calls = set(re.findall(r"_client\.(\w+)\(", source)) | set(
        re.findall(r"partial\(\s*self\._client\.(\w+)", source)
    )
    return source, calls


def iam_actions(calls: set[str]) -> set[str]:
    """``put_item`` -> ``dynamodb:PutItem``."""
    return {"dynamodb:" + "".join(part.title() for part in call.split("_")) for call in calls}


def test_the_portfolio_role_may_make_exactly_the_calls_the_adapter_makes() -> None:
    """Least privilege: the DynamoDB actions granted are those of the client methods
    ``DynamoPortfolioStore`` calls (a TransactWriteItems is authorised per write in it: its
    puts need PutItem), on the portfolio table only."""
    import alex.adapters.portfolio_dynamo as adapter

    source, calls = client_calls(adapter)
    assert "transact_write_items" in calls and '"Put":' in source
    assert not re.search(r'"(Update|Delete|ConditionCheck)": ', source)  # only puts in one
    calls = (calls - {"transact_write_items"}) | {"put_item"}
    needed = iam_actions(calls)

    role = config(ROOT / "infrastructure" / "serverless.yml")["resources"]["Resources"][
        "PortfolioLambdaRole"
    ]["Properties"]
    (policy,) = role["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    granted = {
        action
        for statement in statements
        for action in statement["Action"]
        if action.startswith("dynamodb:")
    }
    assert granted == needed
    assert {a for s in statements for a in s["Action"]} - granted == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }


def test_the_planner_table_is_the_adapters_table_with_expiry_and_recovery() -> None:
    """The key schema and billing ``planner_dynamo`` (and its moto tests) use, on demand;
    jobs expire on the attribute the adapter writes; recovery on, removed with the stage."""
    from alex.adapters.dynamo_jobs import TTL_ATTRIBUTE
    from alex.adapters.planner_dynamo import TABLE_DEFINITION

    resource = config(ROOT / "infrastructure" / "serverless.yml")["resources"]["Resources"][
        "PlannerTable"
    ]
    assert resource["Type"] == "AWS::DynamoDB::Table"
    properties = dict(resource["Properties"])
    assert properties.pop("TableName") == "alex-planner-${sls:stage}"
    assert properties.pop("TimeToLiveSpecification") == {
        "AttributeName": TTL_ATTRIBUTE,
        "Enabled": True,
    }
    assert properties.pop("PointInTimeRecoverySpecification") == {
        "PointInTimeRecoveryEnabled": True
    }
    assert properties == TABLE_DEFINITION
    assert resource["DeletionPolicy"] == "Delete"
    assert resource["UpdateReplacePolicy"] == "Retain"


def test_the_researcher_role_may_make_exactly_the_planner_stores_calls() -> None:
    """Analysis jobs run in the researcher's image: its role gets the DynamoDB actions the
    planner's stores call on the planner's table (its grants on the portfolio table are
    test_projection_image.py's; its research job table's grant is the researcher service's
    own policy)."""
    import alex.adapters.planner_dynamo as adapter

    source, calls = client_calls(adapter)
    assert not re.search(r"transact_|batch_", source)  # one item a call
    role = config(ROOT / "infrastructure" / "serverless.yml")["resources"]["Resources"][
        "ResearcherLambdaRole"
    ]["Properties"]
    (policy,) = role["Policies"]
    (planner,) = [
        statement
        for statement in policy["PolicyDocument"]["Statement"]
        if statement.get("Sid") == "AnalysisJobsOnPlannerTable"
    ]
    assert set(planner["Action"]) == iam_actions(calls)
    assert calls == {"put_item", "get_item", "update_item", "query", "delete_item"}


def test_the_portfolio_service_builds_and_packages_as_the_others() -> None:
    """The same plugins, packaging and provider as ingest and search; its own role and table,
    no search settings; the portfolio's code shipped, the documents' adapters not."""
    search = config(SERVICES / "search" / "serverless.yml")
    for name in LAMBDA_SERVICES:
        service = config(SERVICES / name / "serverless.yml")
        assert service["plugins"] == search["plugins"] and service["package"] == search["package"]
        assert service["custom"]["pythonRequirements"] == search["custom"]["pythonRequirements"]
        for key in ("runtime", "architecture", "memorySize", "timeout"):
            assert service["provider"][key] == search["provider"][key], (name, key)
    portfolio = config(SERVICES / "portfolio" / "serverless.yml")
    assert portfolio["service"] == "alex-portfolio"
    assert portfolio["provider"]["environment"] == {
        "ALEX_BACKEND": "aws",
        "DEFAULT_AWS_REGION": "${self:provider.region}",
        "ALEX_PORTFOLIO_TABLE": "${param:portfolioTable}",
    }
    assert portfolio["custom"]["alexBuild"]["ship"] == ["portfolio"]
    assert "opensearch-py" not in portfolio["custom"]["alexBuild"]["requirements"]
    compose = config(ROOT / "serverless-compose.yml")["services"]["portfolio"]
    assert compose["dependsOn"] == "researcher"  # one API: deployments must not overlap
    assert compose["params"]["lambdaRoleArn"] == "${infrastructure.PortfolioRoleArn}"
    assert compose["params"]["portfolioTable"] == "${infrastructure.PortfolioTableName}"


def test_the_two_services_with_portfolio_routes_share_the_infrastructures_resource() -> None:
    """API Gateway allows one /portfolio resource, owned by one stack: the infrastructure's,
    which the portfolio service and the researcher's image (the projection) both build on."""
    services = config(ROOT / "serverless-compose.yml")["services"]
    for name in ("portfolio", "researcher"):
        provider = config(SERVICES / name / "serverless.yml")["provider"]
        assert provider["apiGateway"]["restApiResources"] == {
            "/portfolio": "${param:portfolioApiResourceId}"
        }, name
        params = services[name]["params"]
        assert params["portfolioApiResourceId"] == "${infrastructure.PortfolioApiResourceId}"
        assert params["portfolioTable"] == "${infrastructure.PortfolioTableName}"
    infrastructure = config(ROOT / "infrastructure" / "serverless.yml")["resources"]
    resource = infrastructure["Resources"]["PortfolioApiResource"]
    assert resource["Type"] == "AWS::ApiGateway::Resource"
    assert resource["Properties"]["PathPart"] == "portfolio"
    assert "PortfolioApiResourceId" in infrastructure["Outputs"]


def test_each_zip_leaves_out_the_other_services_code() -> None:
    """build_lambda.py: the portfolio's zip ships its code but no numpy user (the
    projection), no local store and no OpenSearch adapter; the others ship no portfolio."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_lambda", COMMON / "build_lambda.py")
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    portfolio, documents = build.left_out(["portfolio"]), build.left_out(["documents"])
    assert "portfolio/service.py" not in portfolio and "adapters/aws_clients.py" not in portfolio
    assert {"portfolio/projection.py", "adapters/portfolio_sqlite.py"} <= portfolio
    assert {"adapters/opensearch", "adapters/sagemaker_embedder.py"} <= portfolio
    assert "portfolio/service.py" in documents and "adapters/opensearch" not in documents
    assert "portfolio/projection.py" in documents
    for parts in (portfolio, documents):
        assert all((build.SOURCE / part).exists() for part in parts), "a stale path"
