"""Analysis jobs: the record of one planner run, step by step (``docs/planner.md``, "Jobs and
reports").

A job is queued, claimed by one worker (``running``), and ends ``succeeded`` with the id of
the report it stored, or ``failed`` with why (a :class:`~alex.domain.jobs.JobFailure`: a
capped message and the kind of error). Its six steps, in :data:`STEPS` order, each keep a
status, a capped detail and when it last changed, so a client polling the job sees progress.

Public API (the orchestrator and the stores use these):

* :class:`AnalysisJob`, :class:`StepProgress`, :data:`STEPS`, :func:`new_analysis_job`;
* ``job.at_step(name, status, detail)``, ``job.running()``, ``job.succeeded(report_id)``,
  ``job.failed(failure)``: the record after each change (records are frozen);
* :func:`new_record_id` and :func:`is_record_id`: the ids of jobs and reports, 32 hex digits
  that begin with the creation time, so sorting ids sorts by age (every store lists by id);
* :func:`steps_to_json`, :func:`steps_from_json`, :func:`time_text`,
  :func:`time_from_text`: the stored form of the steps and times, shared by every store;
* :data:`INTERRUPTED`: the message of a job its process left unfinished.

The stores are ports (``alex.ports.AnalysisJobStore``); the texts a job keeps are capped at
``MAX_JOB_TEXT`` characters, as the researcher's are.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from alex.domain.errors import InvalidInputError
from alex.domain.jobs import JobFailure, JobStatus, capped

StepName = Literal["classify", "compute", "recall", "write", "check", "store"]
STEPS: tuple[StepName, ...] = get_args(StepName)
"""The steps of every analysis job, in the order they run."""
StepStatus = Literal["pending", "running", "done", "failed", "skipped"]
STEP_STATUSES: tuple[StepStatus, ...] = get_args(StepStatus)
JOB_STATUSES: tuple[JobStatus, ...] = get_args(JobStatus)
UNFINISHED: tuple[JobStatus, ...] = ("queued", "running")

INTERRUPTED = "interrupted: Alex restarted"
"""The failure message of a job whose process ended before the job did (a local store marks
it so when it opens: a job is never left "running" by a process that is gone)."""

_RECORD_ID = re.compile(r"^[0-9a-f]{32}$")


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_record_id(created: datetime) -> str:
    """32 hex digits: milliseconds since 1970 at ``created`` (12 digits), then 80 random
    bits. Ids sort as their records' creation times (to the millisecond), so a store lists
    newest first by sorting ids, which DynamoDB does on a sort key."""
    millis = int(created.timestamp() * 1000)
    return f"{millis:012x}{secrets.token_hex(10)}"


def is_record_id(text: str) -> bool:
    """Whether ``text`` can be a job's or a report's id (a store answers None for others)."""
    return bool(_RECORD_ID.match(text))


def time_text(moment: datetime) -> str:
    """``moment`` in UTC, ISO 8601 to the microsecond: one fixed width, so texts sort as
    times."""
    if moment.tzinfo is None:
        raise ValueError("an analysis record's times are aware (UTC)")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def time_from_text(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class StepProgress:
    """One step of a job: its status, a short detail (capped) and when it last changed."""

    name: StepName
    status: StepStatus = "pending"
    detail: str = ""
    at: datetime | None = None

    def __post_init__(self) -> None:
        if self.name not in STEPS:
            raise ValueError(f"{self.name!r} is not a step of an analysis job")
        if self.status not in STEP_STATUSES:
            raise ValueError(f"{self.status!r} is not a step status")
        object.__setattr__(self, "detail", capped(self.detail))


@dataclass(frozen=True)
class AnalysisJob:
    """One analysis run; see the module's docstring."""

    id: str
    status: JobStatus
    created: datetime
    steps: tuple[StepProgress, ...] = tuple(StepProgress(name) for name in STEPS)
    started: datetime | None = None
    finished: datetime | None = None
    report_id: str | None = None
    failure: JobFailure | None = None

    def __post_init__(self) -> None:
        if not is_record_id(self.id):
            raise ValueError(f"{self.id!r} is not an analysis job id (32 hex digits)")
        if self.status not in JOB_STATUSES:
            raise ValueError(f"{self.status!r} is not a job status")
        if self.created.tzinfo is None:
            raise ValueError("an analysis job's times are aware (UTC)")
        if tuple(step.name for step in self.steps) != STEPS:
            raise ValueError(f"an analysis job has the steps {', '.join(STEPS)}, in order")

    def step(self, name: StepName) -> StepProgress:
        return self.steps[STEPS.index(name)]

    def at_step(
        self, name: StepName, status: StepStatus, detail: str = "", at: datetime | None = None
    ) -> AnalysisJob:
        """The job with step ``name`` now ``status`` (the detail capped)."""
        changed = StepProgress(name, status, detail, at or utc_now())
        steps = tuple(changed if step.name == name else step for step in self.steps)
        return replace(self, steps=steps)

    def running(self, at: datetime | None = None) -> AnalysisJob:
        return replace(self, status="running", started=at or utc_now())

    def succeeded(self, report_id: str, at: datetime | None = None) -> AnalysisJob:
        return replace(
            self, status="succeeded", finished=at or utc_now(), report_id=report_id, failure=None
        )

    def failed(self, failure: JobFailure, at: datetime | None = None) -> AnalysisJob:
        """The job ended by ``failure``; a step left running is marked failed with it."""
        moment = at or utc_now()
        steps = tuple(
            StepProgress(step.name, "failed", failure.message, moment)
            if step.status == "running"
            else step
            for step in self.steps
        )
        return replace(
            self, status="failed", finished=moment, steps=steps, report_id=None, failure=failure
        )


def new_analysis_job(created: datetime | None = None) -> AnalysisJob:
    """A queued job, every step pending."""
    moment = created or utc_now()
    return AnalysisJob(id=new_record_id(moment), status="queued", created=moment)


def steps_to_json(steps: Sequence[StepProgress]) -> str:
    """The steps as stored; InvalidInputError unless they are the six, in order (a store
    never keeps a job it could not read back)."""
    if tuple(step.name for step in steps) != STEPS:
        raise InvalidInputError(f"an analysis job's steps are {', '.join(STEPS)}, in order")
    return json.dumps(
        [
            {
                "name": step.name,
                "status": step.status,
                "detail": step.detail,
                "at": None if step.at is None else time_text(step.at),
            }
            for step in steps
        ],
        ensure_ascii=False,
    )


def steps_from_json(text: str) -> tuple[StepProgress, ...]:
    raw: list[dict[str, Any]] = json.loads(text)
    return tuple(
        StepProgress(
            name=step["name"],
            status=step["status"],
            detail=step["detail"],
            at=None if step["at"] is None else time_from_text(step["at"]),
        )
        for step in raw
    )


MAX_LIST = 100
"""Most records one list call returns (jobs or reports)."""


def check_list_limit(limit: int) -> None:
    """InvalidInputError unless ``limit`` is 1 to :data:`MAX_LIST`."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST:
        raise InvalidInputError(f"limit must be a whole number from 1 to {MAX_LIST}")
