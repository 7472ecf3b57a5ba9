"""Money-weighted (XIRR) and time-weighted returns against published worked examples."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alex.domain.errors import InvalidInputError
from alex.portfolio.returns import Valuation, money_weighted, twr, xirr

# Microsoft Support, "XIRR function" (Excel), worked example: values -10,000, 2,750, 4,250,
# 3,250, 2,750 on 1 Jan 2008, 1 Mar 2008, 30 Oct 2008, 15 Feb 2009, 1 Apr 2009 give
# 0.373362535 (37.34 %). https://support.microsoft.com/en-us/office/xirr-function-de1242ec-6477-445b-b11b-a303ad9adc9d
MICROSOFT = [
    (date(2008, 1, 1), Decimal(-10000)),
    (date(2008, 3, 1), Decimal(2750)),
    (date(2008, 10, 30), Decimal(4250)),
    (date(2009, 2, 15), Decimal(3250)),
    (date(2009, 4, 1), Decimal(2750)),
]


def test_xirr_matches_microsofts_worked_example() -> None:
    """Microsoft's XIRR documentation example (above): 0.373362535, to 4 decimals and
    beyond."""
    rate = xirr(MICROSOFT)
    assert round(rate, 4) == Decimal("0.3734")
    # Excel stops within 0.000001 % (1e-8), so its ninth decimal is not exact.
    assert abs(rate - Decimal("0.373362535")) < Decimal("1e-8")


def test_xirr_does_not_depend_on_the_order_of_the_flows() -> None:
    assert xirr(list(reversed(MICROSOFT))) == xirr(MICROSOFT)


def test_xirr_falls_back_to_bisection_when_newton_fails() -> None:
    """From a guess of 500 % Newton's steps overshoot below -100 %; bisection still finds
    Microsoft's rate."""
    assert abs(xirr(MICROSOFT, guess=Decimal(5)) - xirr(MICROSOFT)) < Decimal("1e-9")


@pytest.mark.parametrize(
    "flows",
    [
        [(date(2020, 1, 1), Decimal(-100)), (date(2021, 1, 1), Decimal(-5))],
        [(date(2020, 1, 1), Decimal(100)), (date(2021, 1, 1), Decimal(5))],
        [(date(2020, 1, 1), Decimal(-100))],
    ],
)
def test_xirr_without_a_sign_change_is_refused(flows: list[tuple[date, Decimal]]) -> None:
    with pytest.raises(InvalidInputError):
        xirr(flows)


# CFA Institute, "Quantitative Investment Analysis" (DeFusco, McLeavey, Pinto, Runkle; CFA
# Institute Investment Series), chapter "Discounted Cash Flow Applications", section
# "Portfolio Return Measurement": a share bought for $200 at t = 0, a second for $225 at
# t = 1, both sold for $235 at t = 2; a $5 dividend per share at t = 1 and t = 2. The text
# gives a money-weighted return of 9.39 % and a time-weighted return of 10.76 % a year
# (year 1: 15 %, year 2: 6.67 %). The same example is a CFA Level I practice question.
CFA_DATES = (date(2021, 1, 1), date(2022, 1, 1), date(2023, 1, 1))  # 365 days apart


def test_twr_matches_the_cfa_institute_worked_example() -> None:
    """Year 1: (225 + 5) / 200 = 1.15; year 2 (the dividend left, a second share came in):
    (2 x 235 + 2 x 5) / (2 x 225) = 1.0667; linked: 1.2267, 10.755 % a year; the text
    rounds the sub-period returns first and prints 10.76 %."""
    result = twr(
        [
            Valuation(CFA_DATES[0], Decimal(0), Decimal(200)),
            Valuation(CFA_DATES[1], Decimal(230), Decimal(220)),  # +225 share, -5 dividend
            Valuation(CFA_DATES[2], Decimal(480)),
        ]
    )
    assert (result.start, result.end) == (CFA_DATES[0], CFA_DATES[2])
    assert result.cumulative == (Decimal("1.15") * Decimal(480) / Decimal(450) - 1).quantize(
        Decimal("1e-10")
    )
    assert result.annualised is not None
    assert abs(result.annualised - Decimal("0.1076")) < Decimal("0.0001")


