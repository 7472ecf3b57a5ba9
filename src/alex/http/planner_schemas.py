"""The planner's request and answer bodies (``/analysis/jobs``, ``/reports``): the core's
records (:mod:`alex.planner.jobs`, :mod:`alex.planner.reports`) as the API answers them.

A report's figures and charts are answered as stored: JSON objects whose numbers are exact
decimal strings (``"171235.915075"``), so no client reads a float where the code computed a
Decimal.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from alex.http.errors import status_for_kind
from alex.planner.jobs import MAX_LIST, AnalysisJob, StepProgress
from alex.planner.reports import Report, ReportCheck, ReportSummary


class StepBody(BaseModel):
    name: Literal["classify", "compute", "recall", "write", "check", "store"]
    status: Literal["pending", "running", "done", "failed", "skipped"]
    detail: str
    at: str | None = Field(None, description="When it last changed, ISO 8601 UTC.")

    @classmethod
    def of(cls, step: StepProgress) -> StepBody:
        at = None if step.at is None else step.at.isoformat()
        return cls(name=step.name, status=step.status, detail=step.detail, at=at)


class CheckBody(BaseModel):
    numbers_checked: int = Field(description="Numbers the check read in the report.")
    removed: int = Field(description="Sentences removed: a number in them is no figure.")
    flagged: int
    contradictions: int = Field(description="Suggested actions removed: they contradicted "
                                "the figures.")  # fmt: skip

    @classmethod
    def of(cls, check: ReportCheck) -> CheckBody:
        return cls.model_validate(check, from_attributes=True)


class ReportSummaryBody(BaseModel):
    report_id: str
    created: str
    title: str
    model: str
    job_id: str
    check: CheckBody

    @classmethod
    def of(cls, summary: ReportSummary) -> ReportSummaryBody:
        return cls(
            report_id=summary.id,
            created=summary.created.isoformat(),
            title=summary.title,
            model=summary.model,
            job_id=summary.job_id,
            check=CheckBody.of(summary.check),
        )


class ReportBody(ReportSummaryBody):
    markdown: str
    figures: dict[str, Any] = Field(
        description="The figure set the report was written from: each figure's label, exact "
        "value (a decimal string), unit and display text, by key."
    )
    charts: dict[str, dict[str, Any]] = Field(description="Chart name -> Vega-Lite spec.")

    @classmethod
    def of_report(cls, report: Report) -> ReportBody:
        return cls(
            **ReportSummaryBody.of(report.summary).model_dump(),
            markdown=report.markdown,
            figures=dict(report.figures),
            charts={name: dict(spec) for name, spec in report.charts.items()},
        )


class ReportListResponse(BaseModel):
    reports: list[ReportSummaryBody]
    next_before: str | None = Field(
        None, description="Pass as `before` for the next page; null on the last page."
    )


class ReportListQuery(BaseModel):
    limit: int = Field(20, ge=1, le=MAX_LIST)
    before: str | None = Field(None, pattern=r"^[0-9a-f]{32}$", description="A report id.")


class AnalysisJobError(BaseModel):
    message: str
    status: int


class AnalysisJobResponse(BaseModel):
    job_id: str
    status: Literal["queued", "running", "succeeded", "failed"]
    created: str
    steps: list[StepBody]
    report_id: str | None = None
    result: ReportSummaryBody | None = Field(
        None, description="The report the job stored, when it succeeded."
    )
    error: AnalysisJobError | None = None

    @classmethod
    def of(cls, job: AnalysisJob, report: ReportSummary | None = None) -> AnalysisJobResponse:
        failure = job.failure
        return cls(
            job_id=job.id,
            status=job.status,
            created=job.created.isoformat(),
            steps=[StepBody.of(step) for step in job.steps],
            report_id=job.report_id,
            result=None if report is None else ReportSummaryBody.of(report),
            error=None
            if failure is None
            else AnalysisJobError(
                message=failure.message, status=int(status_for_kind(failure.kind))
            ),
        )
