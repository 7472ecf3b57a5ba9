"""The planner's use cases for the doors: start an analysis job, run it, read jobs and reports.

:class:`AnalysisService` queues jobs in the analysis job store and runs them with the
process's one chat model (shared with the researcher through
:meth:`alex.research.service.ResearchService.with_chat_model`: one offline model in memory,
one run at a time). :func:`run_analysis_job` is the whole of one job as a plain function, job
id in, job record out: the local worker thread, ``alex analyse`` and a cloud worker all call
it. It claims the job first (a conditional write: a job runs once however many workers are
told of it), records every step's progress on the job, and ends it succeeded with its
report's id or failed with why; if the job stops being "running" under it (the store's
restart rule marked it interrupted), the run stops and stores nothing.

**A job past its runner's limit.** In the cloud a job runs in a Lambda invocation, which
Lambda kills at the function's timeout without a word: the job would stay "running" until
its item expires. With ``stale_after`` set (the cloud door sets the function's timeout plus a
minute), :meth:`AnalysisService.job` reads a running job whose ``started`` is older than that
as failed, ``timed out: ...``, and stores it so (:func:`timed_out`); so is a job still queued
6 hours after it was created (Lambda drops an asynchronous event that old). Locally
``stale_after`` is None: the SQLite store's restart rule does that job there.

Public API: :class:`AnalysisService` (``create``, ``submit``, ``run``, ``job``,
``list_reports``, ``report``, ``close``), :func:`run_analysis_job`, :func:`timed_out`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from alex.domain.errors import AlexError, AnalysisFailedError, NotFoundError
from alex.domain.jobs import INTERNAL_ERROR, JobFailure
from alex.planner.jobs import AnalysisJob, StepName, StepStatus, new_analysis_job, utc_now
from alex.planner.orchestrator import AnalysisLimits, AnalysisResult, Analyst, Progress
from alex.planner.reports import Report, ReportSummary
from alex.portfolio.service import PortfolioService, ProjectionPlan

if TYPE_CHECKING:
    from alex.config import Settings
    from alex.ingest import IngestService
    from alex.ports import AnalysisJobStore, ReportStore
    from alex.research.llm import ChatModel
    from alex.research.service import ResearchService
    from alex.search import SearchService

logger = logging.getLogger("alex.planner")

RECALLED_PER_QUERY = 4  # hits asked of the knowledge base for each large holding


class _Stopped(Exception):
    """The job is no longer running in the store (marked interrupted): stop, store nothing."""


class AnalysisService:
    def __init__(
        self,
        settings: Settings,
        portfolio: PortfolioService,
        research: ResearchService,
        ingest: IngestService,
        search: SearchService,
        jobs: AnalysisJobStore,
        reports: ReportStore,
        launch: Callable[[str], None] | None = None,
        plan: ProjectionPlan | None = None,
        stale_after: timedelta | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        """``launch(job_id)`` starts a queued job; by default on this process's worker
        thread. ``plan``: the projection's inputs (default: the stored settings').
        ``stale_after``: how long a job may run before a read ends it as timed out (None:
        never; see the module's docstring)."""
        self.settings = settings
        self.portfolio = portfolio
        self.jobs = jobs
        self.reports = reports
        self._research = research
        self._ingest = ingest
        self._search = search
        self._launch = launch or self._on_worker_thread
        self._plan = plan or ProjectionPlan()
        self.stale_after = stale_after
        self._clock = clock
        self._pool: ThreadPoolExecutor | None = None

    # --- jobs -----------------------------------------------------------------------------
    def create(self) -> AnalysisJob:
        """A queued job, stored, not started (``alex analyse`` runs it in the foreground)."""
        job = new_analysis_job()
        self.jobs.put(job)
        return job

    def submit(self) -> AnalysisJob:
        """A queued job, started by ``launch``: the answer of ``POST /analysis/jobs``."""
        job = self.create()
        self._launch(job.id)
        return job

    def _on_worker_thread(self, job_id: str) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="alex-analysis")
        self._pool.submit(run_analysis_job, self, job_id)

    def job(self, job_id: str) -> AnalysisJob:
        """The job's record; one running past ``stale_after`` (or queued past
        :data:`QUEUED_AT_MOST`) is ended as timed out first, when ``stale_after`` is set."""
        job = self.jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"No analysis job {job_id}")
        if self.stale_after is not None:
            ended = timed_out(job, self._clock(), self.stale_after)
            if ended is not None:
                logger.warning("Analysis job %s ran past its limit: ended as timed out", job_id)
                self.jobs.put(ended)
                return ended
        return job

    def run(self, job_id: str, progress: Progress) -> AnalysisResult:
        """One analysis (blocking) with the process's chat model; raises AlexError
        subclasses, storing nothing then."""

        def analyse(chat: ChatModel) -> Coroutine[Any, Any, AnalysisResult]:
            analyst = Analyst(
                chat=chat,
                portfolio=self.portfolio,
                reports=self.reports,
                ingest=self._ingest,
                search_knowledge=lambda query: self._search.search(
                    query, RECALLED_PER_QUERY, "hybrid", {}
                ),
                limits=AnalysisLimits(timeout_seconds=self.settings.analysis_timeout_seconds),
                plan=self._plan,
            )
            return analyst.arun(job_id, progress)

        return self._research.with_chat_model(
            analyse, lambda _, detail: progress("classify", "running", detail)
        )

    # --- reports --------------------------------------------------------------------------
    def list_reports(self, limit: int = 20, before: str | None = None) -> list[ReportSummary]:
        return self.reports.list_reports(limit, before)

    def report(self, report_id: str) -> Report:
        report = self.reports.get(report_id)
        if report is None:
            raise NotFoundError(f"No report {report_id}")
        return report

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


