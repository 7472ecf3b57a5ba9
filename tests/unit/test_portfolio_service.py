"""The portfolio's use cases (``PortfolioService``) on the in-memory store: imports that are
whole or nothing and idempotent, the view's figures against the pure functions, targets,
settings, export round trips and the projection's start value."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from alex.domain.errors import InvalidInputError, NotFoundError
from alex.portfolio.allocation import Dimension
from alex.portfolio.files import FileKind, ImportFormat, detect
from alex.portfolio.holdings import ledger
from alex.portfolio.service import PortfolioService, ProjectionPlan
from tests.fakes.portfolio import InMemoryPortfolioStore

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "portfolio"
TODAY = date(2026, 12, 3)
HEADER = "date,account,type,symbol,quantity,unit_price,fee,currency,note\n"
ACCOUNTS = "id,name,kind,currency\nbrokerage,Brokerage,taxable,USD\n"


def sample_files() -> list[tuple[str, str]]:
    return [(path.name, path.read_text("utf-8")) for path in sorted(SAMPLES.glob("*.csv"))]


@pytest.fixture
def service() -> PortfolioService:
    return PortfolioService(InMemoryPortfolioStore(), today=lambda: TODAY)


@pytest.fixture
def household(service: PortfolioService) -> PortfolioService:
    service.files.import_files(sample_files())
    return service


def test_files_are_told_apart_by_their_header_and_json() -> None:
    kinds = {name: detect(text) for name, text in sample_files()}
    assert kinds["accounts.csv"] == (ImportFormat.ALEX, FileKind.ACCOUNTS)
    assert kinds["transactions.csv"] == (ImportFormat.ALEX, FileKind.TRANSACTIONS)
    assert kinds["fx.csv"][1] is FileKind.FX and kinds["prices.csv"][1] is FileKind.PRICES
    assert detect('\ufeff {"activities": []}') == (ImportFormat.GHOSTFOLIO, FileKind.TRANSACTIONS)
    with pytest.raises(InvalidInputError, match="first line 'symbol,price'"):
        detect("symbol,price\nVTI,1\n")


def test_the_household_imports_in_any_file_order_and_again_adds_nothing(
    service: PortfolioService,
) -> None:
    files = sample_files()
    reports = service.files.import_files(list(reversed(files)))  # transactions before accounts
    by_name = {r.name: r for r in reports}
    rows = SAMPLES.joinpath("transactions.csv").read_text().count("\n") - 1
    assert by_name["transactions.csv"].new == rows
    assert by_name["accounts.csv"].new == 3 and by_name["instruments.csv"].new == 10
    again = service.files.import_files(files)
    assert [r.new for r in again] == [0] * len(files)
    assert [r.unchanged for r in again] == [r.records for r in again]
    assert len(service.store.list_transactions()) == rows


def test_an_unknown_account_names_the_row_and_stores_nothing(service: PortfolioService) -> None:
    service.files.import_reference(accounts=ACCOUNTS)
    text = (
        HEADER
        + "2024-01-02,brokerage,DEPOSIT,,1,100,0,USD,\n"
        + "2024-01-03,isa,DEPOSIT,,1,100,0,USD,\n"
    )
    with pytest.raises(InvalidInputError, match=r"row 3, account: unknown account 'isa'"):
        service.files.import_file(text, name="mine.csv")
    assert service.store.list_transactions() == []


def test_a_file_that_defines_the_account_may_use_it(service: PortfolioService) -> None:
    text = HEADER + "2024-01-02,brokerage,DEPOSIT,,1,100,0,USD,\n"
    reports = service.files.import_files([("t.csv", text), ("a.csv", ACCOUNTS)])
    assert reports[0].kind is FileKind.TRANSACTIONS and reports[0].new == 1
    assert reports[0].accounts == ("brokerage",)


def test_one_bad_file_of_several_imports_none(service: PortfolioService) -> None:
    bad_prices = "date,symbol,close,currency\n2026-11-27,VTI,-1,USD\n"
    with pytest.raises(InvalidInputError, match=r"prices.csv: .*row 2, close"):
        service.files.import_files([("accounts.csv", ACCOUNTS), ("prices.csv", bad_prices)])
    assert service.store.list_accounts() == []


def test_selling_more_than_held_across_imports_is_refused_whole(
    service: PortfolioService,
) -> None:
    service.files.import_reference(accounts=ACCOUNTS)
    service.files.import_file(HEADER + "2024-01-02,brokerage,BUY,VTI,10,100,0,USD,\n")
    sale = (
        HEADER
        + "2024-02-01,brokerage,DEPOSIT,,1,50,0,USD,\n"
        + "2024-02-02,brokerage,SELL,VTI,11,110,0,USD,\n"
    )
    with pytest.raises(InvalidInputError, match=r"sale\.csv: nothing imported.*sells 11 units"):
        service.files.import_file(sale, name="sale.csv")
    assert len(service.store.list_transactions()) == 1


def test_show_agrees_with_the_ledger_and_prices(household: PortfolioService) -> None:
    view = household.show()
    stored = [entry.transaction for entry in household.store.list_transactions()]
    assert view.ledger == ledger(stored)
    # Every holding is worth quantity x the last close (all sample accounts are in USD).
    for held in view.valuation.holdings:
        price = household.store.last_price(held.holding.symbol, TODAY)
        assert price is not None and held.price == price
        assert held.value == held.holding.quantity * price.close
    total = view.valuation.total.value
    assert total is not None
    assert total == sum(
        (t.value for t in view.valuation.accounts.values() if t.value is not None), Decimal(0)
    )
    for dimension in Dimension:
        assert sum(b.share for b in view.allocations[dimension].buckets) == 100
    # The bond ETF's sector is unknown on purpose: it shows, it is not guessed.
    assert view.allocations[Dimension.SECTOR].share("unknown") > 0


def test_show_on_an_earlier_day_uses_what_was_known_then(household: PortfolioService) -> None:
    early = household.show(date(2026, 10, 31))
    assert early.transactions < household.show().transactions
    assert {h.price.date for h in early.valuation.holdings if h.price} == {date(2026, 10, 30)}
    later = household.show(date(2027, 1, 1))
    assert later.valuation.stale and all(
        q.name.startswith(("price", "fx")) for q in later.valuation.stale
    )


def test_targets_give_drift_and_bad_targets_are_refused(household: PortfolioService) -> None:
    household.set_target("asset_class", {"Equity": Decimal(60), "bond": Decimal(40)})
    view = household.show()
    shares = view.allocations[Dimension.ASSET_CLASS]
    assert view.drift[Dimension.ASSET_CLASS]["equity"] == shares.share("equity") - 60
    assert view.drift[Dimension.ASSET_CLASS]["cash"] == shares.share("cash")
    with pytest.raises(InvalidInputError, match="add up to 90"):
        household.set_target("region", {"europe": Decimal(90)})
    with pytest.raises(InvalidInputError, match="unknown dimension"):
        household.set_target("planet", {"earth": Decimal(100)})
    household.set_target("asset_class", {})
    assert household.show().drift == {}


def test_settings_change_only_what_is_given(service: PortfolioService) -> None:
    service.update_settings(monthly_spending=Decimal("3500"))
    changed = service.update_settings(base_currency="eur")
    assert (changed.base_currency, changed.monthly_spending) == ("EUR", Decimal("3500"))
    assert service.settings() == changed
    with pytest.raises(InvalidInputError, match="currency"):
        service.update_settings(base_currency="euro")


def test_an_account_with_transactions_is_not_deleted(household: PortfolioService) -> None:
    held = len(household.store.list_transactions(account="savings"))
    assert held > 0
    with pytest.raises(InvalidInputError, match=rf"'savings'.*{held} transactions are stored"):
        household.delete_account("savings")
    assert household.store.get_account("savings") is not None
    with pytest.raises(NotFoundError, match="no account with id 'nowhere'"):
        household.delete_account("nowhere")
    household.files.import_files([("a.csv", ACCOUNTS.replace("brokerage", "spare"))])
    deleted = household.delete_account("spare")
    assert deleted.id == "spare" and household.store.get_account("spare") is None


def test_a_ghostfolio_balance_is_the_cash_and_a_reimport_adds_nothing(
    service: PortfolioService,
) -> None:
    account = "8c0d1b7e-5a3f-4f7e-9b8e-2f4a6c1d9e01"
    text = json.dumps(
        {
            "meta": {"date": "2026-11-30T09:12:44.512Z", "version": "2.180.0"},
            "accounts": [{"balance": 1250.4, "currency": "USD", "id": account, "name": "B"}],
            "activities": [
                {"accountId": account, "type": "BUY", "symbol": "MSFT", "quantity": 2,
                 "unitPrice": 300, "fee": 1, "currency": "USD", "date": "2026-01-05"}
            ],
        }
    )  # fmt: skip
    first = service.files.import_file(text)
    assert first.new == 2  # the buy, and the deposit that makes the cash 1,250.40
    assert service.files.import_file(text).new == 0
    cash = service.show(date(2026, 12, 1)).ledger.cash
    assert cash == {(account, "USD"): Decimal("1250.4")}
    assert service.show(date(2026, 11, 29)).ledger.cash == {(account, "USD"): Decimal(-601)}


def ghostfolio_file(day: str, balance: float, activities: list[tuple[str, str, float]]) -> str:
    """A Ghostfolio export of one USD account: (date, type, unit price) activities of 2 MSFT
    each (fee 1 on buys), and the account's ``balance`` on the export's day."""
    account = "8c0d1b7e-5a3f-4f7e-9b8e-2f4a6c1d9e01"
    return json.dumps(
        {
            "meta": {"date": f"{day}T18:00:00.000Z", "version": "2.180.0"},
            "accounts": [{"balance": balance, "currency": "USD", "id": account, "name": "B"}],
            "activities": [
                {"accountId": account, "type": kind, "symbol": "MSFT", "quantity": 2,
                 "unitPrice": price, "fee": 1 if kind == "BUY" else 0, "currency": "USD",
                 "date": when}
                for when, kind, price in activities
            ],
        }
    )  # fmt: skip


GF_ACCOUNT = "8c0d1b7e-5a3f-4f7e-9b8e-2f4a6c1d9e01"
OLDER = ghostfolio_file("2025-01-31", 1000, [("2025-01-05", "BUY", 300)])
# Ghostfolio five months on: a dividend of 2 x 1.50, the 500 deposited meanwhile (recorded in
# Alex too) and 20 of interest Alex never heard of: 1,000 + 500 + 3 + 20 = 1,523.
NEWER = ghostfolio_file(
    "2025-06-30", 1523, [("2025-01-05", "BUY", 300), ("2025-05-15", "DIVIDEND", 1.5)]
)


def cash(service: PortfolioService, on: date) -> Mapping[tuple[str, str], Decimal]:
    return service.show(on).ledger.cash


def test_a_newer_ghostfolio_file_adds_only_the_true_difference(service: PortfolioService) -> None:
    """The balance is matched against the store's cash, not the file's alone: the older
    file's deposit and the deposit made in Alex are not counted twice."""
    assert service.files.import_file(OLDER).new == 2  # the buy and a deposit of 1,601
    assert cash(service, date(2025, 1, 31)) == {(GF_ACCOUNT, "USD"): Decimal(1000)}
    service.files.import_reference(accounts=f"id,name,kind,currency\n{GF_ACCOUNT},B,taxable,USD\n")
    service.files.import_file(HEADER + f"2025-03-01,{GF_ACCOUNT},DEPOSIT,,1,500,0,USD,\n")
    report = service.files.import_file(NEWER)
    assert (report.new, report.unchanged) == (2, 1)  # the dividend and the missing 20
    added = [e.transaction for e in service.store.list_transactions()]
    (adjustment,) = [t for t in added if t.date == date(2025, 6, 30)]
    assert (adjustment.type, adjustment.amount) == ("DEPOSIT", Decimal(20))
    assert cash(service, date(2025, 6, 30)) == {(GF_ACCOUNT, "USD"): Decimal(1523)}
    assert cash(service, date(2025, 6, 29)) == {(GF_ACCOUNT, "USD"): Decimal(1503)}
    # Both files again, in either order: they agree with the store, nothing is added.
    assert [r.new for r in service.files.import_files([("n", NEWER), ("o", OLDER)])] == [0, 0]


