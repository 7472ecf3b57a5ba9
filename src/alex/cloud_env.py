"""Write a deployed Alex's endpoints and API key into the project's ``.env``.

After ``npm run deploy`` (docs/deploy.md), run, on any OS::

    uv run python -m alex.cloud_env [--stage dev] [--region eu-west-1] [--dry-run]

It reads the CloudFormation stacks that osls created (osls names each ``<service>-<stage>``)
and the API key from API Gateway, then sets these variables in ``.env`` through
:func:`alex.envfile.set_env_values`, which keeps every other line and comment:

=====================  ===========================================================================
Variable               Source
=====================  ===========================================================================
SAGEMAKER_ENDPOINT     stack ``alex-infrastructure-<stage>``, output ``EmbeddingEndpointName``
OPENSEARCH_ENDPOINT    stack ``alex-infrastructure-<stage>``, output ``CollectionEndpoint``
ALEX_API_ENDPOINT      stack ``alex-infrastructure-<stage>``, output ``ApiEndpoint``
ALEX_API_KEY           API Gateway key ``alex-<stage>`` (``provider.apiGateway.apiKeys`` of ingest)
ALEX_PORTFOLIO_TABLE   stack ``alex-infrastructure-<stage>``, output ``PortfolioTableName``, when
                       the stack has it (a stack deployed before the portfolio table has not)
ALEX_PLANNER_TABLE     stack ``alex-infrastructure-<stage>``, output ``PlannerTableName``, when
                       the stack has it (the same: a stack from before the planner has not)
DEFAULT_AWS_REGION     the region the stack was read in (the endpoints' own)
=====================  ===========================================================================

Every service adds its routes to the one REST API the infrastructure stack creates, so one
base URL and one key serve ``/ingest``, ``/search``, ``/documents`` and ``/health``; a client
written for the original course (``/ingest`` with ``x-api-key``) works unchanged. No stack
outputs an API key's value (osls adds none), hence the API Gateway lookup.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from alex.api_key import mask
from alex.config import env_file_path
from alex.domain.errors import ConfigError
from alex.envfile import set_env_values

__all__ = [
    "API_KEY_NAME",
    "STACK_NAME",
    "main",
    "mask",
    "read_deployment",
    "resolve_region",
    "write_env",
]

DEFAULT_STAGE = "dev"
# The deploy's own fallback (provider.region in every serverless.yml).
DEFAULT_REGION = "us-east-1"

# osls names each stack "<service>-<stage>"; every value comes from the infrastructure's.
STACK_NAME = "alex-infrastructure-{stage}"
# provider.apiGateway.apiKeys in services/ingest/serverless.yml: the one key of the API.
API_KEY_NAME = "alex-{stage}"

# Which stack output becomes which variable (outputs in infrastructure/serverless.yml).
_VARIABLES = {
    "SAGEMAKER_ENDPOINT": "EmbeddingEndpointName",
    "OPENSEARCH_ENDPOINT": "CollectionEndpoint",
    "ALEX_API_ENDPOINT": "ApiEndpoint",
}
# Every output read: the variables' and the API's id, which the key check needs.
_REQUIRED_OUTPUTS = (*_VARIABLES.values(), "ApiId")
# Outputs written when the stack has them: a stage deployed before they existed still
# gets its other variables (a redeploy adds them).
_OPTIONAL_VARIABLES = {
    "ALEX_PORTFOLIO_TABLE": "PortfolioTableName",
    "ALEX_PLANNER_TABLE": "PlannerTableName",
}


def _client(name: str, region: str) -> Any:
    import boto3

    return boto3.client(name, region_name=region)


def _hint(stage: str, region: str) -> str:
    return (
        f"deploy it with `npm run deploy -- --stage {stage}` (AWS_REGION={region}), "
        "or pass the --stage and --region you deployed with"
    )


def _stack_outputs(
    cloudformation: Any, stack: str, stage: str, region: str
) -> tuple[str, dict[str, str]]:
    """The stack's status and its outputs by key."""
    from botocore.exceptions import ClientError

    try:
        answer = cloudformation.describe_stacks(StackName=stack)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = str(error.response.get("Error", {}).get("Message", ""))
        if code == "ValidationError" and "does not exist" in message:
            raise ConfigError(
                f"CloudFormation stack {stack} not found in {region}: {_hint(stage, region)}"
            ) from None
        raise
    stacks = answer.get("Stacks") or []
    if not stacks:
        raise ConfigError(
            f"CloudFormation stack {stack} not found in {region}: {_hint(stage, region)}"
        )
    described = stacks[0]
    outputs = {
        str(item["OutputKey"]): str(item.get("OutputValue", ""))
        for item in described.get("Outputs") or []
    }
    return str(described.get("StackStatus", "unknown")), outputs


def _api_key(apigateway: Any, name: str, stage: str, region: str) -> tuple[str, str]:
    """The id and value of the API key called exactly ``name`` (``nameQuery`` is a prefix
    match)."""
    paginator = apigateway.get_paginator("get_api_keys")
    for page in paginator.paginate(nameQuery=name, includeValues=True):
        for item in page.get("items") or []:
            if item.get("name") == name and item.get("value"):
                return str(item["id"]), str(item["value"])
    raise ConfigError(f"API Gateway key {name} not found in {region}: {_hint(stage, region)}")


