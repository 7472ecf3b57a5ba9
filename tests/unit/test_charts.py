"""The chart specs (``alex.planner.charts``) on the sample household: each one valid
Vega-Lite 6.4.1 (the schema from npm, tests/fixtures/vega-lite), its data equal to the figures
the portfolio core computed (Decimal for Decimal), and its table view."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from alex.planner.charts import (
    CHARTED,
    SCHEMA,
    VEGA_LITE_VERSION,
    allocation_chart,
    chart_table,
    history_chart,
    portfolio_charts,
)
from alex.portfolio.allocation import Allocation, Bucket, Dimension
from alex.portfolio.history import HistoryPoint, ValueHistory
from alex.portfolio.service import PortfolioProjection, PortfolioService, ProjectionPlan
from alex.portfolio.valuation import Total
from tests.fakes.portfolio import InMemoryPortfolioStore

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "portfolio"
SCHEMA_FILE = ROOT / "tests" / "fixtures" / "vega-lite" / "vega-lite-schema-6.4.1.json"
TODAY = date(2026, 12, 3)


@cache
def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(SCHEMA_FILE.read_text("utf-8")))


@pytest.fixture(scope="module")
def household() -> PortfolioService:
    service = PortfolioService(InMemoryPortfolioStore(), today=lambda: TODAY)
    service.files.import_files(
        [(path.name, path.read_text("utf-8")) for path in sorted(SAMPLES.glob("*.csv"))]
    )
    service.set_target(
        "asset_class", {"equity": Decimal(60), "bond": Decimal(30), "cash": Decimal(10)}
    )
    service.set_target("region", {"north_america": Decimal(70), "europe": Decimal(30)})
    return service


@pytest.fixture(scope="module")
def projection(household: PortfolioService) -> PortfolioProjection:
    plan = ProjectionPlan(contribution=Decimal(12000), spending=Decimal(60000))
    return household.project(plan, seed=7)


@pytest.fixture(scope="module")
def charts(household: PortfolioService, projection: PortfolioProjection) -> dict[str, Any]:
    return portfolio_charts(household.show(), history=household.history(), projection=projection)


def values(spec: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = spec["data"]["values"]
    return rows


def test_every_chart_is_named_and_valid_vega_lite(charts: dict[str, Any]) -> None:
    assert list(charts) == [
        "allocation_asset_class",
        "allocation_region",
        "allocation_sector",
        "allocation_currency",
        "drift_asset_class",
        "drift_region",
        "value_over_time",
        "projection",
    ]
    for name, spec in charts.items():
        errors = [e.message for e in validator().iter_errors(spec)]
        assert not errors, (name, errors[:3])
        assert spec["$schema"] == SCHEMA and VEGA_LITE_VERSION in spec["$schema"]
        # Self-contained: the data is in the spec, nothing refers to a URL.
        assert "url" not in spec["data"] and "values" in spec["data"]
        assert "http" not in json.dumps({k: v for k, v in spec.items() if k != "$schema"})


def test_the_schema_catches_a_broken_spec(charts: dict[str, Any]) -> None:
    broken = dict(charts["allocation_asset_class"], mark="barchart")
    assert list(validator().iter_errors(broken))


def test_allocation_data_equals_the_computed_allocation(
    household: PortfolioService, charts: dict[str, Any]
) -> None:
    view = household.show()
    for dimension in CHARTED:
        allocation = view.allocations[dimension]
        rows = values(charts[f"allocation_{dimension.value}"])
        assert [r["bucket"] for r in rows] == [b.name for b in allocation.buckets]
        assert [Decimal(r["value"]) for r in rows] == [b.value for b in allocation.buckets]
        assert [Decimal(r["share"]) for r in rows] == [b.share for b in allocation.buckets]
        # Exact strings: every digit the core computed, no float in between.
        assert [r["value"] for r in rows] == [format(b.value, "f") for b in allocation.buckets]
    sector = values(charts["allocation_sector"])
    assert {r["bucket"]: r["kind"] for r in sector}["unknown"] == "unknown"
    assert sum(Decimal(r["share"]) for r in sector) == 100


def test_drift_data_equals_the_computed_drift(
    household: PortfolioService, charts: dict[str, Any]
) -> None:
    view = household.show()
    for dimension in (Dimension.ASSET_CLASS, Dimension.REGION):
        rows = values(charts[f"drift_{dimension.value}"])
        assert {r["bucket"]: Decimal(r["drift"]) for r in rows} == view.drift[dimension]
        targets = view.targets[dimension]
        for row in rows:
            assert Decimal(row["target"]) == targets.get(row["bucket"], 0)
            assert Decimal(row["share"]) == view.allocations[dimension].share(row["bucket"])
            assert row["side"] == ("over" if Decimal(row["drift"]) > 0 else "under")
    bond = next(r for r in values(charts["drift_asset_class"]) if r["bucket"] == "bond")
    assert bond["label"] == f"{view.drift[Dimension.ASSET_CLASS]['bond']:+} pp"
    assert "drift_sector" not in charts  # no target, no drift chart


def test_value_over_time_data_equals_the_history(
    household: PortfolioService, charts: dict[str, Any]
) -> None:
    history = household.history()
    rows = values(charts["value_over_time"])
    assert [r["date"] for r in rows] == [p.date.isoformat() for p in history.points]
    assert [Decimal(r["value"]) for r in rows] == [p.total.known for p in history.points]
    assert [r["status"] == "valued" for r in rows] == [p.complete for p in history.points]
    assert [r["unpriced"] for r in rows] == [len(p.total.unknown) for p in history.points]
    # The last point is today's total.
    assert Decimal(rows[-1]["value"]) == household.show().valuation.total.value


def test_fan_chart_data_equals_the_projection(
    projection: PortfolioProjection, charts: dict[str, Any]
) -> None:
    rows = values(charts["projection"])
    table = projection.projection.rows()
    assert [int(r["age"]) for r in rows] == [row.age for row in table]
    for chart_row, row in zip(rows, table, strict=True):
        for p, value in row.percentiles.items():
            assert Decimal(chart_row[f"p{p}"]) == value
        assert Decimal(chart_row["expected"]) == row.expected
    subtitle = " ".join(charts["projection"]["title"]["subtitle"])
    assert f"{projection.projection.success_probability:.1%}" in subtitle


def test_a_position_without_a_price_is_named_and_unknown_is_grey() -> None:
    allocation = Allocation(
        Dimension.SECTOR,
        "USD",
        (
            Bucket("technology", Decimal("600.5"), Decimal(60)),
            Bucket("unknown", Decimal(400), Decimal(40)),
        ),
        ("NEW in isa",),
    )
    spec = allocation_chart(allocation)
    assert "Left out, no price or rate yet: NEW in isa" in spec["title"]["subtitle"]
    assert [r["kind"] for r in values(spec)] == ["classified", "unknown"]
    assert not list(validator().iter_errors(spec))


def test_chart_table_shows_each_figure_as_a_reader_would() -> None:
    allocation = Allocation(
        Dimension.ASSET_CLASS,
        "JPY",
        (Bucket("equity", Decimal("1234567.5"), Decimal("61.73")),),
        (),
    )
    assert chart_table(allocation_chart(allocation)) == (
        ["Asset class", "Value (JPY)", "Share (%)"],
        [["equity", "1,234,568", "61.73%"]],
    )
    history = ValueHistory(
        "USD",
        (
            HistoryPoint(date(2024, 1, 31), Total("USD", Decimal("920")), (), ()),
            HistoryPoint(date(2024, 2, 29), Total("USD", Decimal("1000.005"), ("X in a",)), (), ()),
        ),
    )
    columns, rows = chart_table(history_chart(history))
    assert columns == ["Date", "Value (USD)", "Status", "Positions without a price"]
    assert rows == [
        ["2024-01-31", "920.00", "valued", "0"],
        ["2024-02-29", "1,000.00", "partly valued", "1"],
    ]


def test_the_drift_table_signs_points(charts: dict[str, Any], household: PortfolioService) -> None:
    columns, rows = chart_table(charts["drift_asset_class"])
    assert columns == ["Asset class", "Share (%)", "Target (%)", "Drift (pp)"]
    drift = household.show().drift[Dimension.ASSET_CLASS]
    assert {row[0]: row[3] for row in rows} == {k: f"{v:+} pp" for k, v in drift.items()}
