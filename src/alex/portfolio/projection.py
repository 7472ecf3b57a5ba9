"""Monte Carlo retirement projection: yearly steps, correlated lognormal returns, numpy. Pure.

Inputs are Decimal (money and rates, as the domain keeps them); they become floats once, in
:func:`project`, and the money outputs go back to Decimal through :meth:`Projection.rows`.
The method, the defaults' source and what the model leaves out are in docs/portfolio.md.

Each year t (age ``current_age + t``), for every path:

    V[t+1] = max(0, V[t] + contribution[t] - spending[t]) * (sum_i w_i * G_i[t]) * (1 - fee)

with ``w`` the starting mix (rebalanced to every year), ``G_i[t] = exp(X_i[t])`` and
``X[t] ~ N(mu, Sigma)`` drawn independently each year, correlated across asset classes
through the Cholesky factor of ``Sigma``. A path whose value reaches 0 has run out of money.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from alex.domain.errors import InvalidInputError

Array = npt.NDArray[np.float64]
PERCENTILES = (10, 25, 50, 75, 90)
MIN_PATHS = 10_000


@dataclass(frozen=True)
class AssetClassAssumption:
    """One asset class's yearly return: ``compound_return`` is the geometric (median) annual
    return, ``volatility`` the standard deviation of the simple annual return; both as
    fractions (0.067 = 6.7 %)."""

    compound_return: Decimal
    volatility: Decimal


# Defaults: J.P. Morgan Asset Management, "2026 Long-Term Capital Market Assumptions" (30th
# edition, released 20 October 2025, as of 30 September 2025; 10-15 year horizon), "Assumption
# matrix: U.S. dollar", table "2026 estimates and correlations": rows U.S. Large Cap, U.S.
# Aggregate Bonds, U.S. Cash, U.S. Inflation. Compound returns and annualized volatilities as
# printed; the matrix's arithmetic returns (7.94 %, 4.91 %, 3.10 %) are what
# lognormal_parameters gives back from them. How each figure was checked: docs/portfolio.md
# ("Assumptions and sources").
DEFAULT_ASSUMPTIONS: Mapping[str, AssetClassAssumption] = {
    "equity": AssetClassAssumption(Decimal("0.067"), Decimal("0.1647")),
    "bond": AssetClassAssumption(Decimal("0.048"), Decimal("0.0476")),
    "cash": AssetClassAssumption(Decimal("0.031"), Decimal("0.0067")),
}
DEFAULT_CORRELATIONS: Mapping[tuple[str, str], Decimal] = {
    ("equity", "bond"): Decimal("0.30"),
    ("equity", "cash"): Decimal("0.01"),
    ("bond", "cash"): Decimal("0.10"),
}
DEFAULT_INFLATION = Decimal("0.025")


@dataclass(frozen=True)
class ProjectionInputs:
    """Everything the projection needs. Money in the portfolio's currency, rates as fractions.

    ``holdings``: value today by asset class ("equity", "bond", "cash" or any class that has
    an entry in ``assumptions``). ``mix``: shares by asset class for rebalancing and new
    money; ``None`` keeps today's proportions. ``contribution``: paid in at the start of
    each year, growing by ``contribution_growth`` a year, while the age is below
    ``contribution_until_age`` (default: ``retirement_age``). ``spending``: withdrawn at the
    start of each year from ``retirement_age`` on, in today's money (grown by ``inflation``).
    ``fee``: a yearly charge on the whole portfolio. The projection runs until ``end_age``.
    """

    holdings: Mapping[str, Decimal]
    current_age: int
    retirement_age: int
    end_age: int = 95
    contribution: Decimal = Decimal(0)
    contribution_growth: Decimal = Decimal(0)
    contribution_until_age: int | None = None
    spending: Decimal = Decimal(0)
    inflation: Decimal = DEFAULT_INFLATION
    fee: Decimal = Decimal(0)
    mix: Mapping[str, Decimal] | None = None
    assumptions: Mapping[str, AssetClassAssumption] = field(
        default_factory=lambda: dict(DEFAULT_ASSUMPTIONS)
    )
    correlations: Mapping[tuple[str, str], Decimal] = field(
        default_factory=lambda: dict(DEFAULT_CORRELATIONS)
    )


@dataclass(frozen=True)
class ProjectionRow:
    age: int
    year: int
    percentiles: dict[int, Decimal]  # nominal, rounded to cents
    expected: Decimal


@dataclass(frozen=True)
class Projection:
    """Values at the start of each year t = 0..years (``ages[t]``), nominal.

    ``percentiles[p][t]``: the p-th percentile over paths; ``expected[t]``: the same
    recursion with every class at its mean return and no randomness; ``deflator[t]``:
    (1 + inflation)^t, to show any figure in today's money. ``success_probability``: share
    of paths that never ran out before ``end_age``. ``depletion_age_p10``: the first age by
    which at least 10 % of paths have run out (the 10th-percentile path's), or ``None``.
    """

    ages: Array
    percentiles: dict[int, Array]
    expected: Array
    deflator: Array
    success_probability: float
    depletion_age_p10: int | None
    depleted_share: Array  # share of paths run out by each age
    paths: int
    seed: int

    @property
    def years(self) -> int:
        return len(self.ages) - 1

    def rows(self) -> list[ProjectionRow]:
        """The table as Decimal money, rounded to cents (the float-to-money boundary)."""
        return [
            ProjectionRow(
                age=int(self.ages[t]),
                year=t,
                percentiles={p: _cents(self.percentiles[p][t]) for p in PERCENTILES},
                expected=_cents(self.expected[t]),
            )
            for t in range(len(self.ages))
        ]


def _cents(value: float) -> Decimal:
    return Decimal(repr(round(float(value), 2))).quantize(Decimal("0.01"))


def lognormal_parameters(compound_return: float, volatility: float) -> tuple[float, float]:
    """(mu, sigma) of log(1 + R) for a lognormal gross return with median 1 + g and standard
    deviation s of R: x = exp(sigma^2) solves x (x - 1) = (s / (1 + g))^2."""
    ratio = (volatility / (1 + compound_return)) ** 2
    sigma2 = math.log((1 + math.sqrt(1 + 4 * ratio)) / 2)
    return math.log1p(compound_return), math.sqrt(sigma2)


def _log_covariance(
    names: Sequence[str],
    assumptions: Mapping[str, AssetClassAssumption],
    correlations: Mapping[tuple[str, str], Decimal],
) -> tuple[Array, Array, Array]:
    """mu, sigma and the covariance of the log returns. A correlation rho of simple returns
    maps exactly to log(1 + rho * cv_i * cv_j) / (sigma_i * sigma_j), cv = s / (1 + mean)."""
    params = [
        lognormal_parameters(
            float(assumptions[n].compound_return), float(assumptions[n].volatility)
        )
        for n in names
    ]
    mu = np.array([m for m, _ in params])
    sigma = np.array([s for _, s in params])
    mean = np.exp(mu + sigma**2 / 2)  # 1 + arithmetic mean
    cv = np.array([float(assumptions[n].volatility) for n in names]) / mean
    cov = np.diag(sigma**2)
    for i, a in enumerate(names):
        for j, b in enumerate(names[:i]):
            rho = correlations.get((a, b), correlations.get((b, a), Decimal(0)))
            if not -1 <= rho <= 1:
                raise InvalidInputError(f"correlation {a}/{b}: must be between -1 and 1")
            cov[i, j] = cov[j, i] = math.log1p(float(rho) * cv[i] * cv[j])
    return mu, sigma, cov


def _validate(inputs: ProjectionInputs) -> tuple[list[str], Array]:
    if not 0 <= inputs.current_age < inputs.end_age <= 130:
        raise InvalidInputError("current_age: must be at least 0 and below end_age (at most 130)")
    if not inputs.current_age <= inputs.retirement_age:
        raise InvalidInputError("retirement_age: must not be before current_age")
    if inputs.fee < 0 or inputs.fee >= 1:
        raise InvalidInputError("fee: must be at least 0 and below 1 (a fraction a year)")
    for name in ("contribution", "spending"):
        if getattr(inputs, name) < 0:
            raise InvalidInputError(f"{name}: must not be negative")
    weights_in = inputs.mix if inputs.mix is not None else inputs.holdings
    names = sorted(set(inputs.holdings) | set(weights_in))
    for name in names:
        if name not in inputs.assumptions:
            raise InvalidInputError(f"asset class {name!r}: no return assumption for it")
        if inputs.holdings.get(name, Decimal(0)) < 0 or weights_in.get(name, Decimal(0)) < 0:
            raise InvalidInputError(f"asset class {name!r}: value and mix must not be negative")
        if (
            inputs.assumptions[name].volatility < 0
            or inputs.assumptions[name].compound_return <= -1
        ):
            raise InvalidInputError(f"asset class {name!r}: volatility >= 0, return > -100%")
    total = sum((weights_in.get(n, Decimal(0)) for n in names), Decimal(0))
    if total <= 0:
        raise InvalidInputError("mix: give a mix when the portfolio holds nothing yet")
    weights = np.array([float(weights_in.get(n, Decimal(0)) / total) for n in names])
    return names, weights


def _flows(inputs: ProjectionInputs, years: int) -> tuple[Array, Array]:
    """Contribution and spending paid at the start of each year t = 0..years-1, nominal."""
    ages = inputs.current_age + np.arange(years)
    until = inputs.contribution_until_age
    stop = min(inputs.retirement_age, until if until is not None else inputs.retirement_age)
    t = np.arange(years, dtype=np.float64)
    contribution = np.where(
        ages < stop, float(inputs.contribution) * (1 + float(inputs.contribution_growth)) ** t, 0.0
    )
    spending = np.where(
        ages >= inputs.retirement_age,
        float(inputs.spending) * (1 + float(inputs.inflation)) ** t,
        0.0,
    )
    return contribution, spending


def _run(start: Array, growth: Array, contribution: Array, spending: Array, fee: float) -> Array:
    """Values (paths, years + 1) from per-path yearly portfolio growth factors (paths, years)."""
    paths, years = growth.shape
    values = np.empty((paths, years + 1))
    values[:, 0] = start
    keep = 1 - fee
    for t in range(years):  # the recursion is sequential in time, vectorised across paths
        invested = np.maximum(values[:, t] + contribution[t] - spending[t], 0.0)
        values[:, t + 1] = invested * growth[:, t] * keep
    return values


def project(inputs: ProjectionInputs, paths: int = MIN_PATHS, seed: int = 0) -> Projection:
    """Run the projection. The same ``seed`` gives the same numbers on every OS: numpy's
    ``default_rng`` (PCG64) and its normal sampler are platform-independent (for one numpy
    version: numpy's NEP 19 lets the stream change between releases)."""
    if paths < MIN_PATHS:
        raise InvalidInputError(f"paths: at least {MIN_PATHS}")
    names, weights = _validate(inputs)
    years = inputs.end_age - inputs.current_age
    mu, sigma, cov = _log_covariance(names, inputs.assumptions, inputs.correlations)
    # Zero-volatility classes have zero rows: factor only the random ones.
    live = sigma > 0
    shocks = np.zeros((paths, years, len(names)))
    if live.any():
        try:
            factor = np.linalg.cholesky(cov[np.ix_(live, live)])
        except np.linalg.LinAlgError:
            raise InvalidInputError(
                "correlations: the matrix is not positive definite (no such market exists)"
            ) from None
        rng = np.random.default_rng(seed)
        normals = rng.standard_normal((paths, years, int(live.sum())))
        shocks[:, :, live] = normals @ factor.T
    portfolio_growth = np.exp(mu + shocks) @ weights
    contribution, spending = _flows(inputs, years)
    start = float(sum(inputs.holdings.values(), Decimal(0)))
    fee = float(inputs.fee)
    values = _run(np.full(paths, start), portfolio_growth, contribution, spending, fee)
    mean_growth = float(np.exp(mu + sigma**2 / 2) @ weights)
    expected = _run(
        np.array([start]), np.full((1, years), mean_growth), contribution, spending, fee
    )[0]
    # Run out: the year's spending could not be paid in full (a path at 0 stays there).
    needs = np.concatenate([spending, [0.0]])
    short = (values + np.concatenate([contribution, [0.0]]) < needs - 1e-9) & (needs > 0)
    ran_out = np.logical_or.accumulate(short, axis=1)
    depleted_share = ran_out.mean(axis=0)
    ages = inputs.current_age + np.arange(years + 1)
    hit = np.flatnonzero(depleted_share >= 0.10)
    return Projection(
        ages=ages.astype(np.float64),
        percentiles={p: np.percentile(values, p, axis=0) for p in PERCENTILES},
        expected=expected,
        deflator=(1 + float(inputs.inflation)) ** np.arange(years + 1, dtype=np.float64),
        success_probability=float(1 - depleted_share[-1]),
        depletion_age_p10=int(ages[hit[0]]) if hit.size else None,
        depleted_share=depleted_share,
        paths=paths,
        seed=seed,
    )