# Lambda keeps an asynchronous event at most 6 hours (its default maximum event age): a job
# still queued after that (and a minute) was never started and never will be.
QUEUED_AT_MOST = timedelta(hours=6, minutes=1)


def timed_out(
    job: AnalysisJob, now: datetime, limit: timedelta, queued_limit: timedelta = QUEUED_AT_MOST
) -> AnalysisJob | None:
    """``job`` ended as failed if it is running and started more than ``limit`` before
    ``now`` (its runner was killed: nothing else ends it), or still queued ``queued_limit``
    after it was created (its start was lost); else None. The step it was in is failed
    with the same message; kind AnalysisFailedError, as the job's own time limit."""
    if job.status == "queued" and now - job.created > queued_limit:
        hours = queued_limit.total_seconds() / 3600
        message = f"timed out: the job was never started ({hours:.0f} hours queued)"
    elif job.status == "running" and job.started is not None and now - job.started > limit:
        seconds = int(limit.total_seconds())
        message = (
            f"timed out: the job was still running {seconds} s after it started, past the "
            "worker's time limit; nothing was stored"
        )
    else:
        return None
    return job.failed(JobFailure.of(AnalysisFailedError(message)), at=now)


def run_analysis_job(
    service: AnalysisService, job_id: str, progress: Progress | None = None
) -> AnalysisJob:
    """Claim the queued job ``job_id``, run it to its end recording each step, and return its
    record (see the module's docstring). A job that is not queued (claimed elsewhere, ended)
    is not run: its record is returned as it is. ``progress`` also hears every step."""
    store = service.jobs
    claimed = store.claim(job_id)
    if claimed is None:
        existing = store.get(job_id)
        if existing is None:
            raise NotFoundError(f"No analysis job {job_id}")
        logger.warning("Analysis job %s is %s: not run again", job_id, existing.status)
        return existing
    job = claimed

    def record(step: StepName, status: StepStatus, detail: str) -> None:
        nonlocal job
        job = job.at_step(step, status, detail)
        if not store.update_steps(job.id, job.steps):
            raise _Stopped
        if progress is not None:
            progress(step, status, detail)

    try:
        result = service.run(job_id, record)
    except _Stopped:
        logger.warning("Analysis job %s stopped: it is no longer running in the store", job_id)
        return service.job(job_id)
    except AlexError as error:
        job = job.failed(JobFailure.of(error))
    except Exception:  # a job must end, whatever went wrong
        logger.exception("Analysis job %s failed", job_id)
        job = job.failed(JobFailure("Internal error", INTERNAL_ERROR))
    else:
        job = job.succeeded(result.report.id)
    store.put(job)
    return job
