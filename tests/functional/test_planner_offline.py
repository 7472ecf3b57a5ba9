"""An analysis job end to end with the real embedded offline model on the sample household.

The ``local-llm`` extra comes with the dev group that ``uv run`` syncs; the stores are the
in-memory fakes (the model is what this test is about). The tagger, the reporter and the
retirement writer are the real model; what they write is not asserted word for word, only
what must hold whatever they write: the job completes, the headline names the largest
holding and the biggest drift, every number of the stored report is a computed figure (the
check, run again on the stored Markdown, finds none unmatched), and the charts' data are the
computed figures.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from alex.config import Settings
from alex.ingest import IngestService
from alex.planner.figure_json import figures_from_json, stored_notes
from alex.planner.number_check import check_text
from alex.planner.service import AnalysisService, run_analysis_job
from alex.research.service import ResearchService
from alex.search import SearchService
from tests.fakes import (
    FakeEmbedder,
    InMemoryAnalysisJobStore,
    InMemoryReportStore,
    InMemoryVectorStore,
)
from tests.support.planner_household import household_service, store_plan

pytestmark = pytest.mark.timeout(900)


def test_an_analysis_with_the_offline_model_states_only_computed_figures(
    settings: Settings,
) -> None:
    portfolio = household_service()
    store_plan(portfolio)
    embedder, store = FakeEmbedder(), InMemoryVectorStore()
    ingest = IngestService(embedder, store, settings.limits, settings.chunk_overlap)
    search = SearchService(embedder, store, settings.limits)
    research = ResearchService(settings, ingest, search)  # the configured model: offline
    service = AnalysisService(
        settings,
        portfolio,
        research,
        ingest,
        search,
        InMemoryAnalysisJobStore(),
        InMemoryReportStore(),
    )
    try:
        job = run_analysis_job(service, service.create().id)
    finally:
        research.close()

    assert job.status == "succeeded", job.failure
    assert job.report_id is not None
    report = service.report(job.report_id)
    figures = figures_from_json(report.figures)
    markdown = report.markdown
    # The headline: the largest holding and the biggest drift, right by construction.
    assert figures.largest_holding == "MTUS"
    assert "- Largest holding: MTUS (Meridian Total US Market ETF), 78,110.31 USD" in markdown
    assert "- Biggest drift: north america (region), 74.09%" in markdown
    # Every number in the stored report is a computed figure.
    again = check_text(markdown, figures, stored_notes(report.figures))
    assert again.unmatched == 0, [s.text for s in again.removed]
    # The charts' data are the computed figures.
    for dimension in ("asset_class", "region", "sector", "currency"):
        for row in report.charts[f"allocation_{dimension}"]["data"]["values"]:
            key = f"allocation.{dimension}.{row['bucket']}"
            assert Decimal(row["value"]) == figures[f"{key}.value"].number
            assert Decimal(row["share"]) == figures[key].number
    for dimension in ("asset_class", "region"):
        for row in report.charts[f"drift_{dimension}"]["data"]["values"]:
            key = f"drift.{dimension}.{row['bucket']}"
            assert Decimal(row["drift"]) == figures[key].number
    fan = {row["age"]: row for row in report.charts["projection"]["data"]["values"]}
    for p in (10, 50, 90):
        exact = Decimal(fan["65"][f"p{p}"])
        assert figures[f"projection.p{p}.age_65"].number == exact
