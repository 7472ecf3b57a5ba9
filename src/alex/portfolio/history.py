"""The portfolio's value over time, in the base currency, at month ends and on the last day.
Pure.

Each point is the portfolio as it stood on that day: the transactions dated on or before it,
valued at the last price and rate known on or before it (docs/portfolio.md, "Value over
time"). Nothing is looked up ahead: a price first recorded later leaves the holding without a
value on the earlier days. Such a point says so: its :class:`~alex.portfolio.valuation.Total`
has ``value`` None, ``known`` the part that could be valued and ``unknown`` the positions left
out, and ``missing`` names the prices and rates not known yet; a holding is never counted as
zero. Old prices and rates used are listed in ``stale``, as ``show`` lists them.

One replay. The transactions, prices and rates are each sorted once and walked forward
together, day by day: the ledger grows by the transactions of each interval
(:class:`~alex.portfolio.holdings.Replay`), and only the observations of each symbol's and
pair's latest date are kept, so each point is valued by
:func:`~alex.portfolio.valuation.value_portfolio` with what ``show`` would give it, not with
the whole price history.

    history = value_history(transactions, accounts, prices, rates,
                            base_currency="USD", days=month_ends(start, end))
    [(p.date, p.value, p.missing) for p in history.points]
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Generic, Protocol, TypeVar

from alex.domain.errors import InvalidInputError
from alex.portfolio.holdings import Replay, replay_order
from alex.portfolio.model import Account, FxRate, Price, Transaction
from alex.portfolio.valuation import (
    DEFAULT_STALE_DAYS,
    Quote,
    QuoteStatus,
    Total,
    value_portfolio,
)

# A century of month ends: more than any household's records, few enough to draw.
MAX_POINTS = 100 * 12 + 1


@dataclass(frozen=True)
class HistoryPoint:
    """The portfolio on ``date``, in the history's currency."""

    date: date
    total: Total
    missing: tuple[Quote, ...]  # prices and rates not known yet on that day
    stale: tuple[Quote, ...]  # used, but older than the stale limit

    @property
    def value(self) -> Decimal | None:
        """The total, or None when some position could not be valued (see ``total``)."""
        return self.total.value

    @property
    def complete(self) -> bool:
        return not self.total.unknown


@dataclass(frozen=True)
class ValueHistory:
    currency: str
    points: tuple[HistoryPoint, ...]  # oldest first

    @property
    def incomplete(self) -> tuple[HistoryPoint, ...]:
        """The points with a position that has no price or rate yet."""
        return tuple(point for point in self.points if not point.complete)


def month_ends(start: date, end: date) -> list[date]:
    """Every last day of a month from ``start`` to ``end`` (both included), then ``end`` if it
    is not one: 2024-01-15 to 2024-04-05 gives 01-31, 02-29, 03-31, 04-05."""
    if start > end:
        raise InvalidInputError(f"start: {start.isoformat()} is after the end, {end.isoformat()}")
    days: list[date] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        last = date(year, month, calendar.monthrange(year, month)[1])
        if start <= last <= end:
            days.append(last)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    if not days or days[-1] != end:
        days.append(end)
    if len(days) > MAX_POINTS:
        raise InvalidInputError(f"start: a history covers at most {MAX_POINTS - 1} months")
    return days


class _Dated(Protocol):
    @property
    def date(self) -> datetime.date: ...


_Observation = TypeVar("_Observation", bound=_Dated)


class _Latest(Generic[_Observation]):
    """Per key, the observations of its latest date seen so far, fed in date order; which of
    them counts (two on one day) stays the valuation's rule."""

    def __init__(self) -> None:
        self._held: dict[Hashable, list[_Observation]] = {}

    def add(self, key: Hashable, observation: _Observation) -> None:
        held = self._held.get(key)
        if held is None or held[0].date < observation.date:
            self._held[key] = [observation]
        else:
            held.append(observation)

    def values(self) -> list[_Observation]:
        return [item for items in self._held.values() for item in items]


def value_history(
    transactions: Iterable[Transaction],
    accounts: Sequence[Account],
    prices: Iterable[Price],
    rates: Iterable[FxRate],
    *,
    base_currency: str,
    days: Sequence[date],
    stale_days: int = DEFAULT_STALE_DAYS,
) -> ValueHistory:
    """The portfolio's value on each of ``days`` (ascending, no repeats; see
    :func:`month_ends`), from one replay of ``transactions``.

    Raises :class:`InvalidInputError` for days out of order, for more than
    :data:`MAX_POINTS` days, and for what :func:`~alex.portfolio.holdings.ledger` and
    :func:`~alex.portfolio.valuation.value_portfolio` refuse.
    """
    if any(later <= earlier for earlier, later in pairwise(days)):
        raise InvalidInputError("days: must be in ascending order, each once")
    if len(days) > MAX_POINTS:
        raise InvalidInputError(f"days: at most {MAX_POINTS}")
    ordered = replay_order(transactions)
    by_date_prices = sorted(prices, key=lambda p: p.date)
    by_date_rates = sorted(rates, key=lambda r: r.date)
    replay = Replay()
    known_prices: _Latest[Price] = _Latest()
    known_rates: _Latest[FxRate] = _Latest()
    next_t = next_p = next_r = 0
    points: list[HistoryPoint] = []
    for day in days:
        while next_t < len(ordered) and ordered[next_t].date <= day:
            replay.apply(ordered[next_t])
            next_t += 1
        while next_p < len(by_date_prices) and by_date_prices[next_p].date <= day:
            price = by_date_prices[next_p]
            known_prices.add(price.symbol, price)
            next_p += 1
        while next_r < len(by_date_rates) and by_date_rates[next_r].date <= day:
            rate = by_date_rates[next_r]
            known_rates.add((rate.base, rate.quote), rate)
            next_r += 1
        valuation = value_portfolio(
            replay.ledger(),
            accounts,
            known_prices.values(),
            known_rates.values(),
            base_currency=base_currency,
            as_of=day,
            stale_days=stale_days,
        )
        quotes = valuation.quotes  # once: missing and stale each re-read every holding
        points.append(
            HistoryPoint(
                day,
                valuation.total,
                tuple(q for q in quotes if q.status is QuoteStatus.MISSING),
                tuple(q for q in quotes if q.status is QuoteStatus.STALE),
            )
        )
    return ValueHistory(base_currency, tuple(points))
