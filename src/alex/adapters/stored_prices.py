"""The PriceSource port on the user's own prices: what was imported or set in the store.

The local default (``ALEX_PRICES_PROVIDER=none``): no network, no key. A symbol with no
stored price is not an error here, only an empty span: the store cannot tell a symbol it
does not know from one whose prices were never imported.
"""

from __future__ import annotations

from datetime import date

from alex.domain.errors import InvalidInputError
from alex.portfolio.model import FxRate, Price, is_currency
from alex.ports import PortfolioStore

__all__ = ["StoredPrices", "check_pair", "check_span"]


def check_span(start: date, end: date) -> None:
    """The span rule every price source shares: both ends inclusive, in order."""
    if start > end:
        raise InvalidInputError(f"start {start.isoformat()} is after end {end.isoformat()}")


def check_pair(base: str, quote: str) -> None:
    for field, code in (("base", base), ("quote", quote)):
        if not is_currency(code):
            raise InvalidInputError(f"{field} {code!r} is not a currency code such as USD")
    if base == quote:
        raise InvalidInputError(f"base and quote are both {base}")


class StoredPrices:
    """Prices and rates as stored, filtered to the span asked for."""

    name = "stored"

    def __init__(self, store: PortfolioStore) -> None:
        self._store = store

    def daily_closes(self, symbol: str, start: date, end: date) -> list[Price]:
        check_span(start, end)
        return [p for p in self._store.list_prices(symbol) if start <= p.date <= end]

    def fx_rates(self, base: str, quote: str, start: date, end: date) -> list[FxRate]:
        check_span(start, end)
        check_pair(base, quote)
        return [r for r in self._store.list_fx_rates(base, quote) if start <= r.date <= end]
