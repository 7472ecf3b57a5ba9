"""The planner's local stores: analysis jobs and reports as tables in Alex's SQLite file.

Same file and discipline as the documents and the portfolio (``sqlite_file.SqliteTables``):
WAL with full sync, every write one ``BEGIN IMMEDIATE`` transaction. Times are ISO texts of
one width (``alex.planner.jobs.time_text``), steps a JSON array, a report's Markdown, figures
and charts one compressed body (``alex.planner.reports.report_body``), as in DynamoDB.

**Restarts.** Every job row names the store that wrote it last (``owner``), and every open
store holds a lock file of that name (``owner_lock``) that the operating system releases when
its process ends, however it ends. On opening, a store marks failed, with
``INTERRUPTED``, each queued or running job whose owner's lock is free: a job is never left
"running" by a process that is gone, and one that another live process (``alex serve``
beside an ``alex analyse``) is running is left alone. The lock files live in
``<file>.owners/``, beside the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from alex.adapters.owner_lock import OwnerLock
from alex.adapters.sqlite_file import SqliteTables
from alex.domain.errors import InvalidInputError, StoreUnavailableError
from alex.domain.jobs import INTERNAL_ERROR, JobFailure
from alex.planner.jobs import (
    INTERRUPTED,
    AnalysisJob,
    StepProgress,
    check_list_limit,
    is_record_id,
    steps_from_json,
    steps_to_json,
    time_from_text,
    time_text,
    utc_now,
)
from alex.planner.reports import Report, ReportCheck, ReportSummary, report_body, report_from_body

PLANNER_SCHEMA = """
CREATE TABLE IF NOT EXISTS planner_jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    created TEXT NOT NULL,
    started TEXT,
    finished TEXT,
    steps TEXT NOT NULL,
    report_id TEXT,
    failure_message TEXT,
    failure_kind TEXT,
    owner TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS planner_jobs_unfinished ON planner_jobs(status)
    WHERE status IN ('queued', 'running');
