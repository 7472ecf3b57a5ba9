"""``Services`` on the aws backend keeps the portfolio in DynamoDB (moto): the table named by
``ALEX_PORTFOLIO_TABLE``, created from ``TABLE_DEFINITION`` as the infrastructure declares it
(tests/deploy/test_service_config.py holds the two together), gives the same figures as the
local SQLite store, and a missing setting is named."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from alex.adapters.portfolio_dynamo import DynamoPortfolioStore
from alex.adapters.portfolio_sqlite import SqlitePortfolioStore
from alex.config import Settings
from alex.domain.errors import ConfigError
from alex.services import Services
from tests.support.moto_tables import portfolio_table

REGION = "eu-west-2"
TABLE = "alex-portfolio-test"
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "portfolio"
DAY = date(2026, 12, 3)  # the sample household's last prices


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    with portfolio_table(monkeypatch, tmp_path, TABLE, REGION) as client:
        yield client


@pytest.fixture(autouse=True)
def no_cloud_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the settings a test gives: none inherited from the environment."""
    for name in ("ALEX_BACKEND", "ALEX_PORTFOLIO_TABLE", "DEFAULT_AWS_REGION", "ALEX_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def settings(tmp_path: Path, **values: str) -> Settings:
    # No .env: only the values given (and no_cloud_environment's clean environment).
    given: dict[str, Any] = {"_env_file": None, "ALEX_DATA_DIR": str(tmp_path), **values}
    return Settings(**given)


def aws_settings(tmp_path: Path, **values: str) -> Settings:
    return settings(
        tmp_path,
        ALEX_BACKEND="aws",
        ALEX_PORTFOLIO_TABLE=TABLE,
        DEFAULT_AWS_REGION=REGION,
        **values,
    )


def sample_files() -> list[tuple[str, str]]:
    return [(path.name, path.read_text("utf-8")) for path in sorted(SAMPLES.glob("*.csv"))]


def test_the_aws_backend_stores_and_reads_the_portfolio_in_the_table(
    dynamodb: Any, tmp_path: Path
) -> None:
    services = Services(aws_settings(tmp_path))
    store = services.portfolio_store
    assert isinstance(store, DynamoPortfolioStore) and store.table == TABLE
    reports = services.portfolio.files.import_files(sample_files())
    services.close()
    transactions = next(r for r in reports if r.name == "transactions.csv").new
    assert transactions == SAMPLES.joinpath("transactions.csv").read_text().count("\n") - 1

    # The items are in the table itself, one partition, nothing in the SQLite file.
    items = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :tx)",
        ExpressionAttributeValues={":pk": {"S": "PORTFOLIO#default"}, ":tx": {"S": "TX#"}},
        Select="COUNT",
    )
    assert items["Count"] == transactions
    assert not (tmp_path / "alex.sqlite3").exists()

    # A new process (a Lambda's next cold start) reads what the first one stored ...
    cloud = Services(aws_settings(tmp_path))
    from_table = cloud.portfolio.show(DAY)
    assert len(cloud.portfolio_store.list_transactions()) == transactions
    # ... and its figures are the local backend's, to the cent.
    local = Services(settings(tmp_path / "local"))
    assert isinstance(local.portfolio_store, SqlitePortfolioStore)
    local.portfolio.files.import_files(sample_files())
    from_file = local.portfolio.show(DAY)
    assert from_table.valuation == from_file.valuation
    assert from_table.ledger == from_file.ledger
    assert from_table.allocations == from_file.allocations
    assert from_table.valuation.total.value is not None
    # Importing again adds nothing, as locally.
    again = cloud.portfolio.files.import_files(sample_files())
    assert [r.new for r in again] == [0] * len(again)
    cloud.close()
    local.close()


def test_the_client_is_in_the_configured_region(dynamodb: Any, tmp_path: Path) -> None:
    store = Services(aws_settings(tmp_path)).portfolio_store
    assert isinstance(store, DynamoPortfolioStore)
    assert store._client.meta.region_name == REGION


@pytest.mark.parametrize("missing", ["ALEX_PORTFOLIO_TABLE", "DEFAULT_AWS_REGION"])
def test_a_missing_setting_is_named_and_the_search_settings_are_not_needed(
    tmp_path: Path, missing: str
) -> None:
    values = {"ALEX_BACKEND": "aws", "ALEX_PORTFOLIO_TABLE": TABLE, "DEFAULT_AWS_REGION": REGION}
    del values[missing]
    services = Services(settings(tmp_path, **values))
    with pytest.raises(ConfigError, match=f"^{missing} must be set .* for ALEX_BACKEND=aws"):
        _ = services.portfolio_store
