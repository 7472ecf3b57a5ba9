"""Scripted answers of the planner's agents and an analysis run on the sample household, for
the planner's tests (tests/unit/test_planner_analysis.py and the doors' tests).

A job on the sample household asks the model three times: the tagger about HAGB (its sector
is unknown), the reporter, then the retirement writer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from alex.config import Settings
from alex.ingest import IngestService
from alex.planner.service import AnalysisService
from alex.portfolio.service import PortfolioService
from alex.research.llm import ChatModel
from alex.research.service import ResearchService
from alex.search import SearchService
from tests.fakes import (
    FakeEmbedder,
    InMemoryAnalysisJobStore,
    InMemoryReportStore,
    InMemoryVectorStore,
)
from tests.scripted_model import Reply, ScriptedModel, chat_model, text
from tests.support.planner_household import household_service, store_plan


def tagger_reply(**changes: Any) -> Reply:
    """The tagger's answer for HAGB (a bond fund), with ``changes``."""
    body: dict[str, Any] = {
        "asset_class": [{"bucket": "bond", "percent": 100}],
        "region": [{"bucket": "north_america", "percent": 100}],
        "sector": [
            {"bucket": "government", "percent": 45},
            {"bucket": "financials", "percent": 30},
            {"bucket": "other", "percent": 25},
        ],
        "confidence": 0.8,
        "reason": "An aggregate bond index fund: mostly US government and corporate debt.",
    }
    body.update(changes)
    return text(json.dumps(body))


def action(about: str, what: str, reason: str) -> dict[str, str]:
    return {"about": about, "action": what, "reason": reason}


def report_reply(**changes: Any) -> Reply:
    """The reporter's answer, every number in it one of the household's figures."""
    body: dict[str, Any] = {
        "summary": "Your portfolio is worth $171k. MTUS is 45.62% of it.",
        "changes": "This is the first report.",
        "strengths": ["Costs are low and the bond fund HAGB steadies the portfolio."],
        "risks": ["Cash is 10.95% of the portfolio, over the 10% limit."],
        "actions": [
            action(
                "region.north_america",
                "Trim MTUS",
                "North America is 74.09% of the portfolio against a 60% target.",
            )
        ],
    }
    body.update(changes)
    return text(json.dumps(body))


def retirement_reply(**changes: Any) -> Reply:
    body: dict[str, Any] = {
        "summary": "The projection runs from age 45 to age 95.",
        "points": ["It assumes 18,000 USD a year of contributions until age 65."],
    }
    body.update(changes)
    return text(json.dumps(body))


def job_replies() -> list[Reply]:
    """A whole job's answers: tagger, reporter, retirement writer."""
    return [tagger_reply(), report_reply(), retirement_reply()]


def analysis_service(
    settings: Settings, model: ScriptedModel, portfolio: PortfolioService | None = None
) -> AnalysisService:
    """The planner's use cases on the fakes, with ``model`` as the chat model and the sample
    household (valued on the fixture's day, its plan in the settings) as the portfolio."""
    if portfolio is None:
        portfolio = household_service()
        store_plan(portfolio)
    embedder, store = FakeEmbedder(), InMemoryVectorStore()
    ingest = IngestService(embedder, store, settings.limits, settings.chunk_overlap)
    search = SearchService(embedder, store, settings.limits)
    research = ResearchService(settings, ingest, search, opener(model))
    return AnalysisService(
        settings,
        portfolio,
        research,
        ingest,
        search,
        InMemoryAnalysisJobStore(),
        InMemoryReportStore(),
        launch=lambda job_id: None,  # the test runs it
    )


def opener(model: ScriptedModel) -> Callable[[Any], Any]:
    return lambda settings: nullcontext(offline_like(model))


def offline_like(model: ScriptedModel) -> ChatModel:
    """``model`` with the offline model's traits: no tools, a small context."""
    return chat_model(model, tools=False)
