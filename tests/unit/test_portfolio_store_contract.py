"""One contract for every ``PortfolioStore``: in-memory (the fake), SQLite, DynamoDB (moto).

The limits checked come from DynamoDB's documentation ("Supported data types and naming
rules": numbers keep up to 38 digits of precision, from 1E-130 to 1E+125; "Amazon DynamoDB
Transactions": at most 100 actions per TransactWriteItems), the narrowest store's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from alex.adapters.portfolio_dynamo import TABLE_DEFINITION, DynamoPortfolioStore
from alex.adapters.portfolio_sqlite import SqlitePortfolioStore
from alex.adapters.sqlite_store import SqliteStore
from alex.domain.errors import InvalidInputError, StoreUnavailableError
from alex.portfolio.model import (
    Account,
    AccountKind,
    FxRate,
    Instrument,
    InstrumentType,
    PortfolioSettings,
    Price,
    ProjectionDefaults,
    RecordedTransaction,
    Transaction,
    TransactionType,
    Weights,
)
from alex.ports import PortfolioStore
from tests.fakes.portfolio import InMemoryPortfolioStore

REGION = "eu-west-2"
TABLE = "alex-portfolio-test"
STORES = ("memory", "sqlite", "dynamo")
D = Decimal


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto for every AWS call, and the portfolio table created from TABLE_DEFINITION."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(TableName=TABLE, **TABLE_DEFINITION)
        yield client


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PortfolioStore]:
    built: PortfolioStore
    if request.param == "sqlite":
        built = SqlitePortfolioStore(tmp_path / "alex.db")
    elif request.param == "dynamo":
        built = DynamoPortfolioStore(TABLE, request.getfixturevalue("aws"))
    else:
        built = InMemoryPortfolioStore()
    yield built
    built.close()


def tx(
    tid: str,
    day: str,
    account: str = "isa",
    kind: TransactionType = TransactionType.BUY,
    symbol: str | None = "VWRL",
    quantity: str = "10",
    price: str = "100.25",
    **changes: Any,
) -> RecordedTransaction:
    transaction = Transaction(
        date=date.fromisoformat(day),
        account=account,
        type=kind,
        symbol=symbol,
        quantity=D(quantity),
        unit_price=D(price),
        fee=D("1.50"),
        currency="GBP",
        note=f"note {tid}",
    )
    return RecordedTransaction(tid, replace(transaction, **changes))


def with_accounts(store: PortfolioStore) -> PortfolioStore:
    store.put_account(Account("isa", "Stocks ISA", AccountKind.TAXABLE, "GBP"))
    store.put_account(Account("sipp", "Pension", AccountKind.RETIREMENT, "GBP"))
    return store


# Empty store, accounts, instruments ---------------------------------------------------------
def test_an_empty_store_has_nothing_and_the_default_settings(store: PortfolioStore) -> None:
    assert store.list_accounts() == [] and store.get_account("isa") is None
    assert store.list_instruments() == [] and store.get_instrument("VWRL") is None
    assert store.list_transactions() == [] and store.delete_transaction("t1") is False
    assert store.last_price("VWRL", date(2030, 1, 1)) is None and store.list_prices("VWRL") == []
    assert store.last_fx_rate("USD", "GBP", date(2030, 1, 1)) is None
    assert store.targets() == {}
    assert store.get_settings() == PortfolioSettings()


def test_accounts_and_instruments_round_trip_and_are_replaced(store: PortfolioStore) -> None:
    with_accounts(store)
    store.put_account(Account("isa", "ISA (renamed)", AccountKind.SAVINGS, "EUR"))
    assert [a.id for a in store.list_accounts()] == ["isa", "sipp"]
    assert store.get_account("isa") == Account("isa", "ISA (renamed)", AccountKind.SAVINGS, "EUR")

    world = Instrument(
        "VWRL",
        "Vanguard FTSE All-World",
        InstrumentType.ETF,
        "GBP",
        asset_class=Weights({"equity": D(100)}),
        region=Weights({"north_america": D("62.5"), "europe": D("15.25"), "other": D("22.25")}),
    )
    bond = Instrument("AGGG", "Global Aggregate Bond", InstrumentType.ETF, "USD")
    store.put_instrument(world)
    store.put_instrument(bond)
    assert store.list_instruments() == [bond, world]  # by symbol
    got = store.get_instrument("VWRL")
    assert got == world and got is not None and not got.sector.known
    assert got.region.shares["europe"] == D("15.25")


def test_a_classification_must_sum_to_100(store: PortfolioStore) -> None:
    bad = Instrument("X", "X", InstrumentType.STOCK, "USD", region=Weights({"europe": D(99)}))
    with pytest.raises(InvalidInputError, match="region: shares must sum to 100, they sum to 99"):
        store.put_instrument(bad)
    assert store.list_instruments() == []


# Transactions: idempotent, atomic, filtered --------------------------------------------------
def test_adding_again_adds_nothing_and_counts_only_the_new(store: PortfolioStore) -> None:
    with_accounts(store)
    first = [tx("t1", "2024-01-02"), tx("t2", "2024-02-01"), tx("t2", "2024-02-01")]
    assert store.add_transactions(first) == 2  # an identical repeat in one batch is one
    assert store.add_transactions(first) == 0
    # A known id is skipped even with other contents: its first import stands.
    assert store.add_transactions([tx("t1", "2024-01-02", quantity="99"), tx("t3", "2024-03-01")])
    assert [e.id for e in store.list_transactions()] == ["t1", "t2", "t3"]
    assert store.list_transactions()[0] == tx("t1", "2024-01-02")
    assert store.add_transactions([]) == 0


def test_an_id_given_twice_with_other_contents_stores_nothing(store: PortfolioStore) -> None:
    with_accounts(store)
    batch = [tx("a", "2024-01-02"), tx("b", "2024-01-03"), tx("a", "2024-01-02", quantity="2")]
    with pytest.raises(InvalidInputError, match=r"entry 3 \(id 'a'\), field id"):
        store.add_transactions(batch)
    assert store.list_transactions() == []


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (tx("bad", "2024-01-05", account="nowhere"), "account"),
        (tx("bad", "2024-01-05", currency="pounds"), "currency"),
        (tx("bad", "2024-01-05", quantity="NaN"), "quantity"),
        (tx("bad", "2024-01-05", price="1" * 39), "unit_price"),  # DynamoDB keeps 38 digits
        (tx("bad", "2024-01-05", symbol="A#B"), "symbol"),
        (tx("", "2024-01-05"), "id"),
        (tx("bad", "2024-01-05", note="x" * 2001), "note"),
    ],
)
def test_one_bad_record_stores_nothing_of_its_batch(
    store: PortfolioStore, bad: RecordedTransaction, field: str
) -> None:
    with_accounts(store)
    good = [tx(f"g{n}", "2024-01-01") for n in range(4)]
    with pytest.raises(InvalidInputError, match=rf"transaction entry 5 .*field {field}"):
        store.add_transactions([*good, bad])
    assert store.list_transactions() == []
    assert store.add_transactions(good) == 4  # the same batch without it goes in whole


def test_a_batch_larger_than_one_dynamodb_transaction_is_stored_whole(
    store: PortfolioStore,
) -> None:
    with_accounts(store)
    batch = [tx(f"t{n:03}", "2024-01-01", quantity=str(n)) for n in range(250)]
    assert store.add_transactions(batch) == 250
    assert store.add_transactions(batch) == 0
    assert store.list_transactions() == batch


def test_decimals_come_back_exact(store: PortfolioStore) -> None:
    with_accounts(store)
    # 38 significant digits (DynamoDB's most), more than Decimal's default 28 for arithmetic.
    quantity = "1234567890123456789.0123456789012345678"
    store.add_transactions([tx("t1", "2024-01-02", quantity=quantity, price="0.1")])
    (got,) = store.list_transactions()
    assert got.transaction.quantity == D(quantity)
    assert got.transaction.unit_price * 3 == D("0.3")  # not 0.30000000000000004
    assert got.transaction.fee == D("1.5")


def test_transactions_filter_by_account_and_inclusive_dates(store: PortfolioStore) -> None:
    with_accounts(store)
    dividend = tx("d", "2024-03-31", "sipp", TransactionType.DIVIDEND, quantity="1")
    deposit = tx("c", "2024-01-01", "isa", TransactionType.DEPOSIT, None, "1", "5000")
    store.add_transactions(
        [tx("z", "2024-02-15"), dividend, tx("a", "2024-02-15", "sipp"), deposit]
    )
    assert [e.id for e in store.list_transactions()] == ["c", "a", "z", "d"]  # date, then id
    assert [e.id for e in store.list_transactions(account="sipp")] == ["a", "d"]
    assert [e.id for e in store.list_transactions(start=date(2024, 2, 15))] == ["a", "z", "d"]
    assert [e.id for e in store.list_transactions(end=date(2024, 2, 15))] == ["c", "a", "z"]
    window = store.list_transactions("isa", date(2024, 1, 2), date(2024, 3, 31))
    assert [e.id for e in window] == ["z"]
    assert store.list_transactions(account="nowhere") == []
    cash = store.list_transactions(end=date(2024, 1, 1))
    assert cash == [deposit] and cash[0].transaction.symbol is None


def test_a_deleted_transaction_is_gone_and_can_be_added_again(store: PortfolioStore) -> None:
    with_accounts(store)
    store.add_transactions([tx("t1", "2024-01-02"), tx("t2", "2024-01-03")])
    assert store.delete_transaction("t1") is True
    assert store.delete_transaction("t1") is False
    assert [e.id for e in store.list_transactions()] == ["t2"]
    assert store.add_transactions([tx("t1", "2024-01-02")]) == 1


def test_a_replaced_transaction_is_gone_and_its_successor_stored_in_one_write(
    store: PortfolioStore,
) -> None:
    with_accounts(store)
    store.add_transactions([tx("t1", "2024-01-02"), tx("t2", "2024-01-03")])
    assert store.replace_transaction("t1", tx("t3", "2024-01-05", quantity="7")) is True
    assert [(e.id, e.transaction.quantity) for e in store.list_transactions()] == [
        ("t2", D(10)),
        ("t3", D(7)),
    ]
    # The same id (only the note changed): replaced in place.
    assert store.replace_transaction("t3", tx("t3", "2024-01-05", quantity="7", note="n")) is True
    assert store.list_transactions()[-1].transaction.note == "n"
    # Nothing written when the old one is unknown, the new id is taken or its account unknown.
    assert store.replace_transaction("t1", tx("t4", "2024-01-06")) is False
    with pytest.raises(InvalidInputError, match="'t2' is stored already"):
        store.replace_transaction("t3", tx("t2", "2024-01-03"))
    with pytest.raises(InvalidInputError, match="no account 'gia' is stored"):
        store.replace_transaction("t3", tx("t5", "2024-01-06", "gia"))
    assert [e.id for e in store.list_transactions()] == ["t2", "t3"]


def test_an_account_is_deleted_only_without_transactions(store: PortfolioStore) -> None:
    with_accounts(store)
    store.add_transactions(
        [tx("t1", "2024-01-02"), tx("t2", "2024-01-03"), tx("s", "2024-01-04", "sipp")]
    )
    with pytest.raises(InvalidInputError, match=r"account 'isa', field id: 2 transactions"):
        store.delete_account("isa")
    assert store.get_account("isa") is not None and len(store.list_transactions()) == 3
    store.delete_transaction("t1")
    store.delete_transaction("t2")
    assert store.delete_account("isa") is True
    assert store.get_account("isa") is None and [a.id for a in store.list_accounts()] == ["sipp"]
    assert store.delete_account("isa") is False and store.delete_account("nowhere") is False
    # Gone means gone: a transaction in it is refused again until it is put back.
    with pytest.raises(InvalidInputError, match="no account 'isa' is stored"):
        store.add_transactions([tx("t1", "2024-01-02")])
    store.put_account(Account("isa", "Stocks ISA", AccountKind.TAXABLE, "GBP"))
    assert store.add_transactions([tx("t1", "2024-01-02")]) == 1


# Prices and FX rates ----------------------------------------------------------------------------
def test_the_last_price_on_or_before_a_day(store: PortfolioStore) -> None:
    closes = {"2024-01-02": "100.10", "2024-01-05": "101.00", "2024-01-09": "99.95"}
    store.put_prices([Price("VT", date.fromisoformat(d), D(c), "USD") for d, c in closes.items()])
    # A symbol that extends another's must not leak into it.
    store.put_prices([Price("VTI", date(2024, 1, 6), D("250"), "USD")])

    def last(day: str) -> tuple[str, Decimal] | None:
        price = store.last_price("VT", date.fromisoformat(day))
        return (price.date.isoformat(), price.close) if price else None

    assert last("2024-01-01") is None
    assert last("2024-01-02") == ("2024-01-02", D("100.10"))
    assert last("2024-01-07") == ("2024-01-05", D("101"))
    assert last("2030-01-01") == ("2024-01-09", D("99.95"))
    assert [p.date.day for p in store.list_prices("VT")] == [2, 5, 9]
    # The same day again replaces its close.
    store.put_prices([Price("VT", date(2024, 1, 5), D("101.50"), "USD")])
    assert last("2024-01-07") == ("2024-01-05", D("101.50"))
    assert len(store.list_prices("VT")) == 3


def test_a_bad_price_stores_none_of_its_batch(store: PortfolioStore) -> None:
    prices = [
        Price("VT", date(2024, 1, 2), D("1"), "USD"),
        Price("VT", date(2024, 1, 3), D(-1), "USD"),
    ]
    with pytest.raises(InvalidInputError, match="price entry 2, field close: must be at least 0"):
        store.put_prices(prices)
    assert store.list_prices("VT") == []


def test_fx_rates_are_kept_per_direction(store: PortfolioStore) -> None:
    rates = [
        FxRate(date(2024, 1, 2), "USD", "GBP", D("0.7850")),
        FxRate(date(2024, 1, 4), "USD", "GBP", D("0.7900")),
        FxRate(date(2024, 1, 3), "GBP", "USD", D("1.27")),
    ]
    store.put_fx_rates(rates)
    assert store.last_fx_rate("USD", "GBP", date(2024, 1, 3)) == rates[0]
    assert store.last_fx_rate("USD", "GBP", date(2024, 1, 4)) == rates[1]
    assert store.last_fx_rate("GBP", "USD", date(2024, 1, 2)) is None
    assert store.list_fx_rates("USD", "GBP") == [rates[0], rates[1]]
    with pytest.raises(InvalidInputError, match="FX rate entry 1, field rate"):
        store.put_fx_rates([FxRate(date(2024, 1, 5), "USD", "GBP", D(0))])
    with pytest.raises(InvalidInputError, match="FX rate entry 1, field quote"):
        store.put_fx_rates([FxRate(date(2024, 1, 5), "USD", "USD", D(1))])


# Targets and settings ----------------------------------------------------------------------------
def test_targets_per_dimension(store: PortfolioStore) -> None:
    store.put_target("asset_class", Weights({"equity": D(80), "bond": D(20)}))
    store.put_target("region", Weights({"europe": D("33.3"), "other": D("66.7")}))
    store.put_target("asset_class", Weights({"equity": D(60), "bond": D(40)}))
    assert store.targets() == {
        "asset_class": Weights({"equity": D(60), "bond": D(40)}),
        "region": Weights({"europe": D("33.3"), "other": D("66.7")}),
    }
    store.put_target("region", Weights())  # empty weights clear the target
    assert list(store.targets()) == ["asset_class"]
    with pytest.raises(InvalidInputError, match="dimension: must be one of"):
        store.put_target("planet", Weights({"earth": D(100)}))
    with pytest.raises(InvalidInputError, match="sum to 110"):
        store.put_target("sector", Weights({"tech": D(60), "energy": D(50)}))


def test_settings_round_trip(store: PortfolioStore) -> None:
    chosen = PortfolioSettings(
        base_currency="GBP",
        monthly_spending=D("2500.00"),
        stale_price_days=3,
        risk_thresholds={"single_holding": D("0.25"), "cash_drag": D(10)},
    )
    store.put_settings(chosen)
    assert store.get_settings() == chosen
    store.put_settings(replace(chosen, monthly_spending=None, risk_thresholds={}))
    assert store.get_settings() == PortfolioSettings("GBP", None, 3, {})
    with pytest.raises(InvalidInputError, match="stale_price_days"):
        store.put_settings(PortfolioSettings(stale_price_days=0))
    with pytest.raises(InvalidInputError, match="base_currency"):
        store.put_settings(PortfolioSettings(base_currency="usd"))


def test_the_projections_personal_inputs_round_trip(store: PortfolioStore) -> None:
    plan = ProjectionDefaults(
        birth_year=1981,
        retirement_age=67,
        end_age=95,
        contribution=D("12000.50"),
        contribution_growth=D("0.02"),
        spending=D("40000"),
        fee=D("0.0025"),
    )
    store.put_settings(PortfolioSettings(base_currency="GBP", projection=plan))
    assert store.get_settings().projection == plan
    partial = ProjectionDefaults(retirement_age=60)  # the others unset, not 0
    store.put_settings(PortfolioSettings(projection=partial))
    assert store.get_settings().projection == partial
    assert store.get_settings().projection.spending is None


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (ProjectionDefaults(retirement_age=121), "retirement_age"),
        (ProjectionDefaults(end_age=130), "end_age"),
        (ProjectionDefaults(retirement_age=70, end_age=65), "retirement_age"),
        (ProjectionDefaults(spending=D(-1)), "spending"),
        (ProjectionDefaults(contribution=D("-0.01")), "contribution"),
        (ProjectionDefaults(contribution_growth=D("1.5")), "contribution_growth"),
        (ProjectionDefaults(fee=D(1)), "fee"),
        (ProjectionDefaults(birth_year=1800), "birth_year"),
    ],
)
def test_bad_projection_inputs_are_refused_naming_the_field(
    store: PortfolioStore, bad: ProjectionDefaults, field: str
) -> None:
    store.put_settings(PortfolioSettings(monthly_spending=D(1)))
    with pytest.raises(InvalidInputError, match=rf"settings, field projection\.{field}:"):
        store.put_settings(PortfolioSettings(projection=bad))
    assert store.get_settings() == PortfolioSettings(monthly_spending=D(1))


def test_sqlite_adds_the_projection_column_to_an_older_file(tmp_path: Path) -> None:
    """A file written before the projection's inputs were kept opens, keeps its settings and
    stores the new ones."""
    import sqlite3

    path = tmp_path / "alex.db"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE portfolio_settings (id INTEGER PRIMARY KEY CHECK (id = 1),"
        " base_currency TEXT NOT NULL, monthly_spending TEXT, stale_price_days INTEGER NOT NULL,"
        " risk_thresholds TEXT NOT NULL)"
    )
    old.execute("INSERT INTO portfolio_settings VALUES (1, 'EUR', '2000', 5, '{}')")
    old.commit()
    old.close()
    store = SqlitePortfolioStore(path)
    assert store.get_settings() == PortfolioSettings("EUR", D(2000), 5, {})
    store.put_settings(PortfolioSettings("EUR", projection=ProjectionDefaults(end_age=90)))
    assert store.get_settings().projection.end_age == 90
    store.close()


# One store's own guarantees -----------------------------------------------------------------------
def test_sqlite_keeps_the_portfolio_beside_the_documents(tmp_path: Path) -> None:
    path = tmp_path / "alex.db"
    portfolio = with_accounts(SqlitePortfolioStore(path))
    portfolio.add_transactions([tx("t1", "2024-01-02")])
    documents = SqliteStore(path, 4, "a-model")  # the documents' tables join the same file
    assert documents.count({}) == (0, 0) and documents.check_integrity() == []
    documents.close()
    portfolio.close()
    reopened = SqlitePortfolioStore(path)
    assert [e.id for e in reopened.list_transactions()] == ["t1"]
    reopened.close()


class FailingClient:
    """A DynamoDB client whose ``fail_on``-th TransactWriteItems call fails."""

    def __init__(self, client: Any, fail_on: int) -> None:
        self._client, self._fail_on, self.transactions = client, fail_on, 0

    def transact_write_items(self, **request: Any) -> Any:
        self.transactions += 1
        if self.transactions == self._fail_on:
            error = {"Error": {"Code": "ProvisionedThroughputExceededException"}}
            raise ClientError(error, "TransactWriteItems")
        return self._client.transact_write_items(**request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_dynamodb_shows_nothing_of_a_batch_cut_short(aws: Any) -> None:
    flaky = FailingClient(aws, fail_on=3)
    store = with_accounts(DynamoPortfolioStore(TABLE, flaky))
    batch = [tx(f"t{n:03}", "2024-01-01") for n in range(250)]
    with pytest.raises(StoreUnavailableError, match="ProvisionedThroughputExceeded"):
        store.add_transactions(batch)
    assert flaky.transactions == 3 and store.list_transactions() == []
    assert store.add_transactions(batch) == 250
    assert len(store.list_transactions()) == 250


def test_dynamodb_ignores_and_replaces_leftovers_of_an_uncommitted_batch(aws: Any) -> None:
    """Leftovers a crash kept from being deleted are invisible and do not block the ids."""
    store = with_accounts(DynamoPortfolioStore(TABLE, aws))
    leftover = {
        "pk": {"S": "PORTFOLIO#default"},
        "sk": {"S": "TX#t1"},
        "date": {"S": "2020-01-01"},
        "account": {"S": "isa"},
        "type": {"S": "SELL"},
        "quantity": {"N": "5"},
        "unit_price": {"N": "1"},
        "fee": {"N": "0"},
        "currency": {"S": "GBP"},
        "note": {"S": ""},
        "batch": {"S": "never-committed"},
    }
    aws.put_item(TableName=TABLE, Item=leftover)
    assert store.list_transactions() == [] and store.delete_transaction("t2") is False
    assert store.add_transactions([tx("t1", "2024-01-02")]) == 1
    assert store.list_transactions() == [tx("t1", "2024-01-02")]


def test_dynamodb_portfolios_share_a_table_apart(aws: Any) -> None:
    mine, theirs = DynamoPortfolioStore(TABLE, aws), DynamoPortfolioStore(TABLE, aws, "other")
    with_accounts(mine).add_transactions([tx("t1", "2024-01-02")])
    assert theirs.list_accounts() == [] and theirs.list_transactions() == []


def test_a_missing_dynamodb_table_is_unavailable_not_a_crash(aws: Any) -> None:
    store = DynamoPortfolioStore("no-such-table", aws)
    with pytest.raises(StoreUnavailableError, match="no-such-table: ResourceNotFoundException"):
        store.list_accounts()
