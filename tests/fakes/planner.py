"""The planner's stores in dicts: ``InMemoryAnalysisJobStore`` and ``InMemoryReportStore``.

They check what the real stores check (the same ``report_body``, the same id and limit
rules) and keep a report as its body, so what comes back is what a real store gives back
(JSON: a tuple in a figure set comes back a list). ``tests/unit/test_planner_store_contract.py``
runs them through the same contracts as SQLite and DynamoDB. A process's memory cannot
outlive it, so there is no restart rule to keep.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace

from alex.domain.errors import InvalidInputError
from alex.planner.jobs import (
    AnalysisJob,
    StepProgress,
    check_list_limit,
    is_record_id,
    steps_from_json,
    steps_to_json,
    utc_now,
)
from alex.planner.reports import Report, ReportSummary, report_body, report_from_body


class InMemoryAnalysisJobStore:
    def __init__(self) -> None:
        self._jobs: dict[str, AnalysisJob] = {}
        self._lock = threading.Lock()  # the claim's condition and write, as one

    def put(self, job: AnalysisJob) -> None:
        with self._lock:
            self._jobs[job.id] = job

    def get(self, job_id: str) -> AnalysisJob | None:
        return self._jobs.get(job_id)

    def claim(self, job_id: str) -> AnalysisJob | None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.status != "queued":
                return None
            self._jobs[job_id] = job = job.running(utc_now())
            return job

    def update_steps(self, job_id: str, steps: Sequence[StepProgress]) -> bool:
        stored = steps_from_json(steps_to_json(steps))  # as a real store would read them back
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.status != "running":
                return False
            self._jobs[job_id] = replace(job, steps=stored)
            return True

    def list_recent(self, limit: int = 20) -> list[AnalysisJob]:
        check_list_limit(limit)
        return [self._jobs[key] for key in sorted(self._jobs, reverse=True)[:limit]]

    def close(self) -> None:
        pass


class InMemoryReportStore:
    def __init__(self) -> None:
        self._reports: dict[str, tuple[ReportSummary, bytes]] = {}

    def put(self, report: Report) -> None:
        self._reports[report.id] = (report.summary, report_body(report))

    def get(self, report_id: str) -> Report | None:
        found = self._reports.get(report_id)
        return None if found is None else report_from_body(*found)

    def list_reports(self, limit: int = 20, before: str | None = None) -> list[ReportSummary]:
        check_list_limit(limit)
        if before is not None and not is_record_id(before):
            raise InvalidInputError(f"before {before!r} is not a report id (32 hex digits)")
        ids = [key for key in sorted(self._reports, reverse=True) if before is None or key < before]
        return [self._reports[key][0] for key in ids[:limit]]

    def delete(self, report_id: str) -> bool:
        return self._reports.pop(report_id, None) is not None

    def close(self) -> None:
        pass
