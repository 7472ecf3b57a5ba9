"""What holdings and cash are worth on a day, in the account's and the user's base currency.

A holding is valued at the last price known on or before the valuation day; an amount in
another currency is converted once, straight from the currency it is in to the currency
shown, at the last rate known on or before that day (docs/portfolio.md, "Valuation, prices
and currencies"). A price or rate dated more than ``stale_days`` before the day is used but
flagged stale with its date; one that is missing leaves the value unknown (``None``) and is
reported, never taken as zero or as today's. Sums state what they leave out.

Amounts are exact ``Decimal`` (28 significant digits where a rate divides); rounding to the
currency's minor unit is for display (:func:`alex.portfolio.model.round_money`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from alex.domain.errors import InvalidInputError
from alex.portfolio.holdings import Holding, Ledger
from alex.portfolio.model import Account, FxRate, Price

DEFAULT_STALE_DAYS = 7


class QuoteStatus(StrEnum):
    FRESH = "fresh"
    STALE = "stale"
    MISSING = "missing"


@dataclass(frozen=True)
class Quote:
    """A price or rate a figure rests on: ``"price VWRL"`` or ``"fx EUR/USD"``, with the date
    of the observation used (``None`` when there is none)."""

    name: str
    date: date | None
    status: QuoteStatus


@dataclass(frozen=True)
class Total:
    """A sum in ``currency`` that says what it leaves out: ``value`` is ``None`` unless every
    part is known; ``known`` is the sum of the parts that are."""

    currency: str
    known: Decimal
    unknown: tuple[str, ...] = ()

    @property
    def value(self) -> Decimal | None:
        return None if self.unknown else self.known


@dataclass(frozen=True)
class HoldingValue:
    holding: Holding
    price: Price | None
    value: Decimal | None  # in the holding's currency
    value_in_account: Decimal | None
    value_in_base: Decimal | None
    quotes: tuple[Quote, ...]

    @property
    def unrealised_gain(self) -> Decimal | None:
        """Value - cost basis, both in the holding's currency."""
        return None if self.value is None else self.value - self.holding.cost_basis


@dataclass(frozen=True)
class CashValue:
    account: str
    currency: str
    amount: Decimal
    value_in_account: Decimal | None
    value_in_base: Decimal | None
    quotes: tuple[Quote, ...]


@dataclass(frozen=True)
class Valuation:
    as_of: date
    base_currency: str
    stale_days: int
    holdings: tuple[HoldingValue, ...]
    cash: tuple[CashValue, ...]
    accounts: Mapping[str, Total]  # account id -> total in the account's currency
    total: Total  # everything, in the base currency

    @property
    def quotes(self) -> tuple[Quote, ...]:
        """Every price and rate used or missing, once each, sorted by name."""
        seen = {q for part in self.holdings for q in part.quotes}
        seen.update(q for part in self.cash for q in part.quotes)
        return tuple(sorted(seen, key=lambda q: (q.name, q.date or date.min, q.status)))

    @property
    def stale(self) -> tuple[Quote, ...]:
        return tuple(q for q in self.quotes if q.status is QuoteStatus.STALE)

    @property
    def missing(self) -> tuple[Quote, ...]:
        return tuple(q for q in self.quotes if q.status is QuoteStatus.MISSING)


class Rates:
    """FX rates as known on ``as_of``: converts directly, by the inverse rate, or through one
    other currency (as the ECB's rates, all against the euro, require)."""

    def __init__(self, rates: Iterable[FxRate], as_of: date, stale_days: int) -> None:
        self._as_of = as_of
        self._stale_days = stale_days
        # (base, quote) -> the latest rate on or before as_of
        self._latest: dict[tuple[str, str], FxRate] = {}
        for rate in rates:
            if rate.rate <= 0:
                raise InvalidInputError(
                    f"fx {rate.base}/{rate.quote} on {rate.date.isoformat()}: rate must be > 0"
                )
            if rate.date > as_of:
                continue
            pair = (rate.base, rate.quote)
            held = self._latest.get(pair)
            if held is None or (rate.date, rate.rate) > (held.date, held.rate):
                self._latest[pair] = rate

    def convert(
        self, amount: Decimal, source: str, target: str
    ) -> tuple[Decimal | None, tuple[Quote, ...]]:
        """``amount`` in ``source`` expressed in ``target``, and the rates it rests on."""
        if source == target:
            return amount, ()
        step = self._step(source, target)
        if step is not None:
            factor, rate = step
            return amount * factor, (self._quote(rate),)
        best: tuple[date, str] | None = None
        for (base, quote), _ in sorted(self._latest.items()):
            for pivot in {base, quote} - {source, target}:
                first, second = self._step(source, pivot), self._step(pivot, target)
                if first is None or second is None:
                    continue
                oldest = min(first[1].date, second[1].date)
                # The pivot whose older rate is the most recent; ties by currency code.
                if best is None or (oldest, pivot) > best:
                    best = (oldest, pivot)
        if best is None:
            return None, (Quote(f"fx {source}/{target}", None, QuoteStatus.MISSING),)
        pivot = best[1]
        first, second = self._step(source, pivot), self._step(pivot, target)
        assert first is not None and second is not None
        return amount * first[0] * second[0], (self._quote(first[1]), self._quote(second[1]))

    def _step(self, source: str, target: str) -> tuple[Decimal, FxRate] | None:
        """One rate between two currencies: (factor to multiply by, the rate used)."""
        direct = self._latest.get((source, target))
        inverse = self._latest.get((target, source))
        if direct is not None and (inverse is None or direct.date >= inverse.date):
            return direct.rate, direct
        if inverse is not None:
            return Decimal(1) / inverse.rate, inverse
        return None

    def _quote(self, rate: FxRate) -> Quote:
        return Quote(f"fx {rate.base}/{rate.quote}", rate.date, self._status(rate.date))

    def _status(self, observed: date) -> QuoteStatus:
        return _status(observed, self._as_of, self._stale_days)


