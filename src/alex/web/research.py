"""The research page: start a run (a research job, as ``POST /research/jobs`` does), watch
its steps, read the analysis with its sources, unverified figures and left-out points, and
the past analyses (the knowledge base's documents of kind ``research``).

Live steps by polling, not server-sent events: the job's record (``ResearchJobs.get``) is
what the JSON API's clients poll too; a poll is a short request, so it works the same behind
API Gateway and Lambda (which do not stream an answer) and holds no server thread for the
run's length; htmx's ``hx-trigger="every 2s"`` needs no script of ours and no eval. The
status fragment stops polling by coming back without the trigger once the job has ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from alex.domain.errors import AlexError, NotFoundError
from alex.http.errors import validation_error_body
from alex.http.schemas import ResearchBody
from alex.research.jobs import ResearchJob
from alex.web.knowledge import title_of
from alex.web.pages import FormSession, PageSession, page_services, render

PAST_ANALYSES = 20
POLL = "every 2s"

# A run's steps as the researcher reports them (alex.research.orchestrator), in order; each
# reported step maps to the stage the page shows.
STAGES: tuple[tuple[str, str], ...] = (
    ("read", "Read the pages"),
    ("recall", "Recall notes from the knowledge base"),
    ("write", "Write the analysis"),
    ("store", "Check every figure and store the analysis"),
)
_STAGE_OF = {
    "queued": -1,
    "starting": -1,
    "model": -1,
    "read": 0,
    "skip": 0,
    "plan": 1,
    "recall": 1,
    "write": 2,
    "store": 3,
    "done": 4,
}


@dataclass(frozen=True)
class Stage:
    label: str
    state: str  # done, current or waiting


def stages(job: ResearchJob) -> list[Stage]:
    """Where the job is: each stage done, current or waiting."""
    at = len(STAGES) if job.status == "succeeded" else _STAGE_OF.get(job.step, -1)
    found = []
    for index, (_, label) in enumerate(STAGES):
        state = "done" if index < at else "current" if index == at else "waiting"
        found.append(Stage(label, state))
    return found


def web_link(url: str) -> str | None:
    """``url`` when it may be a link (http or https), else None: a page is shown as text."""
    return url if urlsplit(url).scheme in ("http", "https") else None


def _form_errors(error: ValidationError) -> list[str]:
    """The JSON API's own words for a refused body (``field: problem``), one a field."""
    _, body = validation_error_body(error.errors())
    details = body.get("errors")
    if not isinstance(details, list):
        return [str(body["message"])]
    return [f"{item['field']}: {item['problem']}" for item in details]


def build_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def start_page(request: Request, session: Any, status_code: int = 200, **form: Any) -> Response:
        past, total = page_services(request).documents.list_documents(
            PAST_ANALYSES, 0, {"kind": "research"}
        )
        return render(
            request,
            "research.html",
            session,
            status_code=status_code,
            page="research",
            past=[(summary, title_of(summary.id, summary.metadata)) for summary in past],
            past_total=total,
            **{"topic": "", "urls": "", "errors": [], **form},
        )

    @router.get("/research/runs", name="research_page")
    def research_page(request: Request, session: PageSession) -> Response:
        return start_page(request, session)

    @router.post("/research/runs", name="research_start")
    async def start(request: Request, session: FormSession) -> Response:
        form = await request.form()
        topic = form.get("topic")
        urls = form.get("urls")
        topic_text = topic.strip() if isinstance(topic, str) else ""
        urls_text = urls if isinstance(urls, str) else ""
        wanted = [line.strip() for line in urls_text.splitlines() if line.strip()]
        try:
            # The JSON API's own checks (lengths, how many URLs), before a job keeps them.
            body = ResearchBody.model_validate({"topic": topic_text or None, "urls": wanted})
            job = page_services(request).research_jobs.submit(body.topic, body.urls)
        except ValidationError as error:
            errors = _form_errors(error)
        except AlexError as error:
            errors = [error.message]
        else:
            target = request.url_for("research_run", job_id=job.job_id).path
            return RedirectResponse(target, status_code=303)
        return start_page(
            request, session, status_code=400, topic=topic_text, urls=urls_text, errors=errors
        )

    def job_or_none(request: Request, job_id: str) -> ResearchJob | None:
        try:
            return page_services(request).research_jobs.get(job_id)
        except NotFoundError:
            return None

    def run_context(job: ResearchJob) -> dict[str, Any]:
        return {"job": job, "stages": stages(job), "poll": POLL, "web_link": web_link}

    @router.get("/research/runs/{job_id}", name="research_run")
    def run_page(request: Request, session: PageSession, job_id: str) -> Response:
        job = job_or_none(request, job_id)
        if job is None:
            return render(
                request, "research_missing.html", session, status_code=404, page="research"
            )
        return render(request, "research_run.html", session, page="research", **run_context(job))

    @router.get("/research/runs/{job_id}/status", name="research_run_status")
    def run_status(request: Request, session: PageSession, job_id: str) -> Response:
        job = job_or_none(request, job_id)
        if job is None:
            return render(request, "research_status_missing.html", session, status_code=404)
        return render(request, "research_status.html", session, **run_context(job))

    return router


router = build_router()
