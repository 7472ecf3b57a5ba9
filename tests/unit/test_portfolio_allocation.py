"""Allocation: buckets from weights (unknown stays unknown), shares that add up to exactly 100
by largest remainder, drift, and the water-filling split of new money."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alex.domain.errors import InvalidInputError
from alex.portfolio.allocation import (
    CASH,
    Allocation,
    Dimension,
    allocate,
    allocation_of,
    apportion,
    drift,
    plan_contribution,
    water_fill,
)
from alex.portfolio.holdings import ledger
from alex.portfolio.model import (
    UNKNOWN,
    Account,
    AccountKind,
    Instrument,
    InstrumentType,
    Price,
    Weights,
)
from alex.portfolio.valuation import Valuation, value_portfolio
from tests.unit.test_portfolio_holdings import tx

D = Decimal
HUNDRED = D(100)


def weights(**shares: str) -> Weights:
    return Weights({name: D(share) for name, share in shares.items()})


def buckets(values: dict[str, str], dimension: Dimension = Dimension.ASSET_CLASS) -> Allocation:
    return allocation_of(dimension, "GBP", {name: D(v) for name, v in values.items()})


def test_largest_remainder_matches_a_published_apportionment() -> None:
    """Largest remainder method, worked example of staatsrecht.honikel.de ("Berechnungsbeispiele
    - Lösungen"): 10 seats for parties with 6,100, 5,000 and 900 votes have quotas 5.08, 4.17
    and 0.75; each gets its whole part (5, 4, 0) and the one seat left goes to the largest
    remainder, C's 0.75: 5, 4, 1."""
    seats = apportion({"A": D(6100), "B": D(5000), "C": D(900)}, D(10), D(1))
    assert seats == {"A": D(5), "B": D(4), "C": D(1)}


def test_shares_add_up_to_exactly_100_and_ties_go_by_value_then_name() -> None:
    thirds = buckets({"bond": "1", "equity": "1", "cash": "1"})
    assert [(b.name, b.share) for b in thirds.buckets] == [
        ("bond", D("33.34")),
        ("cash", D("33.33")),
        ("equity", D("33.33")),
    ]
    uneven = buckets({"a": "2", "b": "1", "c": "1"}).buckets
    assert [b.share for b in uneven] == [D(50), D(25), D(25)]
    whole = buckets({"a": "2", "b": "1"}).buckets
    assert [b.share for b in whole] == [D("66.67"), D("33.33")]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 10**9), min_size=1, max_size=12), st.integers(0, 3))
def test_shares_always_add_up_to_100_within_a_quantum_of_exact(
    values: list[int], places: int
) -> None:
    parts = {f"b{i}": D(v).scaleb(-2) for i, v in enumerate(values)}
    result = allocation_of(Dimension.SECTOR, "USD", parts, places=places)
    quantum = D(1).scaleb(-places)
    assert sum(b.share for b in result.buckets) == HUNDRED
    total = sum(parts.values())
    for bucket in result.buckets:
        assert abs(bucket.share - HUNDRED * bucket.value / total) < quantum


ISA = Account("isa", "ISA", AccountKind.TAXABLE, "GBP")
INSTRUMENTS = {
    "VWRL": Instrument(
        "VWRL",
        "All-World",
        InstrumentType.ETF,
        "GBP",
        asset_class=weights(equity="100"),
        region=weights(north_america="62.5", europe="25", asia="12.5"),
    ),
    "GILT": Instrument(
        "GILT", "Gilts", InstrumentType.BOND, "GBP", asset_class=weights(bond="100")
    ),
}


def _valuation() -> Valuation:
    rows = [
        tx("2024-01-02", "DEPOSIT", None, "1", "10100"),
        tx("2024-01-02", "BUY", "VWRL", "60", "100"),
        tx("2024-01-02", "BUY", "GILT", "20", "100"),
        tx("2024-01-02", "BUY", "MYSTERY", "10", "100"),
        tx("2024-01-02", "BUY", "NOPRICE", "1", "100"),
    ]
    day = date(2024, 6, 28)
    prices = [
        Price("VWRL", day, D(100), "GBP"),
        Price("GILT", day, D(100), "GBP"),
        Price("MYSTERY", day, D(100), "GBP"),
    ]
    return value_portfolio(ledger(rows), [ISA], prices, [], base_currency="GBP", as_of=day)


def test_weights_split_values_unknown_is_shown_and_unpriced_is_excluded() -> None:
    valuation = _valuation()
    by_class = allocate(valuation, INSTRUMENTS, Dimension.ASSET_CLASS)
    assert [(b.name, b.value, b.share) for b in by_class.buckets] == [
        ("equity", D(6000), D(60)),
        ("bond", D(2000), D(20)),
        (CASH, D(1000), D(10)),
        (UNKNOWN, D(1000), D(10)),  # MYSTERY has no classification
    ]
    assert by_class.excluded == ("NOPRICE in isa",)  # no price: its value is unknown
    by_region = allocate(valuation, INSTRUMENTS, Dimension.REGION)
    assert {b.name: b.share for b in by_region.buckets} == {
        "north_america": D("37.5"),
        "europe": D(15),
        "asia": D("7.5"),
        UNKNOWN: D(30),  # GILT has no region weights, MYSTERY none at all
        CASH: D(10),
    }
    by_currency = allocate(valuation, INSTRUMENTS, Dimension.CURRENCY)
    assert [(b.name, b.share) for b in by_currency.buckets] == [("GBP", HUNDRED)]
    by_account = allocate(valuation, INSTRUMENTS, Dimension.ACCOUNT)
    assert [(b.name, b.value) for b in by_account.buckets] == [("isa", D(10000))]