def _status(observed: date, as_of: date, stale_days: int) -> QuoteStatus:
    return QuoteStatus.STALE if (as_of - observed).days > stale_days else QuoteStatus.FRESH


def last_prices(prices: Iterable[Price], as_of: date) -> dict[str, Price]:
    """The latest price of each symbol dated on or before ``as_of`` (later ones are not yet
    known on that day)."""
    latest: dict[str, Price] = {}
    for price in prices:
        if price.close < 0:
            raise InvalidInputError(f"price {price.symbol} on {price.date.isoformat()}: negative")
        if price.date > as_of:
            continue
        held = latest.get(price.symbol)
        key = (price.date, price.currency, price.close)
        if held is None or key > (held.date, held.currency, held.close):
            latest[price.symbol] = price
    return latest


def value_portfolio(
    book: Ledger,
    accounts: Sequence[Account],
    prices: Iterable[Price],
    rates: Iterable[FxRate],
    *,
    base_currency: str,
    as_of: date,
    stale_days: int = DEFAULT_STALE_DAYS,
) -> Valuation:
    """Value every holding and cash balance of ``book`` on ``as_of``.

    Raises :class:`InvalidInputError` when a transaction names an account not in
    ``accounts``, or ``stale_days`` is negative.
    """
    if stale_days < 0:
        raise InvalidInputError(f"stale_days must be 0 or more, not {stale_days}")
    by_id = {account.id: account for account in accounts}
    used = {h.account for h in book.holdings} | {account for account, _ in book.cash}
    undefined = sorted(used - by_id.keys())
    if undefined:
        raise InvalidInputError(f"account {undefined[0]!r} is not defined")
    known_prices = last_prices(prices, as_of)
    fx = Rates(rates, as_of, stale_days)
    holdings = tuple(
        _value_holding(
            h,
            known_prices.get(h.symbol),
            by_id[h.account].currency,
            base_currency,
            fx,
            as_of,
            stale_days,
        )
        for h in book.holdings
    )
    cash = tuple(
        _value_cash(account, currency, amount, by_id[account].currency, base_currency, fx)
        for (account, currency), amount in book.cash.items()
    )
    per_account = {
        account.id: _total(
            account.currency,
            [
                (f"{h.holding.symbol} in {h.holding.account}", h.value_in_account)
                for h in holdings
                if h.holding.account == account.id
            ]
            + [
                (f"{c.currency} cash in {c.account}", c.value_in_account)
                for c in cash
                if c.account == account.id
            ],
        )
        for account in accounts
    }
    total = _total(
        base_currency,
        [(f"{h.holding.symbol} in {h.holding.account}", h.value_in_base) for h in holdings]
        + [(f"{c.currency} cash in {c.account}", c.value_in_base) for c in cash],
    )
    return Valuation(as_of, base_currency, stale_days, holdings, cash, per_account, total)


def _value_holding(
    holding: Holding,
    price: Price | None,
    account_currency: str,
    base_currency: str,
    fx: Rates,
    as_of: date,
    stale_days: int,
) -> HoldingValue:
    if price is None:
        missing = (Quote(f"price {holding.symbol}", None, QuoteStatus.MISSING),)
        return HoldingValue(holding, None, None, None, None, missing)
    price_quote = Quote(
        f"price {holding.symbol}", price.date, _status(price.date, as_of, stale_days)
    )
    # A quote may be in another currency than the trades (pence vs pounds, a second listing).
    value, to_holding = fx.convert(holding.quantity * price.close, price.currency, holding.currency)
    in_account, to_account = fx.convert(
        holding.quantity * price.close, price.currency, account_currency
    )
    in_base, to_base = fx.convert(holding.quantity * price.close, price.currency, base_currency)
    quotes = (price_quote, *to_holding, *to_account, *to_base)
    return HoldingValue(holding, price, value, in_account, in_base, quotes)


def _value_cash(
    account: str,
    currency: str,
    amount: Decimal,
    account_currency: str,
    base_currency: str,
    fx: Rates,
) -> CashValue:
    in_account, to_account = fx.convert(amount, currency, account_currency)
    in_base, to_base = fx.convert(amount, currency, base_currency)
    return CashValue(account, currency, amount, in_account, in_base, (*to_account, *to_base))


def _total(currency: str, parts: list[tuple[str, Decimal | None]]) -> Total:
    known = sum((value for _, value in parts if value is not None), Decimal(0))
    unknown = tuple(name for name, value in parts if value is None)
    return Total(currency, known, unknown)