def test_two_ghostfolio_files_in_one_import_are_applied_oldest_first(
    service: PortfolioService,
) -> None:
    reports = service.files.import_files([("newer", NEWER), ("older", OLDER)])
    # The newer: the buy, the dividend and 520 (1,523 less the 1,000 and 3 before it); the older:
    # its deposit of 1,601 (the buy is the newer's, written first).
    assert [r.new for r in reports] == [3, 1]
    assert cash(service, date(2025, 1, 31)) == {(GF_ACCOUNT, "USD"): Decimal(1000)}
    assert cash(service, date(2025, 6, 30)) == {(GF_ACCOUNT, "USD"): Decimal(1523)}


def test_alexs_ghostfolio_export_into_the_same_store_adds_nothing(
    household: PortfolioService,
) -> None:
    before = household.show()
    exported = household.files.export(ImportFormat.GHOSTFOLIO).text
    balances = {a["id"]: a["balance"] for a in json.loads(exported)["accounts"]}
    assert balances == {
        account: float(amount)
        for (account, currency), amount in before.ledger.cash.items()
        if currency == "USD"
    }
    report = household.files.import_file(exported)
    assert report.new == 0 and report.unchanged == report.records
    assert household.show().ledger == before.ledger


def test_alexs_ghostfolio_export_into_an_empty_store_gives_the_same_cash_and_holdings(
    household: PortfolioService,
) -> None:
    """Ghostfolio has no deposits: the export leaves them out and writes the cash as each
    account's balance (and the euros the brokerage holds on a comment line), so one deposit
    per account and currency on the export's day brings the cash back."""
    exported = household.files.export(ImportFormat.GHOSTFOLIO)
    fresh = PortfolioService(InMemoryPortfolioStore(), today=lambda: TODAY)
    fresh.files.import_reference(fx=household.files.export(ImportFormat.ALEX, FileKind.FX).text)
    report = fresh.files.import_file(exported.text)
    wallets = household.show().ledger.cash
    assert (
        report.new
        == report.records
        == len(household.store.list_transactions()) - (exported.left_out) + len(wallets)
    )
    assert fresh.show().ledger.cash == wallets
    assert fresh.show().ledger.holdings == household.show().ledger.holdings
    assert fresh.files.import_file(exported.text).new == 0


