"""Starting a research job in the cloud: an asynchronous invocation of the worker function.

``POST /research/jobs`` answers within API Gateway's 29 seconds; the run (up to 15 minutes)
happens in another invocation of the function, started with the event
``{"alex_research_job": job_id}`` (:data:`JOB_EVENT`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from alex.adapters.aws_clients import error_code
from alex.domain.errors import AlexError
from alex.domain.jobs import JobFailure
from alex.ports import JobStore

logger = logging.getLogger("alex.research.cloud")

JOB_EVENT = "alex_research_job"
"""The event that runs a queued job: ``{JOB_EVENT: job_id}``."""


class JobLaunchError(AlexError):
    """A queued job could not be handed to the worker function (HTTP 500)."""


class AsyncInvoker:
    """``launch(job_id)`` for :class:`~alex.research.service.ResearchJobs`: invoke the worker
    function asynchronously with ``{"alex_research_job": job_id}``."""

    def __init__(self, client: Any, function_name: str, store: JobStore) -> None:
        self.function_name = function_name
        self._client = client
        self._store = store

    def __call__(self, job_id: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.invoke(
                FunctionName=self.function_name,
                InvocationType="Event",
                Payload=json.dumps({JOB_EVENT: job_id}).encode("utf-8"),
            )
        except (BotoCoreError, ClientError) as error:
            code = error_code(error)
            logger.error("Could not invoke %s for job %s: %s", self.function_name, job_id, code)
            failure = JobLaunchError(f"Could not start research job {job_id} ({code})")
            job = self._store.get(job_id)
            if job is not None:
                self._store.put(job.failed(JobFailure.of(failure)))
            raise failure from None
