"""The local default price source: the user's stored prices and rates, within a span."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from alex.adapters.stored_prices import StoredPrices
from alex.domain.errors import InvalidInputError
from alex.portfolio.model import FxRate, Price
from tests.fakes import InMemoryPortfolioStore


@pytest.fixture
def store() -> InMemoryPortfolioStore:
    store = InMemoryPortfolioStore()
    store.put_prices(
        [
            Price("KEUR", date(2026, 9, day), Decimal(close), "EUR")
            for day, close in ((28, "60.50"), (29, "60.75"), (30, "61.01"))
        ]
        + [Price("MTUS", date(2026, 9, 29), Decimal("313.53"), "USD")]
    )
    store.put_fx_rates(
        [
            FxRate(date(2026, 9, 1), "EUR", "USD", Decimal("1.1651")),
            FxRate(date(2026, 10, 1), "EUR", "USD", Decimal("1.1708")),
        ]
    )
    return store


def test_closes_of_the_symbol_within_the_span_oldest_first(store: InMemoryPortfolioStore) -> None:
    prices = StoredPrices(store).daily_closes("KEUR", date(2026, 9, 29), date(2026, 9, 30))
    assert [(p.date.day, p.close) for p in prices] == [
        (29, Decimal("60.75")),
        (30, Decimal("61.01")),
    ]
    assert StoredPrices(store).daily_closes("NONE", date(2026, 1, 1), date(2026, 12, 31)) == []


def test_rates_of_the_pair_within_the_span(store: InMemoryPortfolioStore) -> None:
    source = StoredPrices(store)
    assert [r.rate for r in source.fx_rates("EUR", "USD", date(2026, 9, 1), date(2026, 9, 30))] == [
        Decimal("1.1651")
    ]
    assert source.fx_rates("USD", "EUR", date(2026, 9, 1), date(2026, 10, 1)) == []  # no inverse


def test_a_reversed_span_or_bad_pair_is_refused(store: InMemoryPortfolioStore) -> None:
    source = StoredPrices(store)
    with pytest.raises(InvalidInputError, match="after end"):
        source.daily_closes("KEUR", date(2026, 9, 30), date(2026, 9, 1))
    with pytest.raises(InvalidInputError, match="both EUR"):
        source.fx_rates("EUR", "EUR", date(2026, 9, 1), date(2026, 9, 30))