def test_set_price_checks_and_replaces_the_day(service: PortfolioService) -> None:
    service.files.set_price("VTI", Decimal("245.10"), "usd")
    service.files.set_price("VTI", Decimal("246"), "USD", TODAY)
    assert [p.close for p in service.store.list_prices("VTI")] == [Decimal("246")]
    with pytest.raises(InvalidInputError, match="future"):
        service.files.set_price("VTI", Decimal(1), "USD", date(2027, 1, 1))
    with pytest.raises(InvalidInputError, match="more than 0"):
        service.files.set_price("VTI", Decimal(0), "USD")


def test_exports_import_back_to_the_same_records(household: PortfolioService) -> None:
    original = household.store.list_transactions()
    for kind in FileKind:
        text = household.files.export(ImportFormat.ALEX, kind).text
        assert all(r.new == 0 for r in household.files.import_files([("again", text)]))
    ghostfolio = household.files.export(ImportFormat.GHOSTFOLIO)
    cash_moves = sum(e.transaction.type in ("DEPOSIT", "WITHDRAWAL") for e in original)
    assert ghostfolio.left_out == cash_moves > 0
    assert len(json.loads(ghostfolio.text)["activities"]) == len(original) - cash_moves
    fresh = PortfolioService(InMemoryPortfolioStore(), today=lambda: TODAY)
    with pytest.raises(InvalidInputError, match=r"activities\[\d+\], currency: EUR .* no EUR/USD"):
        fresh.files.import_file(ghostfolio.text)  # Ghostfolio's JSON carries no FX rates
    assert fresh.store.list_transactions() == [] and fresh.store.list_accounts() == []
    fresh.files.import_reference(fx=household.files.export(ImportFormat.ALEX, FileKind.FX).text)
    report = fresh.files.import_file(ghostfolio.text)
    assert report.format is ImportFormat.GHOSTFOLIO
    # The activities, and one deposit per account and currency bringing the cash back.
    assert report.new == len(original) - cash_moves + len(household.show().ledger.cash)
    assert {a.id for a in fresh.store.list_accounts()} == {"brokerage", "ira", "savings"}
    assert household.files.import_file(ghostfolio.text).new == 0  # the same activities, same ids


