"""The retirement projection against closed forms: the future value of contributions with
no volatility, and the lognormal median with volatility."""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np
import pytest

from alex.domain.errors import InvalidInputError
from alex.portfolio.projection import (
    DEFAULT_ASSUMPTIONS,
    AssetClassAssumption,
    ProjectionInputs,
    lognormal_parameters,
    project,
)


def one_class(compound: str, volatility: str) -> dict[str, AssetClassAssumption]:
    return {"fund": AssetClassAssumption(Decimal(compound), Decimal(volatility))}


def growing_annuity_due(
    start: Decimal, payment: Decimal, rate: Decimal, fee: Decimal, growth: Decimal, years: int
) -> Decimal:
    """Closed-form future value (any textbook's growing annuity due, e.g. Brealey, Myers &
    Allen, "Principles of Corporate Finance", ch. 2): the start grows by g = (1 + r)(1 - fee)
    a year; payments P(1 + k)^t at the start of years t = 0..n-1:
    FV = V0 g^n + P g (g^n - (1 + k)^n) / (g - (1 + k))."""
    with localcontext() as ctx:
        ctx.prec = 40
        g = (1 + rate) * (1 - fee)
        k = 1 + growth
        return start * g**years + payment * g * (g**years - k**years) / (g - k)


@pytest.mark.parametrize(
    ("start", "payment", "rate", "fee", "growth", "years"),
    [
        ("0", "10000", "0.05", "0", "0", 40),
        ("250000", "12000", "0.07", "0.004", "0.03", 30),
        ("1000", "500", "0.02", "0.01", "0.05", 25),
    ],
)
def test_zero_volatility_equals_the_future_value_of_the_contributions_to_the_cent(
    start: str, payment: str, rate: str, fee: str, growth: str, years: int
) -> None:
    inputs = ProjectionInputs(
        holdings={"fund": Decimal(start)},
        mix={"fund": Decimal(1)},
        current_age=30,
        retirement_age=30 + years,
        end_age=30 + years,
        contribution=Decimal(payment),
        contribution_growth=Decimal(growth),
        fee=Decimal(fee),
        assumptions=one_class(rate, "0"),
    )
    result = project(inputs, seed=7)
    closed = growing_annuity_due(
        Decimal(start), Decimal(payment), Decimal(rate), Decimal(fee), Decimal(growth), years
    ).quantize(Decimal("0.01"))
    last = result.rows()[-1]
    assert last.expected == closed
    assert set(last.percentiles.values()) == {closed}
    assert result.success_probability == 1.0


def test_lognormal_median_terminal_value_is_within_one_percent_of_the_closed_form() -> None:
    """One asset, no flows: V_T = V0 exp(sum of T normal log returns), whose median is
    V0 exp(mu T) with mu = ln(1 + compound return). At 100,000 paths over 20 years the
    sampling error of the median is about 0.26 %, so 1 % is a real test, not a coin toss."""
    compound, volatility, years = 0.079, 0.1625, 20
    inputs = ProjectionInputs(
        holdings={"fund": Decimal(100000)},
        current_age=40,
        retirement_age=40 + years,
        end_age=40 + years,
        assumptions=one_class(str(compound), str(volatility)),
    )
    result = project(inputs, paths=100_000, seed=2024)
    mu, _ = lognormal_parameters(compound, volatility)
    closed = 100000 * math.exp(mu * years)
    assert abs(result.percentiles[50][-1] / closed - 1) < 0.01


def test_lognormal_parameters_give_back_the_stated_volatility_and_median() -> None:
    """exp(mu) is the median gross return; the lognormal's standard deviation,
    (1 + mean) sqrt(exp(sigma^2) - 1) with 1 + mean = exp(mu + sigma^2 / 2), is the input."""
    mu, sigma = lognormal_parameters(0.079, 0.1625)
    assert math.isclose(math.exp(mu), 1.079)
    std = math.exp(mu + sigma**2 / 2) * math.sqrt(math.exp(sigma**2) - 1)
    assert math.isclose(std, 0.1625)


def sample_household(spending: str = "60000") -> ProjectionInputs:
    return ProjectionInputs(
        holdings={"equity": Decimal(300000), "bond": Decimal(150000), "cash": Decimal(50000)},
        current_age=45,
        retirement_age=65,
        contribution=Decimal(20000),
        spending=Decimal(spending),
        fee=Decimal("0.003"),
    )


def test_same_seed_gives_identical_arrays_and_different_seeds_differ() -> None:
    first, again, other = (project(sample_household(), seed=s) for s in (11, 11, 12))
    for p in first.percentiles:
        assert np.array_equal(first.percentiles[p], again.percentiles[p])
        assert not np.array_equal(first.percentiles[p][1:], other.percentiles[p][1:])
    assert first.success_probability == again.success_probability


def test_percentiles_are_ordered_and_spending_more_fails_more() -> None:
    modest, lavish = project(sample_household("40000")), project(sample_household("150000"))
    table = np.array([modest.percentiles[p] for p in (10, 25, 50, 75, 90)])
    assert (np.diff(table, axis=0) >= 0).all()
    assert lavish.success_probability < modest.success_probability
    assert lavish.depletion_age_p10 is not None
    assert lavish.depletion_age_p10 >= 65


def test_money_runs_out_when_the_arithmetic_says_so() -> None:
    """No growth, no inflation: 100,000 pays 10,000 a year for ten years (ages 65-74); at 75
    nothing is left, in every path."""
    inputs = ProjectionInputs(
        holdings={"fund": Decimal(100000)},
        current_age=65,
        retirement_age=65,
        end_age=90,
        spending=Decimal(10000),
        inflation=Decimal(0),
        assumptions=one_class("0", "0"),
    )
    result = project(inputs)
    assert result.depletion_age_p10 == 75
    assert result.success_probability == 0.0
    assert result.rows()[10].expected == Decimal("0.00")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"holdings": {"gold": Decimal(1)}}, "asset class 'gold'"),
        ({"retirement_age": 40}, "retirement_age"),
        ({"fee": Decimal("1.5")}, "fee"),
        ({"spending": Decimal(-1)}, "spending"),
        ({"correlations": {("equity", "bond"): Decimal("1.5")}}, "correlation equity/bond"),
        (
            {
                "correlations": {
                    ("equity", "bond"): Decimal("0.9"),
                    ("equity", "cash"): Decimal("0.9"),
                    ("bond", "cash"): Decimal("-0.9"),
                }
            },
            "positive definite",
        ),
    ],
)
def test_bad_inputs_name_the_field(change: dict[str, object], message: str) -> None:
    fields = {**sample_household().__dict__, **change}
    with pytest.raises(InvalidInputError, match=message):
        project(ProjectionInputs(**fields))  # type: ignore[arg-type]


def test_fewer_than_ten_thousand_paths_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="paths"):
        project(sample_household(), paths=500)


def test_defaults_cover_the_classes_the_sample_household_uses() -> None:
    assert {"equity", "bond", "cash"} <= set(DEFAULT_ASSUMPTIONS)