def _check_key_opens_the_api(
    apigateway: Any, key_id: str, key_name: str, api_id: str, stage: str
) -> None:
    """API Gateway answers 403 to a key that no usage plan links to the API's stage."""
    paginator = apigateway.get_paginator("get_usage_plans")
    for page in paginator.paginate(keyId=key_id):
        for plan in page.get("items") or []:
            for api_stage in plan.get("apiStages") or []:
                if api_stage.get("apiId") == api_id and api_stage.get("stage") == stage:
                    return
    raise ConfigError(
        f"API key {key_name} is in no usage plan for API {api_id} stage {stage}, so every "
        "request would be refused (403): run `npm run deploy` again to finish the ingest service"
    )


def read_deployment(
    stage: str,
    region: str,
    *,
    cloudformation: Any = None,
    apigateway: Any = None,
) -> dict[str, str]:
    """The variables of a deployed ``stage`` in ``region``, read from AWS.

    Raises :class:`ConfigError` naming the missing stack, output or key; botocore errors
    (credentials, access denied, network) propagate.
    """
    cloudformation = cloudformation or _client("cloudformation", region)
    apigateway = apigateway or _client("apigateway", region)
    stack = STACK_NAME.format(stage=stage)
    status, found = _stack_outputs(cloudformation, stack, stage, region)
    outputs = {key: found.get(key, "").strip() for key in _REQUIRED_OUTPUTS}
    for key, value in outputs.items():
        if not value:
            raise ConfigError(
                f"CloudFormation stack {stack} ({status}) has no output {key}: "
                f"wait for the deploy to finish or {_hint(stage, region)}"
            )
    values = {variable: outputs[key] for variable, key in _VARIABLES.items()}
    values["ALEX_API_ENDPOINT"] = values["ALEX_API_ENDPOINT"].rstrip("/")
    for variable, key in _OPTIONAL_VARIABLES.items():
        if found.get(key, "").strip():
            values[variable] = found[key].strip()
    key_name = API_KEY_NAME.format(stage=stage)
    key_id, values["ALEX_API_KEY"] = _api_key(apigateway, key_name, stage, region)
    _check_key_opens_the_api(apigateway, key_id, key_name, outputs["ApiId"], stage)
    # ALEX_BACKEND=aws needs the region too, and it must be the endpoints' own.
    values["DEFAULT_AWS_REGION"] = region
    return values


def write_env(values: dict[str, str], env_file: Path) -> None:
    """Set ``values`` in ``env_file``, keeping its other lines and comments."""
    set_env_values(env_file, values)


def resolve_region(explicit: str | None = None) -> str:
    """``--region``, else DEFAULT_AWS_REGION, AWS_REGION, the boto3 session's, us-east-1."""
    for candidate in (
        explicit,
        os.environ.get("DEFAULT_AWS_REGION"),
        os.environ.get("AWS_REGION"),
    ):
        if candidate and candidate.strip():
            return candidate.strip()
    import boto3

    session_region = boto3.session.Session().region_name
    return str(session_region) if session_region else DEFAULT_REGION


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m alex.cloud_env",
        description=(
            "Write the deployed Alex's ALEX_API_ENDPOINT, ALEX_API_KEY, SAGEMAKER_ENDPOINT, "
            "OPENSEARCH_ENDPOINT, ALEX_PORTFOLIO_TABLE, ALEX_PLANNER_TABLE and "
            "DEFAULT_AWS_REGION into .env "
            "(other lines are kept). "
            "Run after `npm run deploy`."
        ),
    )
    parser.add_argument("--stage", default=DEFAULT_STAGE, help="deployed stage (default: dev)")
    parser.add_argument(
        "--region",
        default=None,
        help="AWS region (default: DEFAULT_AWS_REGION, AWS_REGION, your AWS config, us-east-1)",
    )
    parser.add_argument(
        "--env-file", type=Path, default=None, help="the .env to update (default: the project's)"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the values without writing them"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        NoRegionError,
    )

    args = _parser().parse_args(argv)
    region: str = args.region or "the default region"
    try:
        region = resolve_region(args.region)
        env_file: Path = args.env_file or env_file_path()
        values = read_deployment(args.stage, region)
        if not args.dry_run:
            write_env(values, env_file)
    except ConfigError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    except NoCredentialsError:
        print(
            "error: no AWS credentials found: configure AWS credentials (aws configure), "
            "or set AWS_PROFILE",
            file=sys.stderr,
        )
        return 1
    except NoRegionError:
        print("error: no AWS region: pass --region or set AWS_REGION", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as error:
        print(f"error: AWS call failed in {region}: {error}", file=sys.stderr)
        return 1

    action = "Would write" if args.dry_run else "Wrote"
    print(f"{action} to {env_file} (stage {args.stage}, {region}):")
    for name, value in values.items():
        print(f"  {name}={mask(value) if name == 'ALEX_API_KEY' else value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
