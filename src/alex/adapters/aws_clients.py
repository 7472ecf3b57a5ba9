"""AWS clients for the researcher in the cloud: one boto3 client per service, and the
SSM SecureString that holds the OpenAI key.

boto3 is imported on first use only: importing this module costs nothing.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from alex.domain.errors import ConfigError, StoreUnavailableError

T = TypeVar("T")

logger = logging.getLogger("alex.research.cloud")


@functools.cache
def aws_client(service: str, region: str | None = None) -> Any:
    """One boto3 client per service and region for the container's life (thread-safe)."""
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30
    )
    return boto3.client(service, region_name=region, config=config)


def error_code(error: Exception) -> str:
    """An AWS error's code (``ThrottlingException``), or the exception's class name."""
    response = getattr(error, "response", None) or {}
    code = response.get("Error", {}).get("Code")
    return str(code or type(error).__name__)


def dynamo_call(what: str, table: str, action: Callable[[], T], after: str = "") -> T:
    """``action()`` (a call on DynamoDB table ``table``, named as in "the planner table x"),
    a boto3 error turned into a StoreUnavailableError: "Cannot {what} {table}: {code}."."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return action()
    except (BotoCoreError, ClientError) as error:
        message = f"Cannot {what} {table}: {error_code(error)}"
        raise StoreUnavailableError(f"{message}. {after}" if after else message) from None


# The key schema of Alex's own tables (portfolio, planner): a string partition key ``pk`` and
# sort key ``sk``, on demand ($0 idle). The infrastructure's tables repeat it, adding their
# names (tests/deploy/test_service_config.py checks they agree).
PK_SK_TABLE: dict[str, Any] = {
    "BillingMode": "PAY_PER_REQUEST",
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ],
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
}


_parameter_values: dict[str, str] = {}
_parameter_lock = threading.Lock()


def read_secure_parameter(name: str, client: Any) -> str:
    """The decrypted value of SSM parameter ``name``, read once per container."""
    with _parameter_lock:
        if name in _parameter_values:
            return _parameter_values[name]
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            parameter = client.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        except ClientError as error:
            code = error_code(error)
            if code == "ParameterNotFound":
                raise ConfigError(
                    f"The SSM parameter {name} does not exist: create it as a SecureString "
                    "holding your OpenAI API key (docs/researcher-cloud.md)"
                ) from None
            raise ConfigError(f"Cannot read the SSM parameter {name}: {code}") from None
        except BotoCoreError as error:
            raise ConfigError(f"Cannot read the SSM parameter {name}: {error}") from None
        value = str(parameter.get("Value", "")).strip()
        if not value:
            raise ConfigError(f"The SSM parameter {name} is empty")
        if parameter.get("Type") != "SecureString":
            logger.warning("SSM parameter %s is not a SecureString: store it encrypted", name)
        _parameter_values[name] = value
        return value


def read_api_key(key_id: str, client: Any) -> str:
    """The value of API Gateway's API key ``key_id`` (``apigateway:GET`` on that key only)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        key = client.get_api_key(apiKey=key_id, includeValue=True)
    except ClientError as error:
        raise ConfigError(f"Cannot read the API key {key_id}: {error_code(error)}") from None
    except BotoCoreError as error:
        raise ConfigError(f"Cannot read the API key {key_id}: {error}") from None
    value = str(key.get("value") or "")
    if not value:
        raise ConfigError(f"The API key {key_id} has no value")
    return value
