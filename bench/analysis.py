"""One analysis job with the embedded offline model on the sample household, each step timed.

    uv run python -m bench.analysis     # or: uv run python -m bench --only analysis

The stores are in memory (tests/fakes): what is timed is the job itself. The model is
started first and timed apart (``analysis_model_start_s``: assembling and loading it, once
per process); then one job runs: classify (the tagger on HAGB, whose sector is unknown),
compute (figures, projection, value history, charts), recall, write (the reporter, then
the retirement writer), check, store (the report, and its document in the knowledge base
with the hashed-words embedder of the fakes, not the real one).
"""

from __future__ import annotations

import time
from typing import Any

from alex.config import load_settings
from alex.ingest import IngestService
from alex.planner.service import AnalysisService
from alex.research.llm import ChatModel
from alex.research.service import ResearchService
from alex.search import SearchService
from tests.fakes import (
    FakeEmbedder,
    InMemoryAnalysisJobStore,
    InMemoryReportStore,
    InMemoryVectorStore,
)
from tests.support.planner_household import household_service, store_plan


async def _ready(chat: ChatModel) -> str:
    return chat.name


def measure() -> dict[str, Any]:
    settings = load_settings()
    portfolio = household_service()
    store_plan(portfolio)
    embedder, store = FakeEmbedder(), InMemoryVectorStore()
    ingest = IngestService(embedder, store, settings.limits, settings.chunk_overlap)
    search = SearchService(embedder, store, settings.limits)
    research = ResearchService(settings, ingest, search)
    service = AnalysisService(
        settings, portfolio, research, ingest, search, InMemoryAnalysisJobStore(),
        InMemoryReportStore(),
    )  # fmt: skip
    try:
        started = time.perf_counter()
        model = research.with_chat_model(_ready)
        results: dict[str, Any] = {
            "analysis_model": model,
            "analysis_model_start_s": time.perf_counter() - started,
        }
        job = service.create()
        started = time.perf_counter()
        result = service.run(
            job.id, lambda step, status, detail: print(f"   {step:>8} {status:<8} {detail}")
        )
        results["analysis_job_s"] = time.perf_counter() - started
    finally:
        research.close()
    for step, seconds in result.seconds.items():
        results[f"analysis_{step}_s"] = seconds
    results["analysis_numbers_checked"] = result.report.check.numbers_checked
    results["analysis_sentences_removed"] = result.report.check.removed
    results["analysis_actions_removed"] = result.report.check.contradictions
    results["analysis_report_chars"] = len(result.report.markdown)
    for removed in result.removed:
        print(f"   removed ({', '.join(removed.unmatched)}): {removed.text!r}")
    print(
        "   the report:\n"
        + "\n".join(f"   | {line}" for line in result.report.markdown.splitlines())
    )
    return results


if __name__ == "__main__":
    for key, value in measure().items():
        print(f"{key:<40} {value:.3f}" if isinstance(value, float) else f"{key:<40} {value}")