def test_money_weighted_matches_the_cfa_institute_worked_example() -> None:
    """Same example, investor's cash flows -200, -220 (share less dividend), +480: 9.39 %."""
    result = money_weighted(
        [
            (CFA_DATES[0], Decimal(-200)),
            (CFA_DATES[1], Decimal(-220)),
            (CFA_DATES[2], Decimal(480)),
        ]
    )
    assert result.annualised is not None
    assert round(result.annualised, 4) == Decimal("0.0939")


def test_twr_matches_the_cfa_quarterly_example() -> None:
    """CFA Level I practice question (reproduced at analystforum.net, "Geometric Return"):
    quarters starting at 2.0, 2.4, 2.6, 3.2 ($ millions) before flows of +0.2, +0.4, -0.2,
    +1.0 at the start of each quarter, and 4.1 at the end: 1.0909 x 0.9286 x 1.3333 x
    0.9762 - 1 = 31.85 %. The year is one period: no annualising is needed (365 days)."""
    days = [date(2023, 1, 1), date(2023, 4, 1), date(2023, 7, 1), date(2023, 10, 1)]
    flows = ["0.2", "0.4", "-0.2", "1.0"]
    values = ["2.0", "2.4", "2.6", "3.2"]
    series = [
        Valuation(d, Decimal(v), Decimal(f)) for d, v, f in zip(days, values, flows, strict=True)
    ]
    series.append(Valuation(date(2024, 1, 1), Decimal("4.1")))
    result = twr(series)
    assert round(result.cumulative, 4) == Decimal("0.3185")
    assert result.annualised == result.cumulative


def test_a_period_shorter_than_a_year_is_not_annualised() -> None:
    result = twr(
        [Valuation(date(2024, 1, 1), Decimal(100)), Valuation(date(2024, 7, 1), Decimal(110))]
    )
    assert result.cumulative == Decimal("0.1").quantize(Decimal("1e-10"))
    assert result.annualised is None


@given(
    st.lists(st.integers(min_value=50, max_value=200), min_size=2, max_size=6),
    st.integers(min_value=1, max_value=1000),
)
def test_twr_ignores_how_much_money_came_in(growth_pct: list[int], scale: int) -> None:
    """TWR depends only on the sub-period returns: the same returns with any deposits give
    the same answer (here: each sub-period's deposit multiplies the money by ``scale``)."""
    plain, funded = [], []
    value_plain = value_funded = Decimal(100)
    for i, pct in enumerate(growth_pct):
        day = date(2020, 1, 1 + i)
        flow = value_funded * (scale - 1) if i == 0 else Decimal(0)
        plain.append(Valuation(day, value_plain))
        funded.append(Valuation(day, value_funded, flow))
        value_plain = value_plain * pct / 100
        value_funded = (value_funded + flow) * pct / 100
    end = date(2020, 1, 1 + len(growth_pct))
    plain.append(Valuation(end, value_plain))
    funded.append(Valuation(end, value_funded))
    assert twr(plain).cumulative == twr(funded).cumulative


@pytest.mark.parametrize(
    ("series", "message"),
    [
        ([Valuation(date(2024, 1, 1), Decimal(1))], "at least two"),
        (
            [Valuation(date(2024, 1, 2), Decimal(1)), Valuation(date(2024, 1, 1), Decimal(1))],
            "valuation 2: date",
        ),
        (
            [Valuation(date(2024, 1, 1), Decimal(0)), Valuation(date(2024, 1, 2), Decimal(1))],
            "valuation 1: value plus flow",
        ),
        (
            [Valuation(date(2024, 1, 1), Decimal(1)), Valuation(date(2024, 1, 2), Decimal(-1))],
            "valuation 2: value must not be negative",
        ),
    ],
)
def test_bad_valuations_name_the_row(series: list[Valuation], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        twr(series)