def test_the_projection_starts_from_the_value_by_asset_class(household: PortfolioService) -> None:
    household.update_settings(monthly_spending=Decimal(3000))
    result = household.project(ProjectionPlan(current_age=50, years=20), seed=5)
    view = household.show()
    by_class = {b.name: b.value for b in view.allocations[Dimension.ASSET_CLASS].buckets}
    assert dict(result.inputs.holdings) == by_class
    assert result.inputs.spending == 36000 and result.inputs.end_age == 70
    first = result.projection.rows()[0]
    start = sum(by_class.values(), Decimal(0))
    assert first.percentiles[50] == start.quantize(Decimal("0.01"))
    again = household.project(ProjectionPlan(current_age=50, years=20), seed=5)
    assert again.projection.rows() == result.projection.rows()
    with pytest.raises(InvalidInputError, match="paths"):
        household.project(paths=10)


def test_the_projection_takes_its_defaults_from_the_settings(household: PortfolioService) -> None:
    """Stored inputs replace the built-in defaults; an argument still wins over both."""
    household.update_settings(monthly_spending=Decimal(3000))
    assert household.project().inputs.spending == 36000  # 12 x monthly, with nothing stored
    household.update_settings(
        birth_year=1976,  # 50 in TODAY's year, 2026
        retirement_age=62,
        end_age=88,
        contribution=Decimal(9000),
        contribution_growth=Decimal("0.02"),
        spending=Decimal(41000),
        fee=Decimal("0.004"),
    )
    inputs = household.project().inputs
    assert (inputs.current_age, inputs.retirement_age, inputs.end_age) == (50, 62, 88)
    assert (inputs.contribution, inputs.contribution_growth) == (9000, Decimal("0.02"))
    assert (inputs.spending, inputs.fee) == (41000, Decimal("0.004"))
    # The age follows the day projected from: the same birth year, a year earlier.
    assert household.project(as_of=date(2025, 6, 30)).inputs.current_age == 49
    given = household.project(ProjectionPlan(current_age=45, spending=Decimal(0), years=10))
    assert (given.inputs.current_age, given.inputs.end_age) == (45, 55)
    assert (given.inputs.spending, given.inputs.retirement_age) == (0, 62)


