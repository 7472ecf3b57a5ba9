"""Research job records: what a job keeps, how big it can get, how its errors are answered."""

from __future__ import annotations

import gc
import json
import tracemalloc
from dataclasses import replace
from typing import Any

import pytest
from pydantic import TypeAdapter

from alex.adapters.lambda_invoker import JobLaunchError
from alex.domain.errors import (
    ChatModelUnavailableError,
    InvalidInputError,
    ResearchFailedError,
)
from alex.domain.jobs import INTERNAL_ERROR, MAX_JOB_TEXT, JobFailure, capped, error_kind
from alex.domain.validation import MAX_RESEARCH_TOPIC_CHARS
from alex.http.errors import status_for_kind
from alex.http.schemas import ResearchJobResponse
from alex.research.analysis import (
    MAX_KEY_POINTS,
    MAX_RISKS,
    MAX_SOURCES,
    MAX_STORED_POINT_CHARS,
    SUMMARY_POINTS,
    Analysis,
)
from alex.research.checks import RejectedPoint
from alex.research.fetch import FetchRefusedError, Page
from alex.research.jobs import JobResult, MemoryJobStore, ResearchJob, new_job
from alex.research.orchestrator import ResearchResult
from alex.research.service import run_job

MAX_URL = 2_048  # the API's URL length limit


def page(url: str, text: str) -> Page:
    return Page(url, url, "T", text, "text/html", "2026-01-01T00:00:00Z", len(text), "utf-8")


def analysis(n: int = 0, *, full: bool = False) -> Analysis:
    """A valid analysis; ``full``: every field at its schema's limit."""
    if not full:
        return Analysis(
            title="Rates",
            summary="Rates held.",
            key_points=["Rates held at 4%."],
            risks=[],
            sources=[{"url": "https://example.com/a", "title": "A"}],
            as_of="2026-01-01",
            topic="Rates",
            model="scripted",
        )
    point = MAX_STORED_POINT_CHARS
    return Analysis(
        title=f"{n:04d}" + "t" * (MAX_RESEARCH_TOPIC_CHARS - 4),
        summary=f"{n:04d}" + "s" * (SUMMARY_POINTS * (MAX_STORED_POINT_CHARS + 1) - 4),
        key_points=[f"{n:04d}{k}" + "k" * (point - 5) for k in range(MAX_KEY_POINTS)],
        risks=[f"{n:04d}{k}" + "r" * (point - 5) for k in range(MAX_RISKS)],
        sources=[
            {"url": f"https://e.com/{n:04d}{k}" + "u" * (MAX_URL - 20), "title": "x" * 300}
            for k in range(MAX_SOURCES)
        ],
        as_of="2026-01-01",
        topic=f"{n:04d}" + "p" * 196,
        model="gpt-4.1-mini",
    )


def largest_job(n: int) -> ResearchJob:
    """A job at every limit a run can reach: 10 URLs of 2,048 characters, all read or all
    failed with a reason of MAX_JOB_TEXT, a full analysis, a capped detail and error."""
    urls = [f"https://e.com/{n:04d}/{k}" + "u" * (MAX_URL - 20) for k in range(10)]
    result = ResearchResult(
        analysis=analysis(n, full=True),
        document_id=f"research/{n}",
        status="created",
        pages=[page(url, "page text " * 150_000) for url in urls],  # 1.5 MB each
        failed_urls={url: f"{n} {url} refused " * 100 for url in urls},
        unverified_figures=[f"{n}.{k}" for k in range(300)],
        seconds=12.5,
        # Every point and the title left out, each as long as a model may write it.
        rejected=[
            RejectedPoint("p" * 5_000, "figure-not-in-cited-sentence", "9" * 5_000)
            for _ in range(MAX_KEY_POINTS + MAX_RISKS + 1)
        ],
    )
    job = new_job(f"{n:04d}" + "t" * 196, urls).at("skip", f"{n} " * 5_000)
    return replace(job.succeeded(JobResult.of(result)), error=JobFailure(f"{n}" * 5_000, "x"))


def test_a_job_keeps_no_page_text_and_caps_every_text_from_elsewhere() -> None:
    job = largest_job(1)
    assert job.result is not None
    assert all(len(url) == MAX_URL for url in job.result.pages_read)  # the URLs, not the text
    assert {len(why) for why in job.result.failed_urls.values()} == {MAX_JOB_TEXT}
    assert len(job.detail) == MAX_JOB_TEXT and job.detail.endswith("…")
    failure = JobFailure.of(ResearchFailedError("why " * 1_000))
    assert len(failure.message) == MAX_JOB_TEXT and failure.message.endswith("…")
    assert capped("short") == "short" and capped("x" * MAX_JOB_TEXT) == "x" * MAX_JOB_TEXT


