"""``written_step``: the precision a figure was written with, which the planner's number check
rounds a computed figure to before comparing (the researcher's check never rounds)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alex.domain.figures import figures_in, written_step


def steps(text: str, *, round_zeros: bool = False) -> list[Decimal | None]:
    return [written_step(f, round_zeros=round_zeros) for f in figures_in(text)]


@pytest.mark.parametrize(
    ("text", "step"),
    [
        ("$171k", Decimal(1000)),
        ("17.4%", Decimal("0.1")),
        ("0.17 million", Decimal(10000)),
        ("$171,236", Decimal(1)),
        ("EUR 7,062.00", Decimal("0.01")),  # the value reads 7062; the text keeps its cents
        ("$1.27m", Decimal(10000)),
        ("12.61 percentage points", Decimal("0.01")),
        ("$170,000", Decimal(1)),  # zeros are digits unless asked
        ("0%", Decimal(1)),
    ],
)
def test_the_step_is_the_last_written_digit_in_the_values_terms(text: str, step: Decimal) -> None:
    assert steps(text) == [step]


def test_a_range_end_takes_the_scale_carried_to_it() -> None:
    assert steps("$425 to $445 million") == [Decimal(10**6), Decimal(10**6)]


@pytest.mark.parametrize(
    ("text", "step"),
    [
        ("$170,000", Decimal(10000)),
        ("$200k", Decimal(10000)),
        ("2,000", Decimal(100)),
        ("60", Decimal(1)),  # two significant digits stay
        ("100", Decimal(10)),
        ("$171,236", Decimal(1)),
        ("$2,000.00", Decimal("0.01")),  # written cents are exact
    ],
)
def test_round_zeros_reads_trailing_zeros_as_rounding(text: str, step: Decimal) -> None:
    assert steps(text, round_zeros=True) == [step]


@pytest.mark.parametrize("text", ["3-3/4%", "FY26", "Q3", "4:30 p.m.", "June 30"])
def test_no_step_for_what_is_not_a_plain_written_quantity(text: str) -> None:
    assert None in steps(text)
