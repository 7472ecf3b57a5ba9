"""The figure set: every number the code computed that a report may state, each named.

The planner's writers never compute: they are given this set (:meth:`FigureSet.as_prompt`)
and every number they write must be one of its figures (:mod:`alex.planner.number_check`).
It is built once per analysis, by :func:`figure_set`, from what the portfolio core computed:
the view (values, allocation, targets, drift), the X-ray and, when there is one, the
retirement projection. Nothing here rounds a value: each :class:`Figure` holds the exact
``Decimal`` and the places it is shown with; :attr:`Figure.text` is how it is shown.

Keys (stable; ``<S>`` a symbol, ``<dim>`` one of asset_class, region, sector, currency,
account, ``<A>`` an age):

* ``as_of`` (date); ``total.value``, ``total.unvalued`` (positions with no price or rate,
  left out of every sum); ``accounts.count``, ``holdings.count`` (instruments held),
  ``positions.count`` (instrument x account);
* ``account.<id>.value`` (in the account's currency), ``account.<id>.share``;
* ``holding.<S>.value`` (base currency, all accounts), ``.share`` (of the total), ``.quantity``,
  ``.price`` and ``.local_value`` (in the instrument's currency when it is not the base),
  ``.cost``, ``.gain`` (unrealised, the instrument's currency), ``.gain_pct`` (of cost);
  ``position.<account>.<S>.value`` for a symbol held in more than one account;
* ``cash.<account>.<CUR>`` (in that currency), ``cash.total`` (base currency);
* ``allocation.<dim>.<bucket>`` (share, per cent as the allocation rounds it: they add up to
  100) and ``allocation.<dim>.<bucket>.value``; ``target.<dim>.<bucket>``,
  ``drift.<dim>.<bucket>`` (percentage points, share - target);
* ``gain.realised.<CUR>``; ``income.<year>.<CUR>`` (dividends and interest);
* ``xray.findings`` (count); ``xray.<rule>.threshold`` for every rule that ran with one;
  each finding's figures as ``xray.<rule>.<name>`` (``share:MTUS`` becomes ``share.MTUS``);
  ``xray.fee_drag.since`` (the start of its 12 months) when it ran;
  ``xray.stale_prices.date.<quote>`` for a stale price or rate;
* ``projection.*``: ``current_age``, ``retirement_age``, ``end_age``,
  ``years_to_retirement``, ``horizon``, ``start``, ``contribution``, ``spending`` (a year, in
  today's money), ``inflation``, ``fee``, ``contribution_growth``, ``paths``,
  ``success_probability``, ``depletion_age_p10`` (if any), ``assumption.<class>.return`` and
  ``.volatility``, ``left_out.<class>``; and at ages current + 10, retirement and end:
  ``p10|p25|p50|p75|p90|expected.age_<A>`` (nominal), ``p50.age_<A>.real`` (today's money)
  and ``year.age_<A>`` (the calendar year).

Units: money (with its currency), percent, percentage points, count, years, months, days,
age, calendar year, date. Display: money to its minor unit ("171,235.92 USD"; projected
money to whole units, its cents being Monte Carlo noise), shares to 2 places ("17.39%"),
drift signed ("+5.68 pp"), the success probability to 1 place, a threshold or an assumption
as given ("10%", "2.5%").

Labels are the code's words and may hold numbers ("Income in 2024", "Value at age 65, 10th
percentile"): the number check accepts those numbers too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Any

from alex.portfolio.allocation import Dimension
from alex.portfolio.model import HUNDRED, minor_units
from alex.portfolio.service import PortfolioProjection, PortfolioView
from alex.portfolio.valuation import HoldingValue
from alex.portfolio.xray import RULES, XRay, year_before

_ZERO = Decimal(0)
# The projection's percentiles (alex.portfolio.projection.PERCENTILES, not imported: numpy).
_PERCENTILES = (10, 25, 50, 75, 90)
_ORDINAL = {
    10: "10th percentile",
    25: "25th percentile",
    50: "50th percentile (median)",
    75: "75th percentile",
    90: "90th percentile",
}


class Unit(StrEnum):
    MONEY = "money"
    PERCENT = "percent"
    POINTS = "points"  # percentage points
    COUNT = "count"
    YEARS = "years"
    MONTHS = "months"
    DAYS = "days"
    AGE = "age"
    YEAR = "year"  # a calendar year
    DATE = "date"


@dataclass(frozen=True)
class Figure:
    """One computed number. ``value`` is exact (a ``date`` for :attr:`Unit.DATE`); ``places``
    is how many decimals it is shown with; ``currency`` is set for money only."""

    key: str
    label: str
    value: Decimal | date
    unit: Unit
    places: int = 0
    currency: str = ""

    @property
    def number(self) -> Decimal:
        """The value of a figure that is not a date."""
        if isinstance(self.value, date):
            raise TypeError(f"{self.key} is a date")
        return self.value

    @property
    def shown(self) -> Decimal | date:
        """The value as shown: rounded half to even to ``places``."""
        if isinstance(self.value, date):
            return self.value
        return self.value.quantize(Decimal(1).scaleb(-self.places), rounding=ROUND_HALF_EVEN)

    @property
    def text(self) -> str:
        """How the figure is shown: "171,235.92 USD", "17.39%", "+5.68 pp", "age 65"."""
        shown = self.shown
        if isinstance(shown, date):
            return shown.isoformat()
        match self.unit:
            case Unit.MONEY:
                return f"{shown:,} {self.currency}"
            case Unit.PERCENT:
                return f"{shown:,}%"
            case Unit.POINTS:
                return f"{shown:+,} pp"
            case Unit.YEARS | Unit.MONTHS | Unit.DAYS:
                return f"{shown:,} {self.unit.value}"
            case Unit.AGE:
                return f"age {shown}"
            case Unit.YEAR:
                return f"{shown}"
            case _:
                return f"{shown:,}"


@dataclass(frozen=True)
class BucketRef:
    """A bucket of one allocation dimension, and the keys of its figures."""

    dimension: str
    bucket: str

    @property
    def share_key(self) -> str:
        return f"allocation.{self.dimension}.{self.bucket}"

    @property
    def target_key(self) -> str:
        return f"target.{self.dimension}.{self.bucket}"

    @property
    def drift_key(self) -> str:
        return f"drift.{self.dimension}.{self.bucket}"


@dataclass(frozen=True)
class FigureSet:
    """Every figure of one analysis by key, and the names a report may use around them.

    ``holdings``: symbols held, largest value first. ``instruments``: symbol -> name for every
    instrument on record. ``accounts``: account id -> name. ``buckets``: dimension -> the
    buckets held or targeted. ``fired``: the X-ray rules that found something, most severe
    first. ``findings``: (rule, severity, message) of each finding, as the X-ray wrote it.
    """

    as_of: date
    currency: str
    figures: Mapping[str, Figure]
    holdings: tuple[str, ...] = ()
    instruments: Mapping[str, str] = field(default_factory=dict)
    accounts: Mapping[str, str] = field(default_factory=dict)
    buckets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    fired: tuple[str, ...] = ()
    findings: tuple[tuple[str, str, str], ...] = ()

    def __getitem__(self, key: str) -> Figure:
        return self.figures[key]

    def __contains__(self, key: object) -> bool:
        return key in self.figures

    def __iter__(self) -> Iterator[Figure]:
        return iter(self.figures.values())

    def __len__(self) -> int:
        return len(self.figures)

    def get(self, key: str) -> Figure | None:
        return self.figures.get(key)

    def number(self, key: str) -> Decimal | None:
        figure = self.figures.get(key)
        return None if figure is None else figure.number

    @property
    def largest_holding(self) -> str | None:
        """The symbol with the largest value in the base currency (all accounts)."""
        return self.holdings[0] if self.holdings else None

    def drift(self, dimension: str, bucket: str) -> Decimal | None:
        """Share - target in percentage points; None where the dimension has no target."""
        return self.number(BucketRef(dimension, bucket).drift_key)

    @property
    def biggest_drift(self) -> BucketRef | None:
        """The bucket furthest from its target, in percentage points either way (ties: the
        dimensions in their order, then the bucket's name)."""
        best: tuple[Decimal, BucketRef] | None = None
        for dimension in Dimension:
            for bucket in self.buckets.get(dimension.value, ()):
                ref = BucketRef(dimension.value, bucket)
                value = self.number(ref.drift_key)
                if value is not None and (best is None or abs(value) > best[0]):
                    best = (abs(value), ref)
        return best[1] if best else None

    @property
    def over_limit(self) -> tuple[str, ...]:
        """Symbols the single-holding rule found over its limit."""
        prefix = "xray.single_holding.share."
        return tuple(key[len(prefix) :] for key in self.figures if key.startswith(prefix))

    @property
    def names(self) -> tuple[str, ...]:
        """Symbols, instrument names, account ids and names: words, even when they hold
        digits ("Europe 600"), never figures. Longest first, so a name wins over its part."""
        words = {*self.instruments, *self.instruments.values(), *self.accounts}
        words |= set(self.accounts.values())
        return tuple(sorted((w for w in words if w), key=lambda w: (-len(w), w)))

    def as_prompt(self, only: Sequence[str] = ()) -> dict[str, Any]:
        """What a writer is given (inside a data element): the figures with their labels and
        display texts (those whose key starts with one of ``only``, if given: the retirement
        writer needs ``("projection.",)``), the names, and the lookups a report leads with.
        JSON-able."""
        largest = self.largest_holding
        drift = self.biggest_drift
        texts = {key: figure.text for key, figure in self.figures.items()}
        chosen = tuple(only)
        return {
            "as_of": self.as_of.isoformat(),
            "currency": self.currency,
            "figures": {
                key: {"label": figure.label, "text": figure.text}
                for key, figure in self.figures.items()
                if not chosen or key.startswith(chosen)
            },
            "instruments": {symbol: self.instruments.get(symbol, "") for symbol in self.holdings},
            "accounts": dict(self.accounts),
            "largest_holding": None
            if largest is None
            else {
                "symbol": largest,
                "name": self.instruments.get(largest, ""),
                "value": texts[f"holding.{largest}.value"],
                "share": texts[f"holding.{largest}.share"],
            },
            "biggest_drift": None
            if drift is None
            else {
                "dimension": drift.dimension,
                "bucket": drift.bucket,
                "share": texts.get(drift.share_key, "0.00%"),
                "target": texts[drift.target_key],
                "drift": texts[drift.drift_key],
            },
            "findings": [
                {"rule": rule, "severity": severity, "message": message}
                for rule, severity, message in self.findings
            ],
        }


# --- Building ------------------------------------------------------------------------------


class _Figures:
    """Figures in the order they are added; a key added twice is a bug."""

    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.items: dict[str, Figure] = {}

    def add(
        self,
        key: str,
        label: str,
        value: Decimal | date,
        unit: Unit,
        places: int = 0,
        currency: str = "",
    ) -> None:
        if key in self.items:
            raise ValueError(f"figure {key!r} added twice")
        self.items[key] = Figure(key, label, value, unit, places, currency)

    def money(self, key: str, label: str, value: Decimal, currency: str = "") -> None:
        currency = currency or self.currency
        self.add(key, label, value, Unit.MONEY, minor_units(currency), currency)

    def percent(self, key: str, label: str, value: Decimal, places: int = 2) -> None:
        self.add(key, label, value, Unit.PERCENT, places)


def _places(value: Decimal) -> int:
    """The decimals a given number was written with, trailing zeros dropped: 2.50 -> 1."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def figure_set(
    view: PortfolioView, xray: XRay, projection: PortfolioProjection | None = None
) -> FigureSet:
    """Every figure of ``view``, ``xray`` and ``projection`` (see the module's keys)."""
    valuation = view.valuation
    out = _Figures(valuation.base_currency)
    out.add("as_of", "Valuation date", view.as_of, Unit.DATE)
    holdings = _portfolio(view, out)
    _allocations(view, out)
    _ledger(view, out)
    _xray(xray, out)
    if projection is not None:
        _projection(projection, out)
    buckets = {
        dimension.value: tuple(
            dict.fromkeys(
                [b.name for b in allocation.buckets] + sorted(view.targets.get(dimension, {}))
            )
        )
        for dimension, allocation in view.allocations.items()
    }
    return FigureSet(
        as_of=view.as_of,
        currency=valuation.base_currency,
        figures=dict(out.items),
        holdings=holdings,
        instruments={symbol: i.name for symbol, i in sorted(view.instruments.items())},
        accounts={account.id: account.name for account in view.accounts},
        buckets=buckets,
        fired=tuple(finding.rule for finding in xray.findings),
        findings=tuple((f.rule, f.severity.value, f.message) for f in xray.findings),
    )


def _portfolio(view: PortfolioView, out: _Figures) -> tuple[str, ...]:
    """Totals, accounts, holdings and cash; returns the symbols held, largest first."""
    valuation = view.valuation
    total = valuation.total.known
    unvalued = len(valuation.total.unknown)
    label = "Total value" + (" of the positions with a known value" if unvalued else "")
    out.money("total.value", label, total)
    out.add("total.unvalued", "Positions with no price or rate", Decimal(unvalued), Unit.COUNT)
    out.add("accounts.count", "Accounts", Decimal(len(view.accounts)), Unit.COUNT)
    by_account = {b.name: b.share for b in view.allocations[Dimension.ACCOUNT].buckets}
    for account in view.accounts:
        account_total = valuation.accounts.get(account.id)
        if account_total is None:
            continue
        key = f"account.{account.id}"
        out.money(f"{key}.value", f"{account.name}: value", account_total.known, account.currency)
        out.percent(
            f"{key}.share", f"{account.name}: share of the total", by_account.get(account.id, _ZERO)
        )
    positions: dict[str, list[HoldingValue]] = defaultdict(list)
    for held in valuation.holdings:
        positions[held.holding.symbol].append(held)
    values = {
        symbol: sum((h.value_in_base for h in held if h.value_in_base is not None), _ZERO)
        for symbol, held in positions.items()
    }
    ordered = tuple(sorted(values, key=lambda symbol: (-values[symbol], symbol)))
    out.add("holdings.count", "Instruments held", Decimal(len(ordered)), Unit.COUNT)
    out.add(
        "positions.count",
        "Positions (instrument by account)",
        Decimal(len(valuation.holdings)),
        Unit.COUNT,
    )
    for symbol in ordered:
        _holding(symbol, positions[symbol], values[symbol], total, out)
    cash_total = _ZERO
    for cash in valuation.cash:
        out.money(
            f"cash.{cash.account}.{cash.currency}",
            f"Cash in {cash.currency} in {cash.account}",
            cash.amount,
            cash.currency,
        )
        cash_total += cash.value_in_base or _ZERO
    out.money("cash.total", "Cash balances, all accounts", cash_total)
    return ordered


def _holding(
    symbol: str, held: list[HoldingValue], value: Decimal, total: Decimal, out: _Figures
) -> None:
    key = f"holding.{symbol}"
    first = held[0]
    currency = first.holding.currency
    same_currency = all(h.holding.currency == currency for h in held)
    out.money(f"{key}.value", f"{symbol}: value (all accounts)", value)
    if total > 0:
        out.percent(f"{key}.share", f"{symbol}: share of the total", value * HUNDRED / total)
    quantity = sum((h.holding.quantity for h in held), _ZERO)
    out.add(f"{key}.quantity", f"{symbol}: units held", quantity, Unit.COUNT, _places(quantity))
    if first.price is not None:
        price = first.price
        places = max(minor_units(price.currency), _places(price.close))
        out.add(
            f"{key}.price",
            f"{symbol}: price on {price.date.isoformat()}",
            price.close,
            Unit.MONEY,
            places,
            price.currency,
        )
    if not same_currency:
        return
    local_values = [h.value for h in held if h.value is not None]
    if currency != out.currency and local_values:
        local = sum(local_values, _ZERO)
        out.money(f"{key}.local_value", f"{symbol}: value in {currency}", local, currency)
    cost = sum((h.holding.cost_basis for h in held), _ZERO)
    out.money(f"{key}.cost", f"{symbol}: cost basis", cost, currency)
    if len(local_values) == len(held):  # a gain needs every position's value
        gain = sum(local_values, _ZERO) - cost
        out.money(f"{key}.gain", f"{symbol}: unrealised gain", gain, currency)
        if cost > 0:
            out.percent(
                f"{key}.gain_pct", f"{symbol}: unrealised gain, % of cost", gain * HUNDRED / cost
            )
    if len(held) > 1:
        for h in held:
            if h.value_in_base is not None:
                out.money(
                    f"position.{h.holding.account}.{symbol}.value",
                    f"{symbol} in {h.holding.account}: value",
                    h.value_in_base,
                )


def _allocations(view: PortfolioView, out: _Figures) -> None:
    for dimension, allocation in view.allocations.items():
        name = dimension.value.replace("_", " ")
        for bucket in allocation.buckets:
            key = f"allocation.{dimension.value}.{bucket.name}"
            out.percent(key, f"Share of {name} {bucket.name}", bucket.share)
            out.money(f"{key}.value", f"Value of {name} {bucket.name}", bucket.value)
        targets = view.targets.get(dimension, {})
        for bucket_name, target in sorted(targets.items()):
            out.percent(
                f"target.{dimension.value}.{bucket_name}",
                f"Target for {name} {bucket_name}",
                target,
                _places(target),
            )
        for bucket_name, drift in sorted(view.drift.get(dimension, {}).items()):
            out.add(
                f"drift.{dimension.value}.{bucket_name}",
                f"Drift of {name} {bucket_name} from its target",
                drift,
                Unit.POINTS,
                2,
            )


def _ledger(view: PortfolioView, out: _Figures) -> None:
    for currency, gain in view.ledger.realised_gain().items():
        out.money(f"gain.realised.{currency}", f"Realised gains in {currency}", gain, currency)
    for (year, currency), amount in view.ledger.income_by_year().items():
        out.money(
            f"income.{year}.{currency}",
            f"Income (dividends and interest) in {year}",
            amount,
            currency,
        )


# A finding's figure name (before any ":") -> its unit; a threshold takes its rule's unit.
_FINDING_UNITS = {
    "share": Unit.PERCENT,
    "ratio": Unit.PERCENT,
    "months": Unit.MONTHS,
    "missing": Unit.COUNT,
    "stale": Unit.COUNT,
    "age_days": Unit.DAYS,
    "portfolio_value": Unit.MONEY,
    "value": Unit.MONEY,
    "cash": Unit.MONEY,
    "savings": Unit.MONEY,
    "monthly_spending": Unit.MONEY,
    "target": Unit.MONEY,
    "shortfall": Unit.MONEY,
    "fees": Unit.MONEY,
    "invested": Unit.MONEY,
}
_RULE_UNITS = {rule.name: Unit.MONTHS if rule.unit == "months" else Unit.PERCENT for rule in RULES}


def _xray(xray: XRay, out: _Figures) -> None:
    out.add("xray.findings", "Risk findings", Decimal(len(xray.findings)), Unit.COUNT)
    for run in xray.runs:
        if run.threshold is not None and run.rule in xray.ran:
            out.add(
                f"xray.{run.rule}.threshold",
                f"{run.rule} limit",
                run.threshold,
                _RULE_UNITS[run.rule],
                _places(run.threshold),
            )
    if "fee_drag" in xray.ran:
        out.add("xray.fee_drag.since", "Fees counted after", year_before(xray.as_of), Unit.DATE)
    for finding in xray.findings:
        for name, value in finding.figures.items():
            if name == "threshold":
                continue  # added with the rule's run
            base, _, part = name.partition(":")
            key = f"xray.{finding.rule}.{base}" + (f".{part}" if part else "")
            label = f"{finding.rule}: {name.replace(':', ' ')}"
            unit = _FINDING_UNITS.get(base, Unit.COUNT)
            if unit is Unit.MONEY:
                out.money(key, label, value)
            elif unit is Unit.PERCENT:
                out.percent(key, label, value)
            else:
                out.add(key, label, value, unit, 1 if unit is Unit.MONTHS else 0)
            if base == "age_days":
                seen = xray.as_of - timedelta(days=int(value))
                out.add(f"xray.{finding.rule}.date.{part}", f"{part}: date", seen, Unit.DATE)


def _projection(result: PortfolioProjection, out: _Figures) -> None:
    inputs, projection = result.inputs, result.projection
    currency = result.currency
    places = 0  # projected money is shown in whole units: its cents are Monte Carlo noise

    def money(key: str, label: str, value: Decimal) -> None:
        out.add(f"projection.{key}", label, value, Unit.MONEY, places, currency)

    def age(key: str, label: str, value: int) -> None:
        out.add(f"projection.{key}", label, Decimal(value), Unit.AGE)

    age("current_age", "Current age", inputs.current_age)
    age("retirement_age", "Retirement age", inputs.retirement_age)
    age("end_age", "Projection ends at age", inputs.end_age)
    out.add(
        "projection.years_to_retirement",
        "Years to retirement",
        Decimal(max(0, inputs.retirement_age - inputs.current_age)),
        Unit.YEARS,
    )
    out.add("projection.horizon", "Years projected", Decimal(projection.years), Unit.YEARS)
    out.add("projection.paths", "Simulated paths", Decimal(projection.paths), Unit.COUNT)
    start = sum(inputs.holdings.values(), _ZERO)
    out.money("projection.start", "Start value (asset classes with an assumption)", start, currency)
    money("contribution", "Yearly contribution until retirement", inputs.contribution)
    money("spending", "Yearly spending in retirement (today's money)", inputs.spending)
    for key, label, rate in (
        ("inflation", "Inflation a year", inputs.inflation),
        ("fee", "Fee a year", inputs.fee),
        ("contribution_growth", "Contribution growth a year", inputs.contribution_growth),
    ):
        out.percent(f"projection.{key}", label, rate * HUNDRED, _places(rate * HUNDRED))
    success = Decimal(repr(round(projection.success_probability, 6))) * HUNDRED
    out.percent(
        "projection.success_probability", "Chance the money lasts to the end age", success, 1
    )
    if projection.depletion_age_p10 is not None:
        age(
            "depletion_age_p10",
            "Age by which 10% of paths have run out",
            projection.depletion_age_p10,
        )
    for name in sorted(inputs.holdings):
        assumption = inputs.assumptions[name]
        for part, rate in (
            ("return", assumption.compound_return),
            ("volatility", assumption.volatility),
        ):
            pct = rate * HUNDRED
            out.percent(
                f"projection.assumption.{name}.{part}",
                f"{name}: assumed yearly {part}",
                pct,
                _places(pct),
            )
    for name, value in sorted(result.left_out.items()):
        out.money(
            f"projection.left_out.{name}", f"Left out of the projection: {name}", value, currency
        )
    rows = {row.age: row for row in projection.rows()}
    ages = sorted(
        {inputs.current_age + 10, inputs.retirement_age, inputs.end_age}
        & set(rows) - {inputs.current_age}
    )
    for at in ages:
        row = rows[at]
        for p in _PERCENTILES:
            money(f"p{p}.age_{at}", f"Value at age {at}, {_ORDINAL[p]}", row.percentiles[p])
        money(f"expected.age_{at}", f"Value at age {at} at the mean returns", row.expected)
        deflator = Decimal(repr(float(projection.deflator[row.year])))
        money(
            f"p50.age_{at}.real",
            f"Median value at age {at} in today's money",
            row.percentiles[50] / deflator,
        )
        out.add(
            f"projection.year.age_{at}",
            f"Calendar year of age {at}",
            Decimal(result.as_of.year + row.year),
            Unit.YEAR,
        )
