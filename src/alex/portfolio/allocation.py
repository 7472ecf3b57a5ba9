"""Allocation by asset class, region, sector, currency and account; drift against targets; how
to split new money to come closest to the targets without selling.

All in the valuation's base currency (docs/portfolio.md, "Allocation, drift and new money").

* A holding's value is split across buckets by its instrument's weights; an instrument with
  no weights (or none on record) goes to :data:`~alex.portfolio.model.UNKNOWN`, never guessed.
  Cash balances are the bucket :data:`CASH` in the asset-class, region and sector views.
* A position whose value is unknown (no price or rate) cannot be placed: it is listed in
  :attr:`Allocation.excluded`, and the shares are of the known part.
* Shares are per cent rounded to ``places`` decimals by the largest-remainder (Hamilton)
  method, so they add up to exactly 100: every share is first rounded down, then the
  hundredths still missing go one each to the buckets that lost the most in rounding down
  (ties: the larger value, then the name).
* New money is split by water-filling (:func:`plan_contribution`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from alex.domain.errors import InvalidInputError
from alex.portfolio.model import HUNDRED, UNKNOWN, Instrument, Weights, minor_units
from alex.portfolio.valuation import Valuation

CASH = "cash"
_ZERO = Decimal(0)


class Dimension(StrEnum):
    ASSET_CLASS = "asset_class"
    REGION = "region"
    SECTOR = "sector"
    CURRENCY = "currency"
    ACCOUNT = "account"


@dataclass(frozen=True)
class Bucket:
    name: str
    value: Decimal  # in the allocation's currency, exact
    share: Decimal  # per cent, rounded so the buckets add up to exactly 100


@dataclass(frozen=True)
class Allocation:
    dimension: Dimension
    currency: str
    buckets: tuple[Bucket, ...]  # largest value first, then by name
    excluded: tuple[str, ...]  # positions left out because their value is unknown

    @property
    def total(self) -> Decimal:
        return sum((b.value for b in self.buckets), _ZERO)

    def share(self, name: str) -> Decimal:
        return next((b.share for b in self.buckets if b.name == name), _ZERO)


def apportion(parts: Mapping[str, Decimal], whole: Decimal, quantum: Decimal) -> dict[str, Decimal]:
    """Split ``whole`` in proportion to ``parts`` into multiples of ``quantum`` that add up to
    exactly ``whole`` (a multiple of ``quantum``), by largest remainder: each exact share is
    rounded down, then the missing quanta go one each to the largest remainders (ties: the
    larger part, then the name)."""
    total = sum(parts.values(), _ZERO)
    if not parts or total == 0:
        raise InvalidInputError("nothing to apportion: the parts add up to zero")
    exact = {name: whole * value / total for name, value in parts.items()}
    floors = {name: share.quantize(quantum, rounding=ROUND_FLOOR) for name, share in exact.items()}
    missing = int((whole - sum(floors.values(), _ZERO)) / quantum)
    order = sorted(parts, key=lambda name: (-(exact[name] - floors[name]), -parts[name], name))
    for index in range(missing):
        floors[order[index % len(order)]] += quantum
    return floors


def allocate(
    valuation: Valuation,
    instruments: Mapping[str, Instrument],
    dimension: Dimension,
    *,
    places: int = 2,
) -> Allocation:
    """The valuation's known value by ``dimension``, in its base currency."""
    values: dict[str, Decimal] = defaultdict(Decimal)
    excluded: list[str] = []
    for held in valuation.holdings:
        h = held.holding
        if held.value_in_base is None:
            excluded.append(f"{h.symbol} in {h.account}")
            continue
        for name, part in _split(h.symbol, h.account, h.currency, instruments, dimension):
            values[name] += held.value_in_base * part / HUNDRED
    for cash in valuation.cash:
        if cash.value_in_base is None:
            excluded.append(f"{cash.currency} cash in {cash.account}")
            continue
        name = {Dimension.CURRENCY: cash.currency, Dimension.ACCOUNT: cash.account}.get(
            dimension, CASH
        )
        values[name] += cash.value_in_base
    return allocation_of(dimension, valuation.base_currency, values, tuple(excluded), places)


def allocation_of(
    dimension: Dimension,
    currency: str,
    values: Mapping[str, Decimal],
    excluded: tuple[str, ...] = (),
    places: int = 2,
) -> Allocation:
    """Buckets with their shares from values already summed by bucket."""
    values = {name: value for name, value in values.items() if value != 0}
    shares = apportion(values, HUNDRED, Decimal(1).scaleb(-places)) if values else {}
    buckets = tuple(
        Bucket(name, values[name], shares[name])
        for name in sorted(values, key=lambda name: (-values[name], name))
    )
    return Allocation(dimension, currency, buckets, excluded)


