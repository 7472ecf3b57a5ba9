"""The figure set of the sample household: every figure equals what the portfolio core
computed, the lookups agree with the view, the prompt is JSON, and every number the X-ray
writes is one of the figures."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from alex.planner.figures import Figure, FigureSet, Unit, figure_set
from alex.planner.number_check import check_text
from alex.portfolio.allocation import Dimension
from alex.portfolio.service import PortfolioService
from tests.support.planner_household import household_figures, household_service


@pytest.fixture(scope="module")
def service() -> PortfolioService:
    return household_service()


@pytest.fixture(scope="module")
def figures(service: PortfolioService) -> FigureSet:
    return household_figures(service)


def test_figures_are_the_views_values_exact(service: PortfolioService, figures: FigureSet) -> None:
    view = service.show()
    assert figures["total.value"].value == view.valuation.total.known
    assert figures["as_of"].value == view.as_of
    for dimension, allocation in view.allocations.items():
        for bucket in allocation.buckets:
            assert figures[f"allocation.{dimension.value}.{bucket.name}"].value == bucket.share
            assert (
                figures[f"allocation.{dimension.value}.{bucket.name}.value"].value == bucket.value
            )
    for dimension, drifts in view.drift.items():
        for name, drift in drifts.items():
            assert figures[f"drift.{dimension.value}.{name}"].value == drift
    held = {h.holding.symbol for h in view.valuation.holdings}
    assert figures["holdings.count"].value == len(held)
    value = sum(
        (h.value_in_base or 0 for h in view.valuation.holdings if h.holding.symbol == "MTUS"),
        Decimal(0),
    )
    assert figures["holding.MTUS.value"].value == value
    assert figures["holding.MTUS.share"].value == value * 100 / view.valuation.total.known


def test_the_lookups_name_the_largest_holding_and_the_biggest_drift(
    service: PortfolioService, figures: FigureSet
) -> None:
    view = service.show()
    by_symbol: dict[str, Decimal] = {}
    for held in view.valuation.holdings:
        by_symbol[held.holding.symbol] = by_symbol.get(held.holding.symbol, Decimal(0)) + (
            held.value_in_base or Decimal(0)
        )
    assert figures.largest_holding == max(by_symbol, key=lambda s: by_symbol[s])
    drifts = [
        (abs(drift), dimension.value, bucket)
        for dimension, values in view.drift.items()
        for bucket, drift in values.items()
    ]
    _, dimension, bucket = max(drifts)
    biggest = figures.biggest_drift
    assert biggest is not None and (biggest.dimension, biggest.bucket) == (dimension, bucket)
    assert figures.drift(dimension, bucket) == view.drift[Dimension(dimension)][bucket]
    assert figures.fired == tuple(f.rule for f in service.xray().findings)


def test_figures_are_shown_rounded_with_their_unit(figures: FigureSet) -> None:
    shown = {key: figures[key].text for key in figures.figures}
    assert shown["total.value"] == "171,235.92 USD"
    assert shown["allocation.asset_class.bond"] == "17.39%"
    assert shown["drift.asset_class.bond"] == "-12.61 pp"
    assert shown["drift.region.north_america"] == "+14.09 pp"
    assert shown["holding.KEUR.local_value"] == "7,062.00 EUR"
    assert shown["projection.retirement_age"] == "age 65"
    assert shown["xray.cash_drag.threshold"] == "10%"
    assert shown["as_of"] == "2026-12-03"
    assert figures["projection.p50.age_65"].places == 0  # whole units: cents are noise


def test_the_prompt_is_json_with_every_figure_and_the_lookups(figures: FigureSet) -> None:
    prompt = json.loads(json.dumps(figures.as_prompt()))
    assert set(prompt["figures"]) == set(figures.figures)
    assert prompt["figures"]["total.value"]["text"] == "171,235.92 USD"
    assert prompt["largest_holding"]["symbol"] == figures.largest_holding
    assert prompt["largest_holding"]["share"] == figures["holding.MTUS.share"].text
    assert prompt["biggest_drift"]["drift"] == "+14.09 pp"
    assert {f["rule"] for f in prompt["findings"]} == set(figures.fired)
    retirement = figures.as_prompt(only=("projection.",))
    assert retirement["figures"] and all(k.startswith("projection.") for k in retirement["figures"])


def test_every_figure_as_shown_passes_the_number_check(figures: FigureSet) -> None:
    """A report that copies the display texts loses nothing."""
    text = "\n".join(f"- {figure.label}: {figure.text}." for figure in figures)
    checked = check_text(text, figures)
    assert checked.unmatched == 0, [s.unmatched for s in checked.removed]
    assert checked.numbers >= len(figures)


@pytest.mark.parametrize(
    "thresholds",
    [
        {},
        {"single_holding": Decimal(2), "sector": Decimal(15), "currency": Decimal(5)},
        {"account": Decimal(30), "fee_drag": Decimal("0.001"), "emergency_fund": Decimal(6)},
    ],
)
def test_every_number_the_xray_writes_is_a_figure(
    service: PortfolioService, thresholds: dict[str, Decimal]
) -> None:
    settings = replace(service.settings(), risk_thresholds=thresholds)
    service.store.put_settings(settings)
    try:
        xray = service.xray()
        figures = figure_set(service.show(), xray)
        assert xray.findings
        for finding in xray.findings:
            checked = check_text(finding.message, figures)
            assert checked.unmatched == 0, (finding.rule, [s.unmatched for s in checked.removed])
    finally:
        service.store.put_settings(replace(settings, risk_thresholds={}))


def test_without_a_projection_there_are_no_projection_figures(service: PortfolioService) -> None:
    figures = figure_set(service.show(), service.xray())
    assert not [key for key in figures.figures if key.startswith("projection.")]
    assert figures.get("total.value") is not None


def test_a_date_figure_has_no_number() -> None:
    day = Figure("as_of", "Valuation date", date(2026, 12, 3), Unit.DATE)
    assert day.text == "2026-12-03"
    with pytest.raises(TypeError):
        _ = day.number
