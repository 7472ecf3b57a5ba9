"""What each planner route does, once, for every door (the app, the CLI's local client, a
cloud handler): start an analysis job, read it, list and read reports."""

from __future__ import annotations

from alex.domain.errors import NotFoundError
from alex.http.planner_schemas import (
    AnalysisJobResponse,
    ReportBody,
    ReportListQuery,
    ReportListResponse,
    ReportSummaryBody,
)
from alex.planner.jobs import AnalysisJob, is_record_id
from alex.services import Services


def _answer(services: Services, job: AnalysisJob) -> AnalysisJobResponse:
    report = None
    if job.report_id is not None:
        stored = services.analysis.reports.get(job.report_id)
        report = None if stored is None else stored.summary  # deleted since
    return AnalysisJobResponse.of(job, report)


def submit_analysis_job(services: Services) -> AnalysisJobResponse:
    return _answer(services, services.analysis.submit())


def analysis_job(services: Services, job_id: str) -> AnalysisJobResponse:
    if not is_record_id(job_id):
        raise NotFoundError(f"No analysis job {job_id}")
    return _answer(services, services.analysis.job(job_id))


def list_reports(services: Services, query: ReportListQuery) -> ReportListResponse:
    summaries = services.analysis.list_reports(query.limit, query.before)
    full = len(summaries) == query.limit
    return ReportListResponse(
        reports=[ReportSummaryBody.of(summary) for summary in summaries],
        next_before=summaries[-1].id if full and summaries else None,
    )


def get_report(services: Services, report_id: str) -> ReportBody:
    if not is_record_id(report_id):
        raise NotFoundError(f"No report {report_id}")
    return ReportBody.of_report(services.analysis.report(report_id))
