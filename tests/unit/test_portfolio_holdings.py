"""Holdings from transactions: average cost, realised gains, cash, income, fees, bad input, and
the issue's properties (order does not matter; selling everything realises proceeds - cost)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alex.domain.errors import InvalidInputError
from alex.portfolio.holdings import Ledger, ledger, replay_order
from alex.portfolio.model import Transaction, TransactionType

D = Decimal


def tx(
    day: str,
    kind: str,
    symbol: str | None,
    quantity: str,
    price: str,
    fee: str = "0",
    *,
    account: str = "isa",
    currency: str = "GBP",
) -> Transaction:
    return Transaction(
        date=date.fromisoformat(day),
        account=account,
        type=TransactionType(kind),
        symbol=symbol,
        quantity=D(quantity),
        unit_price=D(price),
        fee=D(fee),
        currency=currency,
    )


def test_hmrc_section_104_pool_example() -> None:
    """HMRC Capital Gains Manual CG51622 ("Section 104 holding: disposals from the holding",
    https://www.gov.uk/hmrc-internal-manuals/capital-gains-manual/cg51622): 2,000 B Ltd shares
    bought at GBP 4.50 (May 2012), a two-for-one rights issue taken up at GBP 5 (January
    2014), 600 sold at GBP 6 with GBP 30 costs (March 2016). The pool holds 6,000 shares for
    GBP 29,000; the 600 sold take out GBP 2,900 of cost; the gain before indexation
    allowance (a corporation-tax relief Alex does not model) is 3,570 - 2,900 = GBP 670."""
    book = ledger(
        [
            tx("2016-03-15", "SELL", "BLTD", "600", "6", "30"),
            tx("2012-05-15", "BUY", "BLTD", "2000", "4.50"),
            tx("2014-01-15", "BUY", "BLTD", "4000", "5"),  # the rights issue, paid for
        ]
    )
    (sale,) = book.disposals
    assert (sale.proceeds, sale.cost, sale.gain) == (D(3570), D(2900), D(670))
    holding = book.holding("isa", "BLTD")
    assert holding is not None
    assert (holding.quantity, holding.cost_basis) == (D(5400), D(26100))
    assert holding.average_cost == D("29000") / D(6000)


def test_buy_fees_join_the_cost_and_sale_fees_reduce_the_proceeds() -> None:
    book = ledger(
        [
            tx("2024-01-02", "BUY", "VWRL", "10", "100", "5"),
            tx("2024-02-01", "BUY", "VWRL", "10", "110", "5"),
            tx("2024-03-01", "SELL", "VWRL", "5", "120", "2"),
        ]
    )
    holding = book.holding("isa", "VWRL")
    assert holding is not None
    # Pool: 20 units for 2,110; 5 sold take out 527.5; 15 left for 1,582.5.
    assert (holding.quantity, holding.cost_basis) == (D(15), D("1582.5"))
    assert book.disposals[0].gain == D(598) - D("527.5")


def test_cash_income_and_fees_follow_each_type() -> None:
    book = ledger(
        [
            tx("2023-01-02", "DEPOSIT", None, "1", "1000", "1"),
            tx("2023-01-03", "BUY", "VWRL", "5", "100", "2"),
            tx("2023-06-30", "DIVIDEND", "VWRL", "5", "1.2", "0.5"),
            tx("2023-12-31", "INTEREST", None, "1", "3.25"),
            tx("2024-01-05", "SELL", "VWRL", "2", "110", "2"),
            tx("2024-03-01", "FEE", None, "1", "10", "0.2"),
            tx("2024-04-01", "WITHDRAWAL", None, "1", "100", "1"),
            tx("2024-06-30", "DIVIDEND", "VWRL", "3", "1.5"),
            tx("2024-01-01", "DEPOSIT", None, "1", "50", account="gia", currency="USD"),
        ]
    )
    # 999 - 502 + 5.5 + 3.25 + 218 - 10.2 - 101 + 4.5
    assert book.cash == {("gia", "USD"): D(50), ("isa", "GBP"): D("617.05")}
    assert book.income_by_year() == {(2023, "GBP"): D("9.25"), (2024, "GBP"): D("4.5")}
    # 1 + 2 + 0.5 + 2 + (10 + 0.2) + 1
    assert book.fees == {("gia", "USD"): D(0), ("isa", "GBP"): D("16.7")}


def test_same_day_buy_and_sell_are_replayed_buy_first() -> None:
    book = ledger(
        [
            tx("2024-05-01", "SELL", "ABC", "10", "12"),
            tx("2024-05-01", "BUY", "ABC", "10", "10"),
        ]
    )
    assert book.holdings == ()
    assert book.realised_gain() == {"GBP": D(20)}


def test_an_emptied_holding_starts_a_new_pool() -> None:
    book = ledger(
        [
            tx("2024-01-01", "BUY", "ABC", "3", "10"),
            tx("2024-02-01", "SELL", "ABC", "3", "11"),
            tx("2024-03-01", "BUY", "ABC", "2", "20", currency="USD"),
        ]
    )
    assert [(h.quantity, h.cost_basis, h.currency) for h in book.holdings] == [(D(2), D(40), "USD")]


def test_accounts_keep_separate_pools() -> None:
    book = ledger(
        [
            tx("2024-01-01", "BUY", "ABC", "1", "10", account="isa"),
            tx("2024-01-01", "BUY", "ABC", "1", "30", account="sipp"),
        ]
    )
    assert [(h.account, h.average_cost) for h in book.holdings] == [
        ("isa", D(10)),
        ("sipp", D(30)),
    ]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [tx("2024-01-01", "BUY", "ABC", "1", "10"), tx("2024-01-02", "SELL", "ABC", "2", "10")],
            "2024-01-02 isa SELL ABC: sells 2 units but 1 are held",
        ),
        ([tx("2024-01-02", "SELL", "ABC", "1", "10")], "2024-01-02 isa SELL ABC: sells 1"),
        ([tx("2024-01-03", "BUY", "ABC", "-1", "10")], "2024-01-03 isa BUY ABC: quantity is neg"),
        ([tx("2024-01-04", "BUY", "ABC", "1", "-10")], "2024-01-04 isa BUY ABC: unit_price is"),
        ([tx("2024-01-05", "BUY", "ABC", "1", "10", "-1")], "2024-01-05 isa BUY ABC: fee is"),
        ([tx("2024-01-06", "BUY", None, "1", "10")], "2024-01-06 isa BUY -: a trade needs a sym"),
        ([tx("2024-01-07", "SELL", "ABC", "0", "10")], "2024-01-07 isa SELL ABC: a trade needs a"),
        ([tx("2024-01-08", "DEPOSIT", None, "1", "10", currency="usd")], "currency 'usd'"),
        (
            [
                tx("2024-01-01", "BUY", "ABC", "1", "10"),
                tx("2024-01-09", "BUY", "ABC", "1", "10", currency="USD"),
            ],
            "2024-01-09 isa BUY ABC: traded in USD but the holding is in GBP",
        ),
    ],
)
def test_bad_transactions_are_named(rows: list[Transaction], expected: str) -> None:
    with pytest.raises(InvalidInputError, match=expected.replace("-", r"\-")):
        ledger(rows)


# --- properties ------------------------------------------------------------------------------

SYMBOLS = ("AAA", "BBB", "CCC")
THOUSANDTH = D("0.001")
START = date(2021, 1, 4)


@st.composite
def histories(draw: st.DrawFn) -> list[Transaction]:
    """A valid history: buys and sells (never more than held) in two accounts, plus cash."""
    held: dict[tuple[str, str], Decimal] = {}
    rows: list[Transaction] = []
    day = START
    for _ in range(draw(st.integers(1, 25))):
        day += timedelta(days=draw(st.integers(0, 40)))
        account = draw(st.sampled_from(("isa", "gia")))
        symbol = draw(st.sampled_from(SYMBOLS))
        price = D(draw(st.integers(1, 100_000))).scaleb(-2)
        fee = D(draw(st.integers(0, 999))).scaleb(-2)
        owned = held.get((account, symbol), D(0))
        kind = draw(st.sampled_from(("BUY", "SELL", "DIVIDEND", "DEPOSIT")))
        if kind == "SELL" and owned > 0:
            quarters = draw(st.integers(1, 4))
            quantity = (owned * quarters / 4).quantize(THOUSANDTH, ROUND_DOWN) or owned
        elif kind in ("SELL", "BUY"):
            kind, quantity = "BUY", D(draw(st.integers(1, 100_000))).scaleb(-3)
        else:
            quantity = D(1)
        held[(account, symbol)] = owned + {"BUY": quantity, "SELL": -quantity}.get(kind, D(0))
        sym = None if kind == "DEPOSIT" else symbol
        rows.append(
            tx(day.isoformat(), kind, sym, str(quantity), str(price), str(fee), account=account)
        )
    return rows


@settings(max_examples=150, deadline=None)
@given(histories(), st.randoms(use_true_random=False))
def test_the_ledger_does_not_depend_on_the_order_given(
    rows: list[Transaction], shuffler: random.Random
) -> None:
    shuffled = list(rows)
    shuffler.shuffle(shuffled)
    assert ledger(shuffled) == ledger(rows)
    assert replay_order(shuffled) == replay_order(rows)


def _sell_everything(book: Ledger, day: date) -> list[Transaction]:
    return [
        tx(day.isoformat(), "SELL", h.symbol, str(h.quantity), "7.77", "1.5", account=h.account)
        for h in book.holdings
    ]


@settings(max_examples=150, deadline=None)
@given(histories())
def test_selling_everything_realises_proceeds_minus_cost(rows: list[Transaction]) -> None:
    rows = rows + _sell_everything(ledger(rows), date(2030, 1, 1))
    book = ledger(rows)
    assert book.holdings == ()
    trades = [t for t in rows if t.type in (TransactionType.BUY, TransactionType.SELL)]
    proceeds = sum((t.amount - t.fee for t in trades if t.type is TransactionType.SELL), D(0))
    cost = sum((t.amount + t.fee for t in trades if t.type is TransactionType.BUY), D(0))
    assert sum(book.realised_gain().values(), D(0)) == proceeds - cost
