"""Research as a service for the doors: one chat model per process, runs and async jobs.

The HTTP app and the CLI call :class:`ResearchService`. It opens the configured chat model
on first use (the offline model takes seconds to load) and keeps it until :meth:`close`.
Runs go one at a time: an in-process model decodes one request at a time anyway, and
parallel runs would only slow each other down.

:class:`ResearchJobs` is the async form (``POST /research/jobs``): runs queue in a worker
thread and their records (:mod:`alex.research.jobs`) are kept in the job store it is given,
by default in memory, the newest 100, for this process's life. The doors turn records into
their own answers: nothing here knows of HTTP.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, TypeVar

from alex.domain.errors import AlexError, NotFoundError
from alex.domain.jobs import INTERNAL_ERROR, JobFailure
from alex.research.fetch import FetchPolicy
from alex.research.jobs import (
    JobResult,
    MemoryJobStore,
    ResearchJob,
    new_job,
)
from alex.research.llm import ChatModel, ModelOpener, open_chat_model
from alex.research.orchestrator import Progress, Researcher, ResearchLimits, ResearchResult

if TYPE_CHECKING:
    from alex.config import Settings
    from alex.ingest import IngestService
    from alex.ports import JobStore
    from alex.search import SearchService

logger = logging.getLogger("alex.research")
Result = TypeVar("Result")


class ResearchService:
    def __init__(
        self,
        settings: Settings,
        ingest: IngestService,
        search: SearchService,
        open_model: ModelOpener | None = None,
    ) -> None:
        """``open_model`` opens the chat model: by default the configured one
        (:func:`alex.research.llm.open_chat_model`); tests pass a scripted one."""
        self.settings = settings
        self._open_model = open_model or open_chat_model
        self._ingest = ingest
        self._search = search
        self._chat: ChatModel | None = None
        self._opened = ExitStack()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()

    def _chat_model(self) -> ChatModel:
        if self._chat is None:
            self._chat = self._opened.enter_context(self._open_model(self.settings))
        return self._chat

    def run(
        self, topic: str | None, urls: Sequence[str] = (), progress: Progress | None = None
    ) -> ResearchResult:
        """One research run (blocking); raises AlexError subclasses, stores nothing then."""
        report = progress or (lambda step, detail: None)
        settings = self.settings

        def research(chat: ChatModel) -> Coroutine[Any, Any, ResearchResult]:
            researcher = Researcher(
                chat=chat,
                ingest=self._ingest,
                search_knowledge=lambda query: self._search.search(query, 3, "hybrid", {}),
                policy=FetchPolicy.from_settings(settings),
                default_sources=settings.research_sources,
                limits=ResearchLimits(
                    max_turns=settings.research_max_turns,
                    timeout_seconds=settings.research_timeout_seconds,
                    max_pages=settings.research_max_pages,
                ),
            )
            return researcher.arun(topic, urls, report)

        return self.with_chat_model(research, report)

    def with_chat_model(
        self,
        work: Callable[[ChatModel], Coroutine[Any, Any, Result]],
        progress: Progress | None = None,
    ) -> Result:
        """Run ``work`` with this process's chat model, one run at a time: research runs and
        the planner's analysis jobs share the model (one offline model in memory, not two)
        and its event loop."""
        with self._lock:
            if self._chat is None and progress is not None:
                progress("model", "starting the chat model")
            chat = self._chat_model()
            # One event loop for every run: the chat model's async HTTP client keeps
            # connections that belong to the loop they were opened on.
            return self._loop.run_until_complete(work(chat))

    def close(self) -> None:
        with self._lock:
            self._opened.close()
            self._chat = None
            self._loop.close()


def run_job(service: ResearchService, store: JobStore, job_id: str) -> None:
    """Run a queued job to its end, recording each step and the result or error in ``store``.

    Used by the local worker thread and by the cloud's asynchronous invocation alike."""
    queued = store.get(job_id)
    if queued is None:
        raise NotFoundError(f"No research job {job_id}")
    job = queued

    def record(changed: ResearchJob) -> None:
        nonlocal job
        job = changed
        store.put(job)

    record(job.running())
    try:
        result = service.run(job.topic, job.urls, lambda step, detail: record(job.at(step, detail)))
    except AlexError as error:
        record(job.failed(JobFailure.of(error)))
    except Exception:  # a job must end, whatever went wrong
        logger.exception("Research job %s failed", job_id)
        record(job.failed(JobFailure("Internal error", INTERNAL_ERROR)))
    else:
        record(job.succeeded(JobResult.of(result)))


class ResearchJobs:
    """The async form of research: ``submit`` queues a job and returns at once."""

    def __init__(
        self,
        service: ResearchService,
        store: JobStore | None = None,
        launch: Callable[[str], None] | None = None,
    ) -> None:
        """``launch(job_id)`` starts a queued job; by default on this process's worker
        thread (runs go one at a time)."""
        self.service = service
        self.store = store or MemoryJobStore()
        self._pool: ThreadPoolExecutor | None = None
        self._launch = launch or self._on_worker_thread

    def _on_worker_thread(self, job_id: str) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="alex-research")
        self._pool.submit(run_job, self.service, self.store, job_id)

    def submit(self, topic: str | None, urls: Sequence[str] = ()) -> ResearchJob:
        job = new_job(topic, urls)
        self.store.put(job)
        self._launch(job.job_id)
        return job

    def get(self, job_id: str) -> ResearchJob:
        job = self.store.get(job_id)
        if job is None:
            raise NotFoundError(f"No research job {job_id}")
        return job

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