CREATE TABLE IF NOT EXISTS planner_reports (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    title TEXT NOT NULL,
    model TEXT NOT NULL,
    job_id TEXT NOT NULL,
    numbers_checked INTEGER NOT NULL,
    removed INTEGER NOT NULL,
    flagged INTEGER NOT NULL,
    contradictions INTEGER NOT NULL,
    body BLOB NOT NULL
);
"""
# Whole statements, written out: no SQL is built from values (those are all parameters).
_SELECT_JOBS = (
    "SELECT id, status, created, started, finished, steps, report_id, failure_message,"
    " failure_kind, owner FROM planner_jobs"
)
_PUT_JOB = (
    "INSERT OR REPLACE INTO planner_jobs(id, status, created, started, finished, steps,"
    " report_id, failure_message, failure_kind, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT_REPORT = (
    "SELECT id, created, title, model, job_id, numbers_checked, removed, flagged,"
    " contradictions, body FROM planner_reports WHERE id = ?"
)
_LIST_REPORTS = (  # the summaries only: a list never reads the bodies
    "SELECT id, created, title, model, job_id, numbers_checked, removed, flagged,"
    " contradictions FROM planner_reports"
    " WHERE (?1 IS NULL OR id < ?1) ORDER BY id DESC LIMIT ?2"
)
_PUT_REPORT = (
    "INSERT OR REPLACE INTO planner_reports(id, created, title, model, job_id,"
    " numbers_checked, removed, flagged, contradictions, body)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _optional_time(text: str | None) -> datetime | None:
    return None if text is None else time_from_text(text)


def _job(row: Sequence[Any]) -> AnalysisJob:
    return AnalysisJob(
        id=row[0],
        status=row[1],
        created=time_from_text(row[2]),
        started=_optional_time(row[3]),
        finished=_optional_time(row[4]),
        steps=steps_from_json(row[5]),
        report_id=row[6],
        failure=None if row[7] is None else JobFailure(row[7], row[8]),
    )


def _job_row(job: AnalysisJob, owner: str) -> tuple[Any, ...]:
    return (
        job.id,
        job.status,
        time_text(job.created),
        None if job.started is None else time_text(job.started),
        None if job.finished is None else time_text(job.finished),
        steps_to_json(job.steps),
        job.report_id,
        None if job.failure is None else job.failure.message,
        None if job.failure is None else job.failure.kind,
        owner,
    )


def _summary(row: Sequence[Any]) -> ReportSummary:
    return ReportSummary(
        id=row[0],
        created=time_from_text(row[1]),
        title=row[2],
        model=row[3],
        job_id=row[4],
        check=ReportCheck(row[5], row[6], row[7], row[8]),
    )


class SqliteAnalysisJobStore(SqliteTables):
    """Analysis jobs in the SQLite file at ``path``; see the module's docstring."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, PLANNER_SCHEMA, "the analysis job store")
        try:
            self._owner = OwnerLock(path.with_name(path.name + ".owners"))
        except OSError as error:
            self.close()
            raise StoreUnavailableError(
                f"Cannot create the analysis job store's lock beside {path}: {error}"
            ) from error
        self.recovered = self._fail_orphans()
        """Ids of the jobs this store marked interrupted when it opened."""

    def _fail_orphans(self) -> list[str]:
        failure = JobFailure(INTERRUPTED, INTERNAL_ERROR)
        with self._writing() as db:
            sql = _SELECT_JOBS + " WHERE status IN ('queued', 'running')"
            rows = db.execute(sql).fetchall()
            orphans = [
                _job(row).failed(failure) for row in rows if not self._owner.is_alive(row[-1])
            ]
            db.executemany(
                _PUT_JOB,
                [_job_row(job, self._owner.token) for job in orphans],
            )
        return [job.id for job in orphans]

    def put(self, job: AnalysisJob) -> None:
        with self._writing() as db:
            db.execute(
                _PUT_JOB,
                _job_row(job, self._owner.token),
            )

    def get(self, job_id: str) -> AnalysisJob | None:
        if not is_record_id(job_id):
            return None
        rows = self._read(_SELECT_JOBS + " WHERE id = ?", (job_id,))
        return _job(rows[0]) if rows else None

    def claim(self, job_id: str) -> AnalysisJob | None:
        if not is_record_id(job_id):
            return None
        with self._writing() as db:
            # The condition and the write in one IMMEDIATE transaction: no other writer
            # (thread or process) can run between them.
            rows = db.execute(
                _SELECT_JOBS + " WHERE id = ? AND status = 'queued'",
                (job_id,),
            ).fetchall()
            if not rows:
                return None
            now = utc_now()
            db.execute(
                "UPDATE planner_jobs SET status = ?, started = ?, owner = ? WHERE id = ?",
                ("running", time_text(now), self._owner.token, job_id),
            )
        return _job(rows[0]).running(now)

    def update_steps(self, job_id: str, steps: Sequence[StepProgress]) -> bool:
        if not is_record_id(job_id):
            return False
        text = steps_to_json(steps)
        with self._writing() as db:
            changed = db.execute(
                "UPDATE planner_jobs SET steps = ? WHERE id = ? AND status = 'running'",
                (text, job_id),
            ).rowcount
        return bool(changed)

    def list_recent(self, limit: int = 20) -> list[AnalysisJob]:
        check_list_limit(limit)
        rows = self._read(_SELECT_JOBS + " ORDER BY id DESC LIMIT ?", (limit,))
        return [_job(row) for row in rows]

    def close(self) -> None:
        super().close()
        if hasattr(self, "_owner"):
            self._owner.release()


class SqliteReportStore(SqliteTables):
    """Reports in the SQLite file at ``path``; see the module's docstring."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, PLANNER_SCHEMA, "the report store")

    def put(self, report: Report) -> None:
        body = report_body(report)  # checks the whole report first: nothing stored if bad
        check = report.check
        with self._writing() as db:
            db.execute(
                _PUT_REPORT,
                (
                    report.id,
                    time_text(report.created),
                    report.title,
                    report.model,
                    report.job_id,
                    check.numbers_checked,
                    check.removed,
                    check.flagged,
                    check.contradictions,
                    body,
                ),
            )

    def get(self, report_id: str) -> Report | None:
        if not is_record_id(report_id):
            return None
        rows = self._read(_SELECT_REPORT, (report_id,))
        return report_from_body(_summary(rows[0]), bytes(rows[0][-1])) if rows else None

    def list_reports(self, limit: int = 20, before: str | None = None) -> list[ReportSummary]:
        check_list_limit(limit)
        if before is not None and not is_record_id(before):
            raise InvalidInputError(f"before {before!r} is not a report id (32 hex digits)")
        rows = self._read(
            _LIST_REPORTS,
            (before, limit),
        )
        return [_summary(row) for row in rows]

    def delete(self, report_id: str) -> bool:
        if not is_record_id(report_id):
            return False
        with self._writing() as db:
            return bool(
                db.execute("DELETE FROM planner_reports WHERE id = ?", (report_id,)).rowcount
            )
