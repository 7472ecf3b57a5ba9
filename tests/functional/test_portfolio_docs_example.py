"""docs/portfolio.md's worked example of `show` and `project` on the sample household is what
the code computes: the figures in the text are regenerated here, so the docs cannot drift."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

from alex.portfolio.service import PortfolioService, ProjectionPlan
from tests.fakes.portfolio import InMemoryPortfolioStore

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "portfolio.md").read_text("utf-8")
DAY = date(2026, 12, 3)


def _service() -> PortfolioService:
    service = PortfolioService(InMemoryPortfolioStore(), today=lambda: DAY)
    samples = sorted((ROOT / "samples" / "portfolio").glob("*.csv"))
    service.files.import_files([(path.name, path.read_text("utf-8")) for path in samples])
    targets = {"equity": Decimal(60), "bond": Decimal(30), "cash": Decimal(10)}
    service.set_target("asset_class", targets)
    return service


def _section(start: str, end: str) -> str:
    return DOC[DOC.index(start) : DOC.index(end, DOC.index(start))]


def test_the_show_example_is_the_sample_household_on_its_day() -> None:
    view = _service().show()
    table = _section("| bucket | value (USD)", "Drift is share")
    allocation = view.allocations["asset_class"]
    drift = view.drift["asset_class"]
    for bucket in ("equity", "bond", "cash"):
        (found,) = [b for b in allocation.buckets if b.name == bucket]
        share, value = found.share, found.value
        signed = f"{drift[bucket]:+.2f}".replace("-", "\N{MINUS SIGN}")
        row = f"| {bucket} | {value:,.2f} | {share:.2f} | "
        assert row in table, row
        assert re.search(rf"\| {bucket} \|.*\| {re.escape(signed)} \|", table), (bucket, signed)
    assert f"| total | {view.valuation.total.value:,.2f} |" in table


def test_the_projection_example_is_what_that_seed_prints() -> None:
    plan = ProjectionPlan(current_age=45, contribution=Decimal(10000), spending=Decimal(40000))
    result = _service().project(plan, seed=1)
    text = _section("**`alex portfolio project`**", "The same seed prints")
    (at_65,) = [row for row in result.projection.rows() if row.age == 65]
    for percentile in (10, 50, 90):
        assert f"{at_65.percentiles[percentile]:,.2f}" in text, percentile
    assert (
        f"success probability {result.projection.success_probability:.1%}".replace("%", " %")
        in text
    )
    assert f"run out by\nage {result.projection.depletion_age_p10}" in text
