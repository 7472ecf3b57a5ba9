"""The sample household with the planner fixture's setup (tests/fixtures/planner/household.json):
its figure set, for the planner's tests and bench/planner_check.py."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from alex.planner.figures import FigureSet, figure_set
from alex.portfolio.service import PortfolioService, ProjectionPlan
from tests.fakes.portfolio import InMemoryPortfolioStore

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "portfolio"
FIXTURES = ROOT / "tests" / "fixtures" / "planner"


def setup() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / "household.json").read_text("utf-8"))
    return loaded


def household_service(as_of: date | None = None) -> PortfolioService:
    """The sample household imported, with the fixture's targets and monthly spending."""
    chosen = setup()
    day = as_of or date.fromisoformat(chosen["as_of"])
    service = PortfolioService(InMemoryPortfolioStore(), today=lambda: day)
    service.files.import_files(
        [(path.name, path.read_text("utf-8")) for path in sorted(SAMPLES.glob("*.csv"))]
    )
    for dimension, weights in chosen["targets"].items():
        service.set_target(dimension, {name: Decimal(share) for name, share in weights.items()})
    service.update_settings(monthly_spending=Decimal(chosen["monthly_spending"]))
    return service


def store_plan(service: PortfolioService) -> None:
    """The fixture's retirement plan kept in the settings (as `alex portfolio settings`
    keeps it), so a plain ``ProjectionPlan()`` projects it, as an analysis job does."""
    plan = setup()["plan"]
    service.update_settings(
        birth_year=service.show().as_of.year - plan["current_age"],
        retirement_age=plan["retirement_age"],
        end_age=plan["end_age"],
        contribution=Decimal(plan["contribution"]),
    )


def household_figures(service: PortfolioService | None = None) -> FigureSet:
    """The figure set of the household: view, X-ray and the fixture's projection."""
    chosen = setup()
    service = service or household_service()
    plan = chosen["plan"]
    projection_plan = ProjectionPlan(
        current_age=plan["current_age"],
        retirement_age=plan["retirement_age"],
        end_age=plan["end_age"],
        contribution=Decimal(plan["contribution"]),
    )
    return figure_set(
        service.show(), service.xray(), service.project(projection_plan, seed=chosen["seed"])
    )