def _split(
    symbol: str,
    account: str,
    currency: str,
    instruments: Mapping[str, Instrument],
    dimension: Dimension,
) -> list[tuple[str, Decimal]]:
    """(bucket, per cent) pairs for one holding."""
    if dimension is Dimension.CURRENCY:
        return [(currency, HUNDRED)]
    if dimension is Dimension.ACCOUNT:
        return [(account, HUNDRED)]
    instrument = instruments.get(symbol)
    if instrument is None:
        return [(UNKNOWN, HUNDRED)]
    weights: Weights = getattr(instrument, dimension.value)
    if not weights.known:
        return [(UNKNOWN, HUNDRED)]
    if (
        any(share < 0 for share in weights.shares.values())
        or sum(weights.shares.values()) != HUNDRED
    ):
        raise InvalidInputError(
            f"instrument {symbol}: {dimension.value} weights must be 0 or more and add up to "
            f"100, not {sum(weights.shares.values())}"
        )
    return sorted(weights.shares.items())


def check_targets(targets: Mapping[str, Decimal], dimension: Dimension) -> None:
    """Targets are per cent by bucket, none negative, adding up to exactly 100."""
    for name, target in targets.items():
        if target < 0:
            raise InvalidInputError(f"target {dimension.value} {name!r}: {target} is negative")
    total = sum(targets.values(), _ZERO)
    if total != HUNDRED:
        raise InvalidInputError(f"{dimension.value} targets add up to {total}, not 100")


def drift(allocation: Allocation, targets: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Share - target in percentage points, for every bucket held or targeted (a bucket with
    no target has target 0). Built from the rounded shares, so the drifts add up to 0."""
    check_targets(targets, allocation.dimension)
    names = sorted({b.name for b in allocation.buckets} | set(targets))
    return {name: allocation.share(name) - targets.get(name, _ZERO) for name in names}


@dataclass(frozen=True)
class PlanLine:
    bucket: str
    value: Decimal  # before
    add: Decimal  # new money to put here, in minor units of the currency
    target: Decimal  # per cent
    share_before: Decimal
    share_after: Decimal


@dataclass(frozen=True)
class ContributionPlan:
    dimension: Dimension
    currency: str
    amount: Decimal
    lines: tuple[PlanLine, ...]  # by bucket name

    def add(self, bucket: str) -> Decimal:
        return next((line.add for line in self.lines if line.bucket == bucket), _ZERO)


def water_fill(gaps: Mapping[str, Decimal], amount: Decimal) -> dict[str, Decimal]:
    """Exact split of ``amount`` (>= 0) that fills the largest gaps first: every bucket gets
    ``max(0, gap - level)``, with the one ``level`` at which they add up to ``amount``.

    With gaps = target value after the contribution - value now, it is, among all splits
    without selling, the one whose values after are closest to the target values (least sum
    of squared differences; docs/portfolio.md). The same form solves Boyd and
    Vandenberghe's water-filling problem (Convex Optimization, example 5.2) with gaps
    ``-alpha``.
    """
    if amount < 0:
        raise InvalidInputError(f"a contribution cannot be negative ({amount})")
    ordered = sorted(gaps, key=lambda name: (-gaps[name], name))
    level = _ZERO
    running = _ZERO
    for count, name in enumerate(ordered, start=1):
        running += gaps[name]
        level = (running - amount) / count
        following = gaps[ordered[count]] if count < len(ordered) else None
        if following is None or level >= following:
            break
    return {name: max(_ZERO, gaps[name] - level) for name in gaps}


def plan_contribution(
    allocation: Allocation, targets: Mapping[str, Decimal], amount: Decimal
) -> ContributionPlan:
    """How to split ``amount`` (in the allocation's currency) across the buckets to come
    closest to ``targets`` without selling: the most underweight bucket (in money, against
    its target value after the contribution) is filled first, until it is level with the
    next, and so on. Amounts are rounded to the currency's minor unit by largest remainder,
    so they add up to exactly ``amount``."""
    check_targets(targets, allocation.dimension)
    quantum = Decimal(1).scaleb(-minor_units(allocation.currency))
    if amount != amount.quantize(quantum):
        raise InvalidInputError(f"a contribution of {amount} is finer than {quantum}")
    values = {b.name: b.value for b in allocation.buckets}
    names = sorted(set(values) | set(targets))
    after_total = allocation.total + amount
    gaps = {
        name: targets.get(name, _ZERO) * after_total / HUNDRED - values.get(name, _ZERO)
        for name in names
    }
    exact = water_fill(gaps, amount)
    funded = {name: share for name, share in exact.items() if share > 0}
    adds = apportion(funded, amount, quantum) if funded else {}
    after = {name: values.get(name, _ZERO) + adds.get(name, _ZERO) for name in names}
    shares_after = allocation_of(allocation.dimension, allocation.currency, after)
    lines = tuple(
        PlanLine(
            bucket=name,
            value=values.get(name, _ZERO),
            add=adds.get(name, _ZERO),
            target=targets.get(name, _ZERO),
            share_before=allocation.share(name),
            share_after=shares_after.share(name),
        )
        for name in names
    )
    return ContributionPlan(allocation.dimension, allocation.currency, amount, lines)
