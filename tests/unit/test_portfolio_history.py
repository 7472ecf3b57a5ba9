"""The value over time (``alex.portfolio.history``): the worked example of docs/portfolio.md
("Value over time") figure by figure, month ends, refusals, and the property that every
point equals ``show`` on that day (so the last one is today's total, and no point reads a
price or rate dated after it)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alex.domain.errors import InvalidInputError
from alex.portfolio.history import MAX_POINTS, month_ends, value_history
from alex.portfolio.model import (
    Account,
    AccountKind,
    FxRate,
    Price,
    RecordedTransaction,
    Transaction,
    TransactionType,
)
from alex.portfolio.service import PortfolioService
from tests.fakes.portfolio import InMemoryPortfolioStore

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "portfolio"
T = TransactionType
D = Decimal
BROKERAGE = Account("brokerage", "Brokerage", AccountKind.TAXABLE, "USD")


def tx(
    day: str, kind: TransactionType, symbol: str | None, quantity: str, price: str, cur: str
) -> Transaction:
    return Transaction(
        date.fromisoformat(day), "brokerage", kind, symbol, D(quantity), D(price), D(0), cur
    )


# docs/portfolio.md, "Value over time": the worked example, record for record.
EXAMPLE_TRANSACTIONS = [
    tx("2024-01-10", T.DEPOSIT, None, "1", "1000", "USD"),
    tx("2024-01-15", T.BUY, "AAA", "10", "50", "USD"),
    tx("2024-02-20", T.BUY, "BBB", "4", "25", "USD"),
    tx("2024-03-05", T.DEPOSIT, None, "1", "100", "EUR"),
    tx("2024-04-03", T.DIVIDEND, "AAA", "10", "0.50", "USD"),
]
EXAMPLE_PRICES = [
    Price("AAA", date(2024, 1, 31), D(52), "USD"),
    Price("AAA", date(2024, 3, 29), D(55), "USD"),
    Price("BBB", date(2024, 3, 29), D(26), "USD"),
]
EXAMPLE_RATES = [
    FxRate(date(2024, 3, 1), "EUR", "USD", D("1.08")),
    FxRate(date(2024, 4, 1), "EUR", "USD", D("1.10")),
]


def example(end: date = date(2024, 4, 5)):  # type: ignore[no-untyped-def]
    return value_history(
        EXAMPLE_TRANSACTIONS,
        [BROKERAGE],
        EXAMPLE_PRICES,
        EXAMPLE_RATES,
        base_currency="USD",
        days=month_ends(date(2024, 1, 10), end),
    )


def test_the_worked_example_point_by_point() -> None:
    history = example()
    assert [p.date.isoformat() for p in history.points] == [
        "2024-01-31",
        "2024-02-29",
        "2024-03-31",
        "2024-04-05",
    ]
    jan, feb, mar, apr = history.points
    # 500 cash + 10 AAA x 52
    assert jan.value == D("1020") and jan.complete and not jan.missing and not jan.stale
    # BBB has no price yet on 29 February: the point has no value, its known part is
    # 400 cash + 10 x 52 (AAA's January price, stale), and BBB is named, not counted as 0.
    assert feb.value is None and not feb.complete
    assert feb.total.known == D("920")
    assert feb.total.unknown == ("BBB in brokerage",)
    assert [(q.name, q.date) for q in feb.missing] == [("price BBB", None)]
    assert [(q.name, q.date) for q in feb.stale] == [("price AAA", date(2024, 1, 31))]
    # 400 + 10 x 55 + 4 x 26 + 100 EUR x 1.08 (the rate of 1 March: stale on the 31st)
    assert mar.value == D("1162.00")
    assert [(q.name, q.date) for q in mar.stale] == [("fx EUR/USD", date(2024, 3, 1))]
    # + the 5 USD dividend, and the euros at April's 1.10: all prices and rates fresh
    assert apr.value == D("1169.00") and not apr.stale
    assert history.incomplete == (feb,)
    # The docs' table states the same figures.
    docs = (SAMPLES.parents[1] / "docs" / "portfolio.md").read_text("utf-8")
    section = docs.split("## Value over time", 1)[1].split("\n## ", 1)[0]
    for point in (jan, mar, apr):
        assert f"| {point.date.isoformat()} |" in section
        assert f"**{point.value:,.2f}**" in section
    assert f"**unknown**; known part {feb.total.known:,.2f}" in section


def test_no_point_reads_a_price_dated_after_it() -> None:
    # A price of BBB backdated to a day after February changes nothing before it.
    later = [*EXAMPLE_PRICES, Price("BBB", date(2024, 3, 1), D(99), "USD")]
    history = value_history(
        EXAMPLE_TRANSACTIONS,
        [BROKERAGE],
        later,
        EXAMPLE_RATES,
        base_currency="USD",
        days=month_ends(date(2024, 1, 10), date(2024, 4, 5)),
    )
    assert history.points[:2] == example().points[:2]


def test_month_ends() -> None:
    assert month_ends(date(2024, 1, 15), date(2024, 4, 5)) == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 5),
    ]
    assert month_ends(date(2023, 12, 31), date(2024, 1, 31)) == [
        date(2023, 12, 31),
        date(2024, 1, 31),
    ]
    assert month_ends(date(2024, 5, 2), date(2024, 5, 2)) == [date(2024, 5, 2)]
    with pytest.raises(InvalidInputError, match="start: 2024-05-03 is after the end"):
        month_ends(date(2024, 5, 3), date(2024, 5, 2))
    with pytest.raises(InvalidInputError, match="at most 1200 months"):
        month_ends(date(1900, 1, 1), date(2024, 5, 2))
    assert len(month_ends(date(1925, 1, 1), date(2024, 12, 31))) == MAX_POINTS - 1


def test_days_must_ascend() -> None:
    with pytest.raises(InvalidInputError, match="ascending"):
        value_history(
            EXAMPLE_TRANSACTIONS,
            [BROKERAGE],
            [],
            [],
            base_currency="USD",
            days=[date(2024, 2, 1), date(2024, 1, 1)],
        )


def test_same_day_observations_follow_the_valuations_rule() -> None:
    # Two AAA prices on one day (in two currencies): the history keeps both for the
    # valuation to choose, so it agrees with value_portfolio on that day.
    prices = [
        Price("AAA", date(2024, 1, 31), D(52), "USD"),
        Price("AAA", date(2024, 1, 31), D(48), "EUR"),
    ]
    history = value_history(
        EXAMPLE_TRANSACTIONS[:2],
        [BROKERAGE],
        prices,
        EXAMPLE_RATES,
        base_currency="USD",
        days=[date(2024, 1, 31), date(2024, 3, 2)],
    )
    # The valuation takes the larger (date, currency, close): USD 52; in March EUR is converted.
    assert [p.value for p in history.points] == [D(1020), D(1020)]


def _service(today: date) -> PortfolioService:
    return PortfolioService(InMemoryPortfolioStore(), today=lambda: today)


def test_the_sample_household_ends_at_shows_total_and_flags_the_unpriced_months() -> None:
    today = date(2026, 12, 3)
    service = _service(today)
    service.files.import_files(
        [(path.name, path.read_text("utf-8")) for path in sorted(SAMPLES.glob("*.csv"))]
    )
    history = service.history()
    shown = service.show().valuation.total
    last = history.points[-1]
    assert last.date == today and last.total == shown and last.value is not None
    # The sample's prices start on 2026-09-30: every month end before has unpriced holdings.
    first_priced = date(2026, 9, 30)
    assert all(not p.complete for p in history.points if p.date < first_priced)
    assert all(p.complete for p in history.points if p.date >= first_priced)
    assert history.points[0].date == date(2023, 12, 31)
    assert service.history(start=date(2026, 10, 1)).points == tuple(
        p for p in history.points if p.date >= date(2026, 10, 1)
    )


# --- the property: every point is what `show` says on that day ------------------------------

START = date(2024, 1, 1)
_days = st.integers(min_value=0, max_value=150)
_symbols = st.sampled_from(["AAA", "BBB", "EEE"])


@st.composite
def books(draw: st.DrawFn) -> tuple[list[Transaction], list[Price], list[FxRate], int]:
    """Deposits, buys and sells (never more than held) of three instruments, one in EUR, with
    prices and EUR/USD rates on random days, some before and some after the trades."""
    transactions: list[Transaction] = []
    held: dict[str, Decimal] = {}
    events = draw(
        st.lists(
            st.tuples(_days, st.sampled_from(["BUY", "SELL", "DEPOSIT"]), _symbols),
            max_size=12,
        )
    )
    for offset, kind, symbol in sorted(events):
        day = START + timedelta(days=offset)
        currency = "EUR" if symbol == "EEE" else "USD"
        quantity = D(draw(st.integers(min_value=1, max_value=20)))
        if kind == "DEPOSIT":
            transactions.append(
                Transaction(day, "brokerage", T.DEPOSIT, None, D(1), D(500), D(0), currency)
            )
        elif kind == "BUY" or held.get(symbol, D(0)) == 0:
            held[symbol] = held.get(symbol, D(0)) + quantity
            transactions.append(
                Transaction(day, "brokerage", T.BUY, symbol, quantity, D(10), D(0), currency)
            )
        else:
            sold = min(quantity, held[symbol])
            held[symbol] -= sold
            transactions.append(
                Transaction(day, "brokerage", T.SELL, symbol, sold, D(11), D(0), currency)
            )
    prices = [
        Price(symbol, START + timedelta(days=offset), D(close), "EUR" if symbol == "EEE" else "USD")
        for offset, symbol, close in draw(
            st.lists(
                st.tuples(_days, _symbols, st.integers(1, 500)),
                max_size=10,
                unique_by=lambda item: (item[0], item[1]),
            )
        )
    ]
    rates = [
        FxRate(START + timedelta(days=offset), "EUR", "USD", D(rate) / 100)
        for offset, rate in draw(
            st.lists(
                st.tuples(_days, st.integers(80, 150)), max_size=4, unique_by=lambda item: item[0]
            )
        )
    ]
    return transactions, prices, rates, draw(st.integers(min_value=0, max_value=160))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books())
def test_every_point_equals_show_on_its_day(
    book: tuple[list[Transaction], list[Price], list[FxRate], int],
) -> None:
    transactions, prices, rates, end_offset = book
    end = START + timedelta(days=end_offset)
    service = _service(end)
    service.store.put_account(BROKERAGE)
    service.store.add_transactions(
        [RecordedTransaction(f"t{n}", t) for n, t in enumerate(transactions)]
    )
    service.store.put_prices(prices)
    service.store.put_fx_rates(rates)
    history = service.history(start=START)
    assert history.points[-1].date == end
    for point in history.points:
        shown = service.show(point.date).valuation
        assert point.total == shown.total, point.date
        assert point.missing == shown.missing and point.stale == shown.stale
