"""An import's preview (``PortfolioFiles.preview``: the import's checks, its counts, nothing
stored) and one transaction saved from a form's fields (``save_transaction``: added, or an
edit stored as one replace), on the in-memory store."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from alex.domain.errors import InvalidInputError, NotFoundError
from alex.portfolio.formats.alex_csv import TRANSACTION_HEADER
from alex.portfolio.formats.ids import transaction_id
from alex.portfolio.formats.problems import FormatError
from alex.portfolio.service import PortfolioService
from tests.fakes.portfolio import InMemoryPortfolioStore

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "portfolio"
TODAY = date(2026, 12, 3)
HEADER = ",".join(TRANSACTION_HEADER) + "\n"


def sample_files() -> list[tuple[str, str]]:
    return [(path.name, path.read_text("utf-8")) for path in sorted(SAMPLES.glob("*.csv"))]


@pytest.fixture
def household() -> PortfolioService:
    service = PortfolioService(InMemoryPortfolioStore(), today=lambda: TODAY)
    service.files.import_files(sample_files())
    return service


def snapshot(service: PortfolioService) -> tuple[object, ...]:
    store = service.store
    return (
        store.list_accounts(),
        store.list_instruments(),
        store.list_transactions(),
        store.list_prices("VTI"),
        store.targets(),
    )


def test_a_preview_counts_as_the_import_does_and_stores_nothing() -> None:
    service = PortfolioService(InMemoryPortfolioStore(), today=lambda: TODAY)
    files = sample_files()
    before = snapshot(service)
    previews = service.files.preview(files)
    assert snapshot(service) == before
    reports = service.files.import_files(files)
    assert [p.report for p in previews] == reports
    by_name = {p.report.name: p for p in previews}
    rows = SAMPLES.joinpath("transactions.csv").read_text().count("\n") - 1
    assert len(by_name["transactions.csv"].added) == rows
    # Again: every row is a duplicate, nothing would be added, the import agrees.
    again = service.files.preview(files)
    assert [p.report for p in again] == service.files.import_files(files)
    assert all(p.added == () for p in again)
    assert again[-1].report.duplicates == rows


def test_a_preview_names_the_bad_row_and_column_as_the_import_does(
    household: PortfolioService,
) -> None:
    text = (
        HEADER
        + "2026-11-02,brokerage,DEPOSIT,,1,100,0,USD,fine\n"
        + "2026-11-03,brokerage,BUY,VTI,many,10,0,USD,bad\n"
    )
    with pytest.raises(FormatError) as previewed:
        household.files.preview([("mine.csv", text)])
    assert [(p.where, p.field) for p in previewed.value.problems] == [("row 3", "quantity")]
    with pytest.raises(FormatError) as imported:
        household.files.import_files([("mine.csv", text)])
    assert imported.value.problems == previewed.value.problems
    assert str(imported.value) == str(previewed.value)
    assert str(previewed.value).startswith("mine.csv: transactions CSV: nothing imported.")


def test_a_transaction_in_a_currency_without_rates_is_named_by_row_and_column(
    household: PortfolioService,
) -> None:
    text = HEADER + "2026-11-02,brokerage,DEPOSIT,,1,100,0,JPY,\n"
    with pytest.raises(FormatError) as refused:
        household.files.preview([("yen.csv", text)])
    (problem,) = refused.value.problems
    assert (problem.where, problem.field) == ("row 2", "currency")
    assert "no JPY/USD rate" in problem.message


def test_a_new_transaction_gets_the_next_free_id_and_is_checked_as_a_row(
    household: PortfolioService,
) -> None:
    values = {
        "date": "2026-11-02",
        "account": "brokerage",
        "type": "DEPOSIT",
        "quantity": "1",
        "unit_price": "250",
        "currency": "USD",
        "note": "=HYPERLINK(x)",
    }
    first = household.files.save_transaction(values)
    second = household.files.save_transaction(values)  # an equal deposit the same day
    assert first.id == transaction_id(first.transaction, 0)
    assert second.id == transaction_id(first.transaction, 1)
    assert first.transaction.note == "=HYPERLINK(x)"  # the guard is the file's, not the note's
    assert first.transaction.unit_price == Decimal(250)
    with pytest.raises(FormatError) as refused:
        household.files.save_transaction({**values, "unit_price": "abc"})
    assert [(p.field) for p in refused.value.problems] == ["unit_price"]
    with pytest.raises(FormatError, match="unknown account 'nope'"):
        household.files.save_transaction({**values, "account": "nope"})


def test_an_edit_replaces_the_transaction_and_is_checked_without_it(
    household: PortfolioService,
) -> None:
    sales = [e for e in household.store.list_transactions() if e.transaction.type.value == "SELL"]
    sale = sales[0]
    t = sale.transaction
    values = {
        "date": t.date.isoformat(),
        "account": t.account,
        "type": t.type.value,
        "symbol": t.symbol or "",
        "quantity": format(t.quantity, "f"),
        "unit_price": format(t.unit_price, "f"),
        "fee": format(t.fee, "f"),
        "currency": t.currency,
        "note": "corrected",
    }
    count = len(household.store.list_transactions())
    # A note changed: the same id (the note is not hashed), replaced in place.
    same = household.files.save_transaction(values, replaces=sale.id)
    assert same.id == sale.id and same.transaction.note == "corrected"
    # A sale of far more than is held is refused whole: the old one stays.
    with pytest.raises(InvalidInputError, match="nothing imported"):
        household.files.save_transaction({**values, "quantity": "1000000"}, replaces=sale.id)
    half = household.files.save_transaction(
        {**values, "quantity": format(t.quantity / 2, "f")}, replaces=sale.id
    )
    ids = {e.id for e in household.store.list_transactions()}
    assert half.id in ids and sale.id not in ids and len(ids) == count
    with pytest.raises(NotFoundError):
        household.files.save_transaction(values, replaces=sale.id)