def test_weights_that_do_not_add_up_to_100_are_refused() -> None:
    broken = {"VWRL": Instrument("VWRL", "x", InstrumentType.ETF, "GBP", weights(equity="90"))}
    with pytest.raises(InvalidInputError, match=r"VWRL: asset_class weights .* not 90"):
        allocate(_valuation(), broken, Dimension.ASSET_CLASS)


def test_drift_is_share_minus_target_and_adds_up_to_zero() -> None:
    allocation = buckets({"equity": "7000", "bond": "2000", "cash": "1000"})
    result = drift(allocation, {"equity": D(60), "bond": D(30), "property": D(10)})
    assert result == {
        "bond": D(-10),
        "cash": D(10),  # held, no target
        "equity": D(10),
        "property": D(-10),  # targeted, not held
    }
    assert sum(result.values()) == 0
    with pytest.raises(InvalidInputError, match="add up to 90, not 100"):
        drift(allocation, {"equity": D(60), "bond": D(30)})
    with pytest.raises(InvalidInputError, match="'bond': -10 is negative"):
        drift(allocation, {"equity": D(110), "bond": D(-10)})


def test_new_money_fills_the_most_underweight_first() -> None:
    # Values 1,000 / 1,200 / 2,200 (4,400) plus 600 = 5,000; targets 30/30/40 want 1,500 /
    # 1,500 / 2,000: gaps 500 / 300 / -200. "a" alone gets 200 to come level with "b"; the
    # other 400 go 200 each: a +400, b +200, c nothing.
    allocation = buckets({"a": "1000", "b": "1200", "c": "2200"})
    plan = plan_contribution(allocation, {"a": D(30), "b": D(30), "c": D(40)}, D(600))
    assert [(line.bucket, line.add, line.share_after) for line in plan.lines] == [
        ("a", D(400), D(28)),
        ("b", D(200), D(28)),
        ("c", D(0), D(44)),
    ]


def test_enough_new_money_reaches_the_targets_exactly() -> None:
    allocation = buckets({"equity": "7000", "bond": "2000", "cash": "1000"})
    targets = {"equity": D(60), "bond": D(30), "cash": D(10)}
    plan = plan_contribution(allocation, targets, D(2000))
    assert {line.bucket: line.add for line in plan.lines} == {
        "bond": D(1600),
        "cash": D(200),
        "equity": D(200),
    }
    assert all(line.share_after == line.target for line in plan.lines)


def test_an_overweight_bucket_gets_nothing_and_nothing_is_sold() -> None:
    allocation = buckets({"equity": "9000", "bond": "1000"})
    plan = plan_contribution(allocation, {"equity": D(60), "bond": D(40)}, D(1000))
    assert (plan.add("equity"), plan.add("bond")) == (D(0), D(1000))


def test_amounts_are_whole_minor_units_adding_up_to_the_contribution() -> None:
    allocation = buckets({"a": "0", "b": "0", "c": "0"})
    third = D(100) / 3
    plan = plan_contribution(allocation, {"a": third, "b": third, "c": D(100) - 2 * third}, D(100))
    assert sorted(line.add for line in plan.lines) == [D("33.33"), D("33.33"), D("33.34")]
    with pytest.raises(InvalidInputError, match="negative"):
        plan_contribution(allocation, {"a": D(100)}, D(-1))
    with pytest.raises(InvalidInputError, match="finer than"):
        plan_contribution(allocation, {"a": D(100)}, D("0.001"))


def test_water_filling_solves_boyd_and_vandenberghes_example() -> None:
    """Boyd and Vandenberghe, Convex Optimization (Cambridge University Press, 2004), section
    5.5.3, example 5.2 "Water-filling": minimise -sum log(alpha_i + x_i) subject to x >= 0,
    sum x = 1 has the solution x_i = max(0, 1/nu - alpha_i), with 1/nu the water level
    where the x_i add up to 1. With alpha = (0.2, 0.5, 1.5), the level is 0.85: x = (0.65,
    0.35, 0), and patch 3 (alpha 1.5 > 0.85) stays dry."""
    x = water_fill({"1": D("-0.2"), "2": D("-0.5"), "3": D("-1.5")}, D(1))
    assert x == {"1": D("0.65"), "2": D("0.35"), "3": D(0)}


def _distance(
    values: dict[str, Decimal], adds: dict[str, Decimal], targets: dict[str, Decimal]
) -> Decimal:
    after_total = sum(values.values()) + sum(adds.values())
    return sum(
        (values[n] + adds.get(n, D(0)) - targets[n] * after_total / HUNDRED) ** 2 for n in values
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 100)), min_size=1, max_size=6),
    st.integers(0, 10**6),
    st.lists(st.integers(0, 1000), min_size=6, max_size=6),
)
def test_no_other_split_comes_closer_to_the_targets(
    rows: list[tuple[int, int]], amount: int, other: list[int]
) -> None:
    values = {f"b{i}": D(v) for i, (v, _) in enumerate(rows)}
    weight_sum = sum(w for _, w in rows)
    targets = {f"b{i}": D(w) * HUNDRED / weight_sum for i, (_, w) in enumerate(rows)}
    after_total = sum(values.values()) + amount
    gaps = {n: targets[n] * after_total / HUNDRED - values[n] for n in values}
    best = water_fill(gaps, D(amount))
    assert all(a >= 0 for a in best.values())
    assert abs(sum(best.values()) - amount) < D("1e-12")
    # Any other way to split the same money without selling is at least as far away.
    spread = other[: len(values)]
    if sum(spread) == 0:
        spread = [1] * len(values)
    alternative = {n: D(amount) * s / sum(spread) for n, s in zip(values, spread, strict=True)}
    assert _distance(values, best, targets) <= _distance(values, alternative, targets) + D("1e-6")
