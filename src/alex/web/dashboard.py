"""The dashboard's figures: one read of the portfolio (``PortfolioService.overview``), shaped
by :mod:`alex.portfolio.summary` exactly as ``alex portfolio show --json`` and ``xray --json``
shape them, so the page shows the same figures and text as the CLI and the JSON API."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from alex.portfolio.allocation import Dimension
from alex.portfolio.summary import view_json, xray_json
from alex.services import Services

# The allocations the dashboard tables (and, next, charts) show, in this order; by account
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
    dimensions: tuple[tuple[str, str], ...] = DIMENSIONS

    @property
    def empty(self) -> bool:
        return not self.portfolio["accounts"] and not self.portfolio["transactions"]

    @property
    def drift(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """(dimension label, buckets with a target) for each dimension that has targets."""
        found = []
        for key, label in self.dimensions:
            buckets = self.portfolio["allocations"][key]["buckets"]
            targeted = [b for b in buckets if b["target"] is not None]
            if targeted:
                found.append((label, targeted))
        return found


def _base_value(holding: dict[str, Any]) -> Decimal:
    value = holding["value_in_base"]
    return Decimal(value) if value is not None else Decimal(0)


def dashboard(services: Services) -> Dashboard:
    """The dashboard of today's portfolio."""
    view, xray = services.portfolio.overview()
    portfolio = view_json(view)
    largest = sorted(portfolio["holdings"], key=_base_value, reverse=True)[:LARGEST_POSITIONS]
    return Dashboard(portfolio, xray_json(xray), largest)
