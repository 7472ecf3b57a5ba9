"""The portfolio's DynamoDB table on moto, for the tests that run the aws backend offline."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from alex.adapters import aws_clients
from alex.adapters.portfolio_dynamo import TABLE_DEFINITION


@contextmanager
def portfolio_table(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, table: str, region: str
) -> Iterator[Any]:
    """Fake credentials, moto for every AWS call and the portfolio table as the
    infrastructure declares it; the shared clients are rebuilt inside moto, so none made
    outside it is reused. Yields a DynamoDB client."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    aws_clients.aws_client.cache_clear()
    try:
        with mock_aws():
            client = boto3.client("dynamodb", region_name=region)
            client.create_table(TableName=table, **TABLE_DEFINITION)
            yield client
    finally:
        aws_clients.aws_client.cache_clear()