def test_a_jobs_footprint_is_bounded() -> None:
    """Its JSON (what DynamoDB keeps and every poll answers) and what 100 of them, the memory
    store's whole content, hold on the heap."""
    size = len(TypeAdapter(ResearchJob).dump_json(largest_job(1)))
    answered = len(ResearchJobResponse.of(largest_job(2)).model_dump_json())
    assert size < 130_000 and answered < 130_000, (size, answered)  # measured 116 KB

    jobs = [largest_job(n) for n in range(100)]  # built first: the page texts are freed
    gc.collect()
    tracemalloc.start()
    store = MemoryJobStore()
    for job in jobs:
        store.put(json_copy(job))  # fresh objects, nothing shared with `jobs`
    heap, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert heap < 20_000_000, heap  # 100 jobs at every limit: measured 15.6 MB


def json_copy(job: ResearchJob) -> ResearchJob:
    adapter: TypeAdapter[ResearchJob] = TypeAdapter(ResearchJob)
    return adapter.validate_json(adapter.dump_json(job))


def test_the_memory_store_keeps_the_newest_100_jobs() -> None:
    store = MemoryJobStore()
    jobs = [new_job(f"topic {n}", []) for n in range(101)]
    for job in jobs:
        store.put(job)
    assert store.get(jobs[0].job_id) is None
    assert all(store.get(job.job_id) == job for job in jobs[1:])
    running = jobs[1].running()
    store.put(running)  # an update is not a new job: nothing else is dropped
    assert store.get(jobs[1].job_id) == running and store.get(jobs[2].job_id) == jobs[2]


def test_an_error_is_kept_by_its_domain_kind_and_answered_by_the_door() -> None:
    refused = FetchRefusedError("file:// is not allowed", reason="scheme")
    assert error_kind(refused) == "InvalidInputError"  # the nearest domain class
    assert error_kind(ResearchFailedError("x")) == "ResearchFailedError"
    assert error_kind(JobLaunchError("x")) == "AlexError"
    assert status_for_kind("InvalidInputError") == 422
    assert status_for_kind("ResearchFailedError") == 502
    assert status_for_kind("ChatModelUnavailableError") == 503
    assert status_for_kind("NotFoundError") == 404
    for other in ("AlexError", INTERNAL_ERROR, "__class__", "Exception", ""):
        assert status_for_kind(other) == 500, other


class FailingService:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def run(self, topic: str | None, urls: Any, progress: Any) -> ResearchResult:
        progress("read", "https://example.com/a " * 100)
        raise self.error


@pytest.mark.parametrize(
    ("error", "kind", "message"),
    [
        (ChatModelUnavailableError("no key"), "ChatModelUnavailableError", "no key"),
        (InvalidInputError("bad"), "InvalidInputError", "bad"),
        (RuntimeError("secret detail"), INTERNAL_ERROR, "Internal error"),
    ],
)
def test_a_failed_run_ends_the_job_with_its_kind(error: Exception, kind: str, message: str) -> None:
    store = MemoryJobStore()
    job = new_job("Rates", [])
    store.put(job)
    run_job(FailingService(error), store, job.job_id)  # type: ignore[arg-type]
    ended = store.get(job.job_id)
    assert ended is not None and ended.status == "failed" and ended.step == "failed"
    assert ended.error == JobFailure(message, kind) and ended.result is None
    assert ended.detail.startswith("https://example.com/a") and len(ended.detail) == MAX_JOB_TEXT
    answer = json.loads(ResearchJobResponse.of(ended).model_dump_json())
    assert answer["error"] == {"message": message, "status": status_for_kind(kind)}


def test_a_succeeded_job_is_answered_as_before() -> None:
    result = ResearchResult(
        analysis(),
        "research/rates/2026-01-01",
        "created",
        [page("https://example.com/a", "text")],
        {"https://example.com/b": "404"},
        ["7"],
        1.234,
        [RejectedPoint("Rates rose 45%.", "figure-not-in-cited-sentence", "45%")],
    )
    job = new_job("Rates", ["https://example.com/a"]).running().succeeded(JobResult.of(result))
    answer = ResearchJobResponse.of(job).model_dump(mode="json")
    assert answer["status"] == "succeeded" and answer["step"] == "done" and answer["error"] is None
    assert answer["urls"] == ["https://example.com/a"]
    assert answer["result"] == {
        "message": "Research stored",
        "document_id": "research/rates/2026-01-01",
        "status": "created",
        "analysis": analysis().model_dump(),
        "pages_read": ["https://example.com/a"],
        "failed_urls": {"https://example.com/b": "404"},
        "unverified_figures": ["7"],
        "left_out": [
            {"text": "Rates rose 45%.", "reason": "figure-not-in-cited-sentence", "detail": "45%"}
        ],
        "seconds": 1.23,
    }
