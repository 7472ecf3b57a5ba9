"""Money-weighted (XIRR) and time-weighted returns, each over a stated period. Pure.

Money comes in as :class:`~decimal.Decimal`; the root finding runs in floats (a rate is a
ratio, not money) and the answer goes back out as a ``Decimal`` rounded to 10 places, far
below what any display shows. docs/portfolio.md has the formulas and worked examples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise

from alex.domain.errors import InvalidInputError

DAYS_PER_YEAR = 365  # actual/365, as Excel's XIRR
_PLACES = Decimal("1e-10")
_TOLERANCE = 1e-12
_MAX_NEWTON = 100


@dataclass(frozen=True)
class PeriodReturn:
    """A return and the period it covers. ``cumulative`` is the growth over the whole period
    (0.25 = +25 %); ``annualised`` is the same growth per 365 days, or ``None`` when the
    period is shorter than a year (GIPS forbids annualising those: it would extrapolate)."""

    start: date
    end: date
    cumulative: Decimal
    annualised: Decimal | None

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def _to_decimal(rate: float) -> Decimal:
    return Decimal(repr(rate)).quantize(_PLACES)


def _annualised(growth: float, days: int) -> float | None:
    return growth ** (DAYS_PER_YEAR / days) - 1 if days >= DAYS_PER_YEAR else None


# --- money-weighted: XIRR ------------------------------------------------------------------


def _npv(rate: float, flows: Sequence[tuple[float, float]]) -> float:
    return sum(amount * math.exp(-years * math.log1p(rate)) for years, amount in flows)


def _npv_slope(rate: float, flows: Sequence[tuple[float, float]]) -> float:
    return sum(
        -years * amount * math.exp(-(years + 1) * math.log1p(rate)) for years, amount in flows
    )


def _newton(flows: Sequence[tuple[float, float]], guess: float) -> float | None:
    rate = guess
    for _ in range(_MAX_NEWTON):
        try:
            value, slope = _npv(rate, flows), _npv_slope(rate, flows)
        except OverflowError:
            return None
        if slope == 0 or not math.isfinite(value) or not math.isfinite(slope):
            return None
        step = value / slope
        rate -= step
        if rate <= -1:
            return None
        if abs(step) < _TOLERANCE * max(1.0, abs(rate)):
            return rate
    return None


def _bisect(flows: Sequence[tuple[float, float]]) -> float | None:
    """A root in (-1, 1e6) by bisection once a sign change is bracketed, else ``None``."""
    low, high = -1 + 1e-9, 1.0
    try:
        f_low = _npv(low, flows)
    except OverflowError:
        f_low = math.copysign(math.inf, flows[-1][1])
    while math.copysign(1, _npv(high, flows)) == math.copysign(1, f_low):
        high *= 2
        if high > 1e6:
            return None
    for _ in range(200):
        middle = (low + high) / 2
        f_middle = _npv(middle, flows)
        if f_middle == 0 or high - low < _TOLERANCE:
            return middle
        if math.copysign(1, f_middle) == math.copysign(1, f_low):
            low, f_low = middle, f_middle
        else:
            high = middle
    return (low + high) / 2


def xirr(cashflows: Sequence[tuple[date, Decimal]], guess: Decimal = Decimal("0.1")) -> Decimal:
    """The annual rate r with sum(amount / (1 + r) ** (days since the first date / 365)) = 0.

    Excel's XIRR: amounts are signed from the investor's side (money put in is negative,
    money taken out and the final value are positive), years are actual/365 from the
    earliest date, the period runs from the earliest to the latest date. Newton's method
    from ``guess`` (Excel's default 0.1), then bisection over (-100 %, 10^8 %) if Newton
    does not converge. Several roots can exist when the signs change more than once; the
    one Newton reaches from ``guess`` is returned, as Excel does.
    """
    if len(cashflows) < 2:
        raise InvalidInputError("xirr needs at least two cash flows")
    first = min(day for day, _ in cashflows)
    flows = sorted(((day - first).days / DAYS_PER_YEAR, float(amount)) for day, amount in cashflows)
    if not (any(a > 0 for _, a in flows) and any(a < 0 for _, a in flows)):
        raise InvalidInputError(
            "xirr needs at least one negative (money in) and one positive (money out or "
            "final value) cash flow"
        )
    rate = _newton(flows, float(guess))
    if rate is None:
        rate = _bisect(flows)
    if rate is None:
        raise InvalidInputError("xirr found no rate between -100% and 10^8% for these cash flows")
    return _to_decimal(rate)


def money_weighted(cashflows: Sequence[tuple[date, Decimal]]) -> PeriodReturn:
    """XIRR with its period: ``annualised`` is the XIRR, ``cumulative`` the same rate
    compounded over the period's days (actual/365)."""
    rate = float(xirr(cashflows))
    start = min(day for day, _ in cashflows)
    end = max(day for day, _ in cashflows)
    days = (end - start).days
    growth = (1 + rate) ** (days / DAYS_PER_YEAR)
    return PeriodReturn(
        start,
        end,
        _to_decimal(growth - 1),
        _to_decimal(rate) if days >= DAYS_PER_YEAR else None,
    )


# --- time-weighted -------------------------------------------------------------------------


@dataclass(frozen=True)
class Valuation:
    """The portfolio on one day: ``value`` is its market value just before that day's
    external flow, ``flow`` the external flow then (money the owner put in, positive, or took
    out, negative; dividends paid out to the owner count as taken out). Start the series
    with the opening value (``flow`` 0) or with ``value`` 0 and the first deposit as ``flow``;
    end it with the closing value; put one valuation on every day money came in or went
    out."""

    date: date
    value: Decimal
    flow: Decimal = Decimal(0)


def twr(valuations: Sequence[Valuation]) -> PeriodReturn:
    """Time-weighted return: the sub-period returns between external flows, chained.

    Sub-period i runs from valuation i (after its flow) to valuation i + 1 (before its flow):
    1 + r_i = value_{i+1} / (value_i + flow_i); the period's growth is the product of the
    (1 + r_i). The last valuation's flow falls after the period and is ignored. The return
    is exact in Decimal; only annualising (a fractional power) goes through a float.
    """
    if len(valuations) < 2:
        raise InvalidInputError("twr needs at least two valuations (start and end)")
    growth = Decimal(1)
    for row, (before, after) in enumerate(pairwise(valuations), 1):
        if after.date <= before.date:
            raise InvalidInputError(f"twr valuation {row + 1}: date must be after {before.date}")
        if after.value < 0:
            raise InvalidInputError(f"twr valuation {row + 1}: value must not be negative")
        invested = before.value + before.flow
        if invested <= 0:
            raise InvalidInputError(
                f"twr valuation {row}: value plus flow must be positive to start a sub-period"
            )
        growth *= after.value / invested
    start, end = valuations[0].date, valuations[-1].date
    annual = _annualised(float(growth), (end - start).days)
    return PeriodReturn(
        start,
        end,
        (growth - 1).quantize(_PLACES),
        None if annual is None else _to_decimal(annual),
    )