def test_a_stored_retirement_age_overtaken_by_time_means_retired_now() -> None:
    """Valid when set (62 at 60), two years later the user is 63: spending starts now."""
    clock = [date(2026, 6, 1)]
    service = PortfolioService(InMemoryPortfolioStore(), today=lambda: clock[0])
    service.update_settings(birth_year=1966, retirement_age=62)
    clock[0] = date(2029, 6, 1)
    inputs = service.project().inputs
    assert (inputs.current_age, inputs.retirement_age) == (63, 63)
    with pytest.raises(InvalidInputError, match="retirement_age"):
        service.project(ProjectionPlan(retirement_age=62))  # given, it is checked as given


@pytest.mark.parametrize(
    ("changes", "field", "why"),
    [
        ({"birth_year": 1966, "retirement_age": 55}, "retirement_age", "before the current age 60"),
        ({"retirement_age": 121}, "retirement_age", "from 0 to 120"),
        ({"end_age": 121}, "end_age", "from 1 to 120"),
        ({"birth_year": 1900}, "birth_year", "age 126"),
        ({"birth_year": 2027}, "birth_year", "after this year"),
        ({"birth_year": 1966, "end_age": 60}, "end_age", "not after the current age 60"),
        ({"spending": Decimal(-100)}, "spending", "at least 0"),
    ],
)
def test_bad_projection_settings_are_refused_naming_the_field(
    service: PortfolioService, changes: dict[str, object], field: str, why: str
) -> None:
    before = service.settings()
    with pytest.raises(InvalidInputError, match=rf"projection\.{field}:.*{why}"):
        service.update_settings(**changes)  # type: ignore[arg-type]
    assert service.settings() == before


def test_an_unclassified_holding_is_left_out_of_the_projection(
    service: PortfolioService,
) -> None:
    service.files.import_reference(accounts=ACCOUNTS)
    with pytest.raises(InvalidInputError, match=r"'cash' is worth -200\.00"):
        service.files.import_file(HEADER + "2024-01-02,brokerage,BUY,XYZ,2,100,0,USD,\n")
        service.files.set_price("XYZ", Decimal(150), "USD")
        service.project()  # bought with money never deposited
    service.files.import_file(HEADER + "2024-01-01,brokerage,DEPOSIT,,1,200,0,USD,\n")
    report = service.files.import_file(HEADER + "2024-01-02,brokerage,BUY,XYZ,2,100,0,USD,\n")
    assert report.unclassified == ("XYZ",)
    result = service.project()
    assert result.left_out == {"unknown": Decimal(300)}
    assert "unknown" not in result.inputs.holdings
