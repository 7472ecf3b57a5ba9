"""Research jobs: the record of one asynchronous run, and this process's store of them.

A job is queued, runs, and ends succeeded (with what the run left: the analysis, the pages
it read, those it could not) or failed (with why: a message and the kind of error). The
record is the core's own: the HTTP API answers it as ``ResearchJobResponse``
(``alex.http.schemas``), the cloud keeps it as JSON in DynamoDB
(``alex.adapters.dynamo_jobs``).

A job keeps no page text, and every text it keeps from elsewhere (an error message, a
progress detail, why a page failed) is cut to ``alex.domain.jobs.MAX_JOB_TEXT`` characters
(that module holds what research and analysis jobs share: statuses, :class:`JobFailure`,
``capped``): a server keeps its newest 100 jobs, and each is answered whole on every poll.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from alex.domain.jobs import JobFailure, JobStatus, capped
from alex.domain.models import IngestStatus
from alex.research.analysis import Analysis

if TYPE_CHECKING:
    # The orchestrator pulls in the Agents SDK; reading and answering jobs needs none of it.
    from alex.research.orchestrator import ResearchResult


@dataclass(frozen=True)
class LeftOut:
    """A point the model wrote that failed a check (alex.research.checks): not stored."""

    text: str
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class JobResult:
    """What a finished run leaves: the analysis and the pages' URLs, not their text."""

    document_id: str
    status: IngestStatus
    analysis: Analysis
    pages_read: tuple[str, ...]
    failed_urls: Mapping[str, str]
    unverified_figures: tuple[str, ...]
    seconds: float
    left_out: tuple[LeftOut, ...] = ()  # default: jobs stored before points were checked

    @classmethod
    def of(cls, result: ResearchResult) -> JobResult:
        return cls(
            document_id=result.document_id,
            status=result.status,
            analysis=result.analysis,
            pages_read=tuple(page.final_url for page in result.pages),
            failed_urls={url: capped(why) for url, why in result.failed_urls.items()},
            unverified_figures=tuple(result.unverified_figures),
            seconds=result.seconds,
            left_out=tuple(
                LeftOut(capped(point.text, 500), point.reason, capped(point.detail, 200))
                for point in result.rejected
            ),
        )


@dataclass(frozen=True)
class ResearchJob:
    job_id: str
    status: JobStatus
    step: str
    detail: str
    topic: str | None
    urls: tuple[str, ...]
    created_at: str
    result: JobResult | None = None
    error: JobFailure | None = None

    def at(self, step: str, detail: str) -> ResearchJob:
        return replace(self, step=step, detail=capped(detail))

    def running(self) -> ResearchJob:
        return replace(self, status="running", step="starting")

    def succeeded(self, result: JobResult) -> ResearchJob:
        return replace(self, status="succeeded", step="done", result=result, error=None)

    def failed(self, failure: JobFailure) -> ResearchJob:
        return replace(self, status="failed", step="failed", result=None, error=failure)


def new_job(topic: str | None, urls: Sequence[str]) -> ResearchJob:
    return ResearchJob(
        job_id=uuid.uuid4().hex,
        status="queued",
        step="queued",
        detail="",
        topic=topic,
        urls=tuple(urls),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


class MemoryJobStore:
    """The newest ``keep`` jobs of this process (a job is a few KB; at most ~100 KB)."""

    def __init__(self, keep: int = 100) -> None:
        self._jobs: OrderedDict[str, ResearchJob] = OrderedDict()
        self._keep = keep
        self._lock = threading.Lock()

    def put(self, job: ResearchJob) -> None:
        with self._lock:
            self._jobs[job.job_id] = job
            while len(self._jobs) > self._keep:
                self._jobs.popitem(last=False)

    def get(self, job_id: str) -> ResearchJob | None:
        with self._lock:
            return self._jobs.get(job_id)
