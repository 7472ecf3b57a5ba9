"""Starting a job in the cloud: an asynchronous invocation of the worker function.

``POST /research/jobs`` answers within API Gateway's 29 seconds; the run (up to 15 minutes)
happens in another invocation of the function, started with the event
``{"alex_research_job": job_id}`` (:data:`JOB_EVENT`). Analysis jobs (``POST
/analysis/jobs``) start the same way, with ``{"alex_analysis_job": job_id}``
(:data:`ANALYSIS_JOB_EVENT`).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

from alex.adapters.aws_clients import error_code
from alex.domain.errors import AlexError
from alex.domain.jobs import JobFailure

logger = logging.getLogger("alex.research.cloud")

JOB_EVENT = "alex_research_job"
"""The event that runs a queued research job: ``{JOB_EVENT: job_id}``."""
ANALYSIS_JOB_EVENT = "alex_analysis_job"
"""The event that runs a queued analysis job: ``{ANALYSIS_JOB_EVENT: job_id}``."""


class _Job(Protocol):
    def failed(self, failure: JobFailure) -> Any: ...


class _Jobs(Protocol):
    """What a launch that fails needs of a job store (research's and the planner's have it)."""

    def get(self, job_id: str) -> _Job | None: ...

    def put(self, job: Any) -> None: ...


class JobLaunchError(AlexError):
    """A queued job could not be handed to the worker function (HTTP 500)."""


class AsyncInvoker:
    """``launch(job_id)`` for :class:`~alex.research.service.ResearchJobs` (and, with
    ``event=ANALYSIS_JOB_EVENT``, for the planner's analysis jobs): invoke the worker function
    asynchronously with ``{event: job_id}``. A launch that fails marks the job failed in
    ``store`` and raises :class:`JobLaunchError`."""

    def __init__(
        self,
        client: Any,
        function_name: str,
        store: _Jobs,
        event: str = JOB_EVENT,
        what: str = "research job",
    ) -> None:
        self.function_name = function_name
        self.event = event
        self._client = client
        self._store = store
        self._what = what

    def __call__(self, job_id: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.invoke(
                FunctionName=self.function_name,
                InvocationType="Event",
                Payload=json.dumps({self.event: job_id}).encode("utf-8"),
            )
        except (BotoCoreError, ClientError) as error:
            code = error_code(error)
            logger.error("Could not invoke %s for job %s: %s", self.function_name, job_id, code)
            failure = JobLaunchError(f"Could not start {self._what} {job_id} ({code})")
            job = self._store.get(job_id)
            if job is not None:
                self._store.put(job.failed(JobFailure.of(failure)))
            raise failure from None
