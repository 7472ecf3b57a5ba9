"""Valuation: last known prices and rates, stale and missing ones reported, conversions once
from the currency an amount is in, totals that state what they leave out."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alex.domain.errors import InvalidInputError
from alex.portfolio.holdings import ledger
from alex.portfolio.model import Account, AccountKind, FxRate, Price, Transaction, round_money
from alex.portfolio.valuation import QuoteStatus, Rates, Valuation, value_portfolio
from tests.unit.test_portfolio_holdings import histories, tx

D = Decimal
DAY = date(2024, 6, 28)
ISA = Account("isa", "ISA", AccountKind.TAXABLE, "GBP")
GIA = Account("gia", "Brokerage", AccountKind.TAXABLE, "USD")


def value(
    rows: list[Transaction], prices: list[Price], rates: list[FxRate], stale_days: int = 7
) -> Valuation:
    return value_portfolio(
        ledger(rows),
        [ISA, GIA],
        prices,
        rates,
        base_currency="GBP",
        as_of=DAY,
        stale_days=stale_days,
    )


def price(symbol: str, day: str, close: str, currency: str = "GBP") -> Price:
    return Price(symbol, date.fromisoformat(day), D(close), currency)


def rate(day: str, base: str, quote: str, value_: str) -> FxRate:
    return FxRate(date.fromisoformat(day), base, quote, D(value_))


def test_a_holding_is_worth_units_times_the_last_close_on_or_before_the_day() -> None:
    rows = [tx("2024-01-02", "BUY", "VWRL", "10", "90", "5")]
    prices = [
        price("VWRL", "2024-06-20", "99"),
        price("VWRL", "2024-06-27", "100"),
        price("VWRL", "2024-07-01", "150"),  # after the day: not known yet
    ]
    result = value(rows, prices, [])
    (held,) = result.holdings
    assert (held.value, held.unrealised_gain) == (D(1000), D(1000) - D(905))
    assert held.price == prices[1]
    assert result.accounts["isa"].value == D(1000) - D(905)  # cash -905 from the buy
    assert result.stale == () and result.missing == ()


def test_a_price_older_than_the_limit_is_used_and_flagged_with_its_date() -> None:
    rows = [tx("2024-01-02", "BUY", "VWRL", "1", "90")]
    fresh = value(rows, [price("VWRL", "2024-06-21", "100")], [])  # 7 days old
    assert fresh.stale == ()
    old = value(rows, [price("VWRL", "2024-06-20", "100")], [])  # 8 days old
    assert [(q.name, q.date) for q in old.stale] == [("price VWRL", date(2024, 6, 20))]
    assert old.holdings[0].value == D(100)
    tight = value(rows, [price("VWRL", "2024-06-27", "100")], [], stale_days=0)
    assert [q.status for q in tight.stale] == [QuoteStatus.STALE]


def test_a_missing_price_leaves_the_value_unknown_never_zero() -> None:
    rows = [
        tx("2024-01-02", "DEPOSIT", None, "1", "1000"),
        tx("2024-01-02", "BUY", "VWRL", "1", "90"),
        tx("2024-01-03", "BUY", "NEWCO", "1", "50"),
    ]
    result = value(
        rows, [price("VWRL", "2024-06-27", "100"), price("NEWCO", "2024-07-01", "60")], []
    )
    newco = next(h for h in result.holdings if h.holding.symbol == "NEWCO")
    assert (newco.value, newco.unrealised_gain, newco.value_in_base) == (None, None, None)
    assert [(q.name, q.date) for q in result.missing] == [("price NEWCO", None)]
    isa = result.accounts["isa"]
    assert isa.value is None
    assert isa.known == D(860) + D(100)  # the cash and VWRL, not NEWCO
    assert isa.unknown == ("NEWCO in isa",)
    assert result.total.value is None and result.total.unknown == ("NEWCO in isa",)


def test_amounts_convert_once_from_their_currency_to_the_account_and_the_base() -> None:
    rows = [
        tx("2024-01-02", "DEPOSIT", None, "1", "1000", account="gia", currency="USD"),
        tx("2024-01-02", "BUY", "VTI", "2", "250", account="gia", currency="USD"),
        tx("2024-01-02", "DEPOSIT", None, "1", "100", account="gia", currency="EUR"),
    ]
    rates = [rate("2024-06-27", "GBP", "USD", "1.25"), rate("2024-06-27", "EUR", "USD", "1.1")]
    result = value(rows, [price("VTI", "2024-06-27", "260", "USD")], rates)
    (vti,) = result.holdings
    assert (vti.value, vti.value_in_account, vti.value_in_base) == (D(520), D(520), D("416"))
    assert result.accounts["gia"].value == D(500) + D(520) + D(110)
    # EUR -> GBP has no rate of its own: through USD, 100 x 1.1 / 1.25.
    eur = next(c for c in result.cash if c.currency == "EUR")
    assert eur.value_in_base == D(88)
    assert result.total.value == D(400) + D(416) + D(88)


def test_a_missing_rate_is_reported_and_the_value_left_unknown() -> None:
    rows = [tx("2024-01-02", "DEPOSIT", None, "1", "100", account="gia", currency="CHF")]
    result = value(rows, [], [rate("2024-06-27", "GBP", "USD", "1.25")])
    (cash,) = result.cash
    assert (cash.value_in_account, cash.value_in_base) == (None, None)
    assert {q.name for q in result.missing} == {"fx CHF/USD", "fx CHF/GBP"}
    assert result.total.unknown == ("CHF cash in gia",)


def test_a_stale_rate_is_flagged_and_the_newer_of_direct_and_inverse_wins() -> None:
    fx = Rates(
        [rate("2024-06-01", "GBP", "USD", "1.20"), rate("2024-06-27", "USD", "GBP", "0.8")],
        DAY,
        7,
    )
    converted, quotes = fx.convert(D(10), "GBP", "USD")
    assert converted == D("12.50")
    assert [(q.name, q.status) for q in quotes] == [("fx USD/GBP", QuoteStatus.FRESH)]
    old = Rates([rate("2024-06-01", "GBP", "USD", "1.20")], DAY, 7)
    converted, quotes = old.convert(D(10), "GBP", "USD")
    assert converted == D("12.00")
    assert [(q.name, q.date, q.status) for q in quotes] == [
        ("fx GBP/USD", date(2024, 6, 1), QuoteStatus.STALE)
    ]


def test_euro_conversion_by_triangulation() -> None:
    """Council Regulation (EC) No 2866/98 fixed 1 EUR = 1.95583 DEM = 6.55957 FRF, and
    Regulation (EC) No 1103/97, article 4, converts between two national currencies through
    the euro ("triangulation"), never by a cross rate: 100 FRF = 100 / 6.55957 EUR
    = 15.2449 EUR = 15.2449 x 1.95583 DEM = 29.82 DEM; 100 DEM = 51.13 EUR."""
    fixed = date(1999, 1, 1)
    fx = Rates(
        [FxRate(fixed, "EUR", "DEM", D("1.95583")), FxRate(fixed, "EUR", "FRF", D("6.55957"))],
        fixed,
        7,
    )
    dem, quotes = fx.convert(D(100), "FRF", "DEM")
    assert dem is not None and round_money(dem, "DEM") == D("29.82")
    assert [q.name for q in quotes] == ["fx EUR/FRF", "fx EUR/DEM"]
    eur, _ = fx.convert(D(100), "DEM", "EUR")
    assert eur is not None and round_money(eur, "EUR") == D("51.13")


def test_a_price_in_another_currency_is_converted_to_the_holdings() -> None:
    """London quotes many shares in pence (GBX): 100 pence to the pound."""
    rows = [tx("2024-01-02", "BUY", "BARC", "100", "1.50")]
    result = value(
        rows, [price("BARC", "2024-06-27", "210", "GBX")], [rate("2024-01-01", "GBP", "GBX", "100")]
    )
    (barc,) = result.holdings
    assert (barc.value, barc.unrealised_gain) == (D(210), D(60))


def test_undefined_accounts_and_bad_limits_are_refused() -> None:
    rows = [tx("2024-01-02", "DEPOSIT", None, "1", "1", account="nowhere")]
    with pytest.raises(InvalidInputError, match="account 'nowhere' is not defined"):
        value(rows, [], [])
    with pytest.raises(InvalidInputError, match="stale_days"):
        value([], [], [], stale_days=-1)
    with pytest.raises(InvalidInputError, match="rate must be > 0"):
        value([], [], [rate("2024-06-27", "GBP", "USD", "0")])


@settings(max_examples=100, deadline=None)
@given(histories(), st.randoms(use_true_random=False))
def test_the_value_does_not_depend_on_the_order_transactions_are_given_in(
    rows: list[Transaction], shuffler: random.Random
) -> None:
    prices = [price(s, "2024-06-27", "12.34") for s in ("AAA", "BBB")]  # CCC has none
    shuffled = list(rows)
    shuffler.shuffle(shuffled)
    assert value(shuffled, prices, []) == value(rows, prices, [])
