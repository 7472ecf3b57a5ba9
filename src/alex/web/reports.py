"""The reports page: start an analysis job (as ``POST /analysis/jobs`` does), watch its six
steps, read the report it stored (its text, its charts with their tables, the number check's
counts and the figure set it was checked against) and the past reports, newest first.

The pages live under ``/analysis`` (``/analysis/runs/<job>``, ``/analysis/reports/<id>``):
``/reports`` and ``/analysis/jobs`` are the JSON API's, keyed, on the same app.

Live steps by polling the job's record, as the research page does (:mod:`alex.web.research`
says why polling and not server-sent events): the status fragment carries htmx's trigger
while the job is queued or running and comes back without it once the job has ended. A
finished job's fragment links to its report: the report is its own page, so its charts are
drawn by the chart scripts that page loads, not by script run on swapped-in HTML.

The report's Markdown is the model's and the code's text: it is rendered by
:func:`alex.planner.render.markdown_html` (CommonMark with raw HTML escaped, never passed
through), the same conversion as the standalone ``report.html``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from alex.domain.errors import AlexError, NotFoundError
from alex.http.errors import status_for
from alex.planner.jobs import AnalysisJob, StepName, is_record_id
from alex.planner.render import markdown_html
from alex.planner.reports import Report, ReportSummary
from alex.web.charts import ChartView, chart_view
from alex.web.pages import FormSession, PageSession, page_services, render
from alex.web.research import POLL

PAST_REPORTS = 20  # reports a page of the list shows

STEP_LABELS: dict[StepName, str] = {
    "classify": "Classify instruments of unknown class, region or sector",
    "compute": "Compute the figures and draw the charts",
    "recall": "Recall notes from the knowledge base",
    "write": "Write the report",
    "check": "Check every number against the figures",
    "store": "Store the report",
}
# The number check's counts (``ReportCheck``'s fields), as the report page names them.
CHECK_LABELS = (
    ("numbers_checked", "Numbers checked"),
    ("removed", "Sentences removed"),
    ("flagged", "Sentences flagged"),
    ("contradictions", "Actions contradicting the figures"),
)
# A step's status as the research page's step styles name it.
_STATE = {"pending": "waiting", "running": "current", "done": "done"}


@dataclass(frozen=True)
class StepView:
    label: str
    status: str  # the job's own word: pending, running, done, failed, skipped
    state: str  # the style: waiting, current, done, failed, skipped
    detail: str


def step_views(job: AnalysisJob) -> list[StepView]:
    """The job's steps in order, each with its label, status and detail."""
    return [
        StepView(
            STEP_LABELS[step.name],
            step.status,
            _STATE.get(step.status, step.status),
            step.detail,
        )
        for step in job.steps
    ]


@dataclass(frozen=True)
class FigureRow:
    name: str
    label: str
    text: str


def figure_rows(figures: Mapping[str, Any]) -> list[FigureRow]:
    """The stored figure set (``figure_json.figures_to_json``) as table rows, in its order."""
    stored = figures.get("figures")
    if not isinstance(stored, Mapping):
        return []
    return [
        FigureRow(str(name), str(raw.get("label", "")), str(raw.get("text", "")))
        for name, raw in stored.items()
        if isinstance(raw, Mapping)
    ]


@dataclass(frozen=True)
class ReportView:
    report: Report
    text: Markup
    charts: list[ChartView]
    figures: list[FigureRow]
    counts: list[tuple[str, str, int]]  # field, label, count


def report_view(report: Report) -> ReportView:
    # Markup: markdown_html escapes every character of the text itself (html=False), so
    # Jinja must not escape its tags a second time.
    text = Markup(markdown_html(report.markdown))  # noqa: S704 (escaped by markdown_html)
    charts = [chart_view(name, dict(spec)) for name, spec in report.charts.items()]
    counts = [(field, label, getattr(report.check, field)) for field, label in CHECK_LABELS]
    return ReportView(report, text, charts, figure_rows(report.figures), counts)


def build_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def list_page(
        request: Request,
        session: Any,
        before: str | None = None,
        status_code: int = 200,
        errors: tuple[str, ...] = (),
    ) -> Response:
        # One more than a page: whether an older page exists, without a count.
        found = page_services(request).analysis.list_reports(PAST_REPORTS + 1, before)
        shown: list[ReportSummary] = found[:PAST_REPORTS]
        older = shown[-1].id if len(found) > PAST_REPORTS else None
        return render(
            request,
            "reports.html",
            session,
            status_code=status_code,
            page="reports",
            past=shown,
            before=before,
            older=older,
            errors=list(errors),
        )

    @router.get("/analysis", name="reports")
    def reports_page(request: Request, session: PageSession, before: str | None = None) -> Response:
        if before is not None and not is_record_id(before):
            error = "before: a report's id (32 hex digits) from this list"
            return list_page(request, session, status_code=400, errors=(error,))
        return list_page(request, session, before)

    @router.post("/analysis", name="reports_start")
    def start(request: Request, session: FormSession) -> Response:
        try:
            job = page_services(request).analysis.submit()
        except AlexError as error:
            status = status_for(error)
            return list_page(request, session, status_code=status, errors=(error.message,))
        target = request.url_for("reports_job", job_id=job.id).path
        return RedirectResponse(target, status_code=303)

    def job_or_none(request: Request, job_id: str) -> AnalysisJob | None:
        if not is_record_id(job_id):
            return None
        try:
            return page_services(request).analysis.job(job_id)
        except NotFoundError:
            return None

    def job_context(job: AnalysisJob) -> dict[str, Any]:
        return {"job": job, "steps": step_views(job), "poll": POLL}

    @router.get("/analysis/runs/{job_id}", name="reports_job")
    def job_page(request: Request, session: PageSession, job_id: str) -> Response:
        job = job_or_none(request, job_id)
        if job is None:
            missing = {"page": "reports", "what": "job"}
            return render(request, "reports_missing.html", session, status_code=404, **missing)
        return render(request, "reports_job.html", session, page="reports", **job_context(job))

    @router.get("/analysis/runs/{job_id}/status", name="reports_job_status")
    def job_status(request: Request, session: PageSession, job_id: str) -> Response:
        job = job_or_none(request, job_id)
        if job is None:
            return render(request, "reports_status_missing.html", session, status_code=404)
        return render(request, "reports_status.html", session, **job_context(job))

    @router.get("/analysis/reports/{report_id}", name="report")
    def report_page(request: Request, session: PageSession, report_id: str) -> Response:
        report = None
        if is_record_id(report_id):
            try:
                report = page_services(request).analysis.report(report_id)
            except NotFoundError:
                report = None
        if report is None:
            return render(
                request,
                "reports_missing.html",
                session,
                status_code=404,
                page="reports",
                what="report",
            )
        return render(
            request, "reports_report.html", session, page="reports", view=report_view(report)
        )

    return router


router = build_router()
