"""The dashboard's figures: one read of the portfolio (``PortfolioService.overview``), shaped
by :mod:`alex.portfolio.summary` exactly as ``alex portfolio show --json`` and ``xray --json``
shape them, so the page shows the same figures and text as the CLI and the JSON API."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from alex.planner.charts import portfolio_charts
from alex.portfolio.allocation import Dimension
from alex.portfolio.summary import view_json, xray_json
from alex.services import Services
from alex.web.charts import ChartView, chart_view

# The allocations the dashboard charts (each with its table) show, in this order; by account
# is its own table (value by account).
DIMENSIONS: tuple[tuple[str, str], ...] = (
    (Dimension.ASSET_CLASS.value, "Asset class"),
    (Dimension.REGION.value, "Region"),
    (Dimension.SECTOR.value, "Sector"),
    (Dimension.CURRENCY.value, "Currency"),
)
LARGEST_POSITIONS = 10


@dataclass(frozen=True)
class Dashboard:
    portfolio: dict[str, Any]  # view_json's shape
    xray: dict[str, Any]  # xray_json's shape
    largest: list[dict[str, Any]]  # the largest holdings by value in the base currency
    # By dimension key: its allocation chart, and its drift chart when it has a target.
    allocation_charts: dict[str, ChartView]
    drift_charts: dict[str, ChartView]
    dimensions: tuple[tuple[str, str], ...] = DIMENSIONS

    @property
    def empty(self) -> bool:
        return not self.portfolio["accounts"] and not self.portfolio["transactions"]


def _base_value(holding: dict[str, Any]) -> Decimal:
    value = holding["value_in_base"]
    return Decimal(value) if value is not None else Decimal(0)


def dashboard(services: Services) -> Dashboard:
    """The dashboard of today's portfolio."""
    view, xray = services.portfolio.overview()
    portfolio = view_json(view)
    largest = sorted(portfolio["holdings"], key=_base_value, reverse=True)[:LARGEST_POSITIONS]
    # The charts of the same view (alex.planner.charts): no second read of the store.
    charts = portfolio_charts(view)
    allocation, drift = {}, {}
    for key, _ in DIMENSIONS:
        allocation[key] = chart_view(f"allocation_{key}", charts[f"allocation_{key}"])
        if f"drift_{key}" in charts:
            drift[key] = chart_view(f"drift_{key}", charts[f"drift_{key}"])
    return Dashboard(portfolio, xray_json(xray), largest, allocation, drift)
