"""The researcher on AWS: the door of the FastAPI app on Lambda, from a container image.

One function (``services/researcher``, whose ``handler.py`` is the image's entry point)
serves three kinds of event:

* **API Gateway** (REST, proxy integration): ``POST /research``, ``POST /research/jobs``
  and ``GET /research/jobs/{job_id}`` go to the same FastAPI app as ``alex serve``
  (:func:`alex.http.app.create_app`), through Mangum; so does the portfolio's
  ``POST /portfolio/projection``, which needs numpy (in this image, not in the portfolio's
  zip) and reads the portfolio table (``ALEX_PORTFOLIO_TABLE``). API Gateway checks the API key
  before the function runs (``private: true``); see :class:`TrustApiGatewayKey` for how
  the app's own key check accepts those requests.
* **The web pages** (:mod:`alex.web`), under :data:`PAGES_PREFIX` (``/app``): API Gateway
  publishes ``/app`` and ``/app/{proxy+}`` without an API key (a browser cannot send one),
  and the app's own session guards them: sign-in takes the API's real key, read from API
  Gateway once per container (``ALEX_API_KEY_ID``, :func:`pages_key`). :class:`BehindApiGateway`
  gives the app the stage prefix (``/dev``) as its ``root_path``, so links, redirects and
  the session cookie's ``Path`` carry it.
* **A research job**, ``{"alex_research_job": "<job_id>"}``: ``POST /research/jobs``
  stores the queued job in DynamoDB (:mod:`alex.adapters.dynamo_jobs`) and invokes this
  same function asynchronously with this event (:mod:`alex.adapters.lambda_invoker`); that
  invocation runs it (up to the function's 15 minutes, where API Gateway gives up after 29
  seconds).
* **The schedule**, ``{"alex_scheduled_research": {"topic": null, "urls": []}}``: an
  EventBridge Scheduler schedule (disabled by default) queues and runs one job.
* **An analysis job**, ``{"alex_analysis_job": "<job_id>"}``: the planner's job
  (docs/planner.md, "In the cloud") the same way: ``POST /analysis/jobs`` stores it queued
  in the planner's table (``ALEX_PLANNER_TABLE``) and invokes this function with this event;
  :func:`alex.planner.service.run_analysis_job` claims it (one run however many deliveries)
  and runs it. A job Lambda killed at the function's timeout reads as failed, timed out
  (:data:`ANALYSIS_STALE_AFTER`). ``GET /reports`` and ``GET /reports/{id}`` read the reports.
* **The analysis schedule**, ``{"alex_scheduled_analysis": {}}``: a second schedule
  (monthly, disabled by default) queues and runs one analysis job.

The OpenAI key is an SSM Parameter Store SecureString: the template holds only its
name (``OPENAI_API_KEY_PARAMETER``); it is read, decrypted, once per container, when the
first research run opens the chat model, and goes into that run's settings.

The same image also runs outside Lambda (App Runner, opt-in): ``python -m
alex.http.research_cloud`` serves the app with uvicorn on ``ALEX_HTTP_PORT`` (see
:func:`serve`). boto3 is imported on first use only; docs/researcher-cloud.md describes the
deployment.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import secrets
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES
from pydantic import SecretStr, ValidationError

from alex.adapters.aws_clients import aws_client, read_api_key, read_secure_parameter
from alex.adapters.dynamo_jobs import DynamoJobStore
from alex.adapters.lambda_invoker import ANALYSIS_JOB_EVENT, JOB_EVENT, AsyncInvoker
from alex.config import Settings, load_settings
from alex.domain.errors import AlexError, ConfigError
from alex.http.app import API_KEY_HEADER, ASGIApp, Receive, Scope, Send, create_app
from alex.http.errors import error_body, status_for
from alex.http.schemas import ResearchBody
from alex.ports import ClaimingJobStore
from alex.research.jobs import new_job
from alex.research.llm import ChatModel, ModelOpener, open_chat_model
from alex.research.service import run_job
from alex.services import Services

logger = logging.getLogger("alex.research.cloud")
logger.setLevel(logging.INFO)

# The event EventBridge Scheduler sends (the other, JOB_EVENT, this function sends itself).
SCHEDULE_EVENT = "alex_scheduled_research"
# The analysis schedule's event (its input is an empty object: nothing to choose).
ANALYSIS_SCHEDULE_EVENT = "alex_scheduled_analysis"

# The function's timeout (services/researcher/serverless.yml, checked by tests/deploy). Lambda
# kills an invocation then without a word, so a running analysis job older than this and a
# minute's margin (clocks, the claim's own write) can only be one whose run was killed: it
# reads as failed, timed out (alex.planner.service.timed_out). The job's own limit
# (ALEX_ANALYSIS_TIMEOUT_SECONDS, 840 s there) normally ends it first, with its reason.
FUNCTION_TIMEOUT_SECONDS = 900
ANALYSIS_STALE_AFTER = timedelta(seconds=FUNCTION_TIMEOUT_SECONDS + 60)

# Environment of the function (services/researcher/serverless.yml).
JOBS_TABLE_ENV = "ALEX_JOBS_TABLE"
OPENAI_KEY_PARAMETER_ENV = "OPENAI_API_KEY_PARAMETER"
# The function that runs jobs: this one on Lambda; set explicitly for the App Runner service.
WORKER_FUNCTION_ENV = "ALEX_WORKER_FUNCTION"
HTTP_PORT_ENV = "ALEX_HTTP_PORT"
# The id of the API's key (the ingest service's), whose value the pages' sign-in takes.
API_KEY_ID_ENV = "ALEX_API_KEY_ID"

# Where the pages live behind API Gateway: one greedy resource apart from the JSON routes
# (docs/deploy.md, "The pages in the cloud"). services/researcher/serverless.yml publishes
# /app and /app/{proxy+} for GET and POST without a key; tests/deploy checks the two agree.
PAGES_PREFIX = "/app"
# Answers Mangum passes to API Gateway as text (the rest as base64, which API Gateway turns
# back into bytes only for its binary media types): the pages' SVG icon is text too, so
# every file the pages serve today goes through unchanged (tests/deploy/test_pages_cloud.py).
TEXT_MIME_TYPES = [*DEFAULT_TEXT_MIME_TYPES, "image/svg+xml"]


# ------------------------------------------------------------------------ the OpenAI key


def chat_model_opener(parameter: str | None, ssm: Callable[[], Any]) -> ModelOpener:
    """Opens the configured chat model, with the OpenAI key from SSM ``parameter`` (when
    given and ``OPENAI_API_KEY`` is not set) put into the settings first."""

    def open_model(settings: Settings) -> AbstractContextManager[ChatModel]:
        if parameter and settings.openai_api_key is None:
            key = read_secure_parameter(parameter, ssm())
            settings = settings.model_copy(update={"openai_api_key": SecretStr(key)})
        return open_chat_model(settings)

    return open_model


# ------------------------------------------------------------------------ the API key


def api_gateway_checked_key(event: object) -> bool:
    """Whether API Gateway accepted an API key for this request.

    API Gateway fills ``requestContext.identity.apiKeyId`` (and ``apiKey``) only for
    methods that require a key, and only after it has checked the key: a request without a
    valid key is refused with 403 before any function runs. The event itself comes from
    API Gateway or from a caller allowed to invoke the function (IAM), never from the
    client, which cannot set ``requestContext``.
    """
    if not isinstance(event, Mapping):
        return False
    context = event.get("requestContext")
    identity = context.get("identity") if isinstance(context, Mapping) else None
    if not isinstance(identity, Mapping):
        return False
    return bool(identity.get("apiKeyId") or identity.get("apiKey"))


class TrustApiGatewayKey:
    """ASGI middleware: a request API Gateway has authenticated passes the app's key check.

    The app (:func:`alex.http.app.create_app`) compares ``x-api-key`` with its own key.
    On Lambda that key is random, per container, and known to no one; for a request whose
    event shows API Gateway checked its key (:func:`api_gateway_checked_key`), this
    middleware replaces the ``x-api-key`` header with it. Any other request keeps its own
    header and gets 403, so a route wrongly published without ``private: true`` stays
    closed. Outside Lambda (no ``aws.event`` in the scope) it changes nothing.
    """

    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app = app
        self._key = key.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") == "http" and api_gateway_checked_key(scope.get("aws.event")):
            header = API_KEY_HEADER.encode("ascii")
            headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != header]
            scope = {**scope, "headers": [*headers, (header, self._key)]}
        await self.app(scope, receive, send)


# ------------------------------------------------------------------------ the stage prefix


def stage_root_path(event: object) -> str:
    """The part of the browser's path that API Gateway takes off before the function sees it.

    On the ``execute-api`` URL that is the stage, ``/dev``: ``requestContext.path`` is
    ``/dev/app/login`` while ``path`` is ``/app/login``. Behind a custom domain it is the
    base path mapping's (often nothing). Empty when the event says nothing about it.
    """
    if not isinstance(event, Mapping):
        return ""
    context = event.get("requestContext")
    seen = context.get("path") if isinstance(context, Mapping) else None
    path = event.get("path")
    if not (isinstance(seen, str) and isinstance(path, str)):
        return ""
    if seen != path and seen.endswith(path):
        return seen[: len(seen) - len(path)].rstrip("/")
    stage = context.get("stage") if isinstance(context, Mapping) else None
    if isinstance(stage, str) and stage and seen.startswith(f"/{stage}/"):
        return f"/{stage}"  # the two paths differ by more than the prefix (encoding)
    return ""


class BehindApiGateway:
    """ASGI middleware: the stage prefix as the app's ``root_path``.

    Mangum gives the app API Gateway's ``path`` (``/app/login``) and an empty
    ``root_path``, so every link and redirect the app wrote would drop the stage and land on
    API Gateway's 403. With ``root_path`` ``/dev`` (and ``path`` ``/dev/app/login``, as ASGI
    has it) routing is unchanged and ``url_for`` writes ``/dev/app/...``. Outside Lambda (no
    ``aws.event``) it changes nothing.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") == "http":
            root = stage_root_path(scope.get("aws.event"))
            if root:
                scope = {**scope, "root_path": root, "path": root + scope["path"]}
        await self.app(scope, receive, send)


def pages_key(key_id: str | None, apigateway: Callable[[], Any]) -> str | None:
    """The API key the pages' sign-in takes: API Gateway's key ``key_id``, read once per
    container. None when no id is set or it cannot be read (logged): the pages then
    refuse every key, and the JSON routes and jobs go on working."""
    if not key_id:
        return None
    try:
        return read_api_key(key_id, apigateway())
    except ConfigError as error:
        logger.error("The pages cannot sign anyone in: %s", error.message)
        return None


# ------------------------------------------------------------------------ the function


def _json_response(status: int, payload: object) -> dict[str, Any]:
    return {
        "statusCode": int(status),
        "headers": {"content-type": "application/json"},
        "body": json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
    }


def is_http_event(event: Mapping[str, Any]) -> bool:
    return "httpMethod" in event or "routeKey" in event


class CloudResearcher:
    """One per container: the services, the job table, the app; dispatches each event."""

    def __init__(
        self,
        services: Services,
        store: ClaimingJobStore,
        api_key: str | None = None,
        pages_key: str | None = None,
    ) -> None:
        """``services`` keep their research jobs in ``store`` (the one that can claim a job).
        ``api_key``: the app's own key (App Runner, where no API Gateway checks one);
        None on Lambda, where a random key only API-Gateway-checked requests get is used.
        ``pages_key``: the key the pages' sign-in takes (default ``api_key``; on Lambda the
        API's real key, :func:`pages_key`; without one nobody can sign in)."""
        self.services = services
        self.store = store
        self.jobs = services.research_jobs
        key = api_key or secrets.token_urlsafe(32)
        app = create_app(services, key, pages_key=pages_key or key, pages_prefix=PAGES_PREFIX)
        self.app = BehindApiGateway(TrustApiGatewayKey(app, key))
        self._http = Mangum(self.app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)
        self._loop = asyncio.new_event_loop()

    @classmethod
    def from_environment(cls, api_key: str | None = None) -> CloudResearcher:
        """As deployed: settings from the environment (ALEX_BACKEND=aws), the job table
        ``ALEX_JOBS_TABLE``, jobs run by ``ALEX_WORKER_FUNCTION`` (default: this function)."""
        settings = load_settings()
        table = os.environ.get(JOBS_TABLE_ENV, "").strip()
        worker = (
            os.environ.get(WORKER_FUNCTION_ENV) or os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or ""
        ).strip()
        if not table or not worker:
            missing = JOBS_TABLE_ENV if not table else WORKER_FUNCTION_ENV
            raise ConfigError(f"{missing} must be set for the researcher in the cloud")
        region = settings.aws_region
        parameter = os.environ.get(OPENAI_KEY_PARAMETER_ENV, "").strip() or None
        store = DynamoJobStore(table, aws_client("dynamodb", region))
        # Analysis jobs in the planner's table (ALEX_PLANNER_TABLE), started like research
        # jobs; without the table the planner's routes answer its ConfigError.
        analysis_jobs = launch_analysis = None
        if settings.planner_table:
            from alex.adapters.planner_dynamo import DynamoAnalysisJobStore

            analysis_jobs = DynamoAnalysisJobStore(
                settings.planner_table, aws_client("dynamodb", region)
            )
            launch_analysis = AsyncInvoker(
                aws_client("lambda", region),
                worker,
                analysis_jobs,
                event=ANALYSIS_JOB_EVENT,
                what="analysis job",
            )
        services = Services(
            settings,
            open_chat_model=chat_model_opener(parameter, lambda: aws_client("ssm", region)),
            job_store=store,
            launch_job=AsyncInvoker(aws_client("lambda", region), worker, store),
            launch_analysis=launch_analysis,
            analysis_jobs=analysis_jobs,
            analysis_stale_after=ANALYSIS_STALE_AFTER,
        )
        sign_in = None
        if api_key is None:  # on Lambda: the API's own key, from API Gateway
            key_id = os.environ.get(API_KEY_ID_ENV, "").strip() or None
            sign_in = pages_key(key_id, lambda: aws_client("apigateway", region))
        return cls(services, store, api_key, sign_in)

    def handle(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        if JOB_EVENT in event:
            return self.run_queued_job(str(event[JOB_EVENT]))
        if SCHEDULE_EVENT in event:
            return self.run_scheduled(event[SCHEDULE_EVENT])
        if ANALYSIS_JOB_EVENT in event:
            return self.run_analysis_job(str(event[ANALYSIS_JOB_EVENT]))
        if ANALYSIS_SCHEDULE_EVENT in event:
            return self.run_scheduled_analysis()
        if is_http_event(event):
            return self._serve_http(event, context)
        raise ValueError(
            f"Unknown event (keys {sorted(event)[:10]}): expected an API Gateway request, "
            f"{{{JOB_EVENT!r}: job_id}}, {{{SCHEDULE_EVENT!r}: {{'topic': ...}}}}, "
            f"{{{ANALYSIS_JOB_EVENT!r}: job_id}} or {{{ANALYSIS_SCHEDULE_EVENT!r}: {{}}}}"
        )

    def _serve_http(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        # Mangum runs the app on the thread's current event loop. A research run in an
        # earlier event of this container (asyncio.run, in the Agents SDK) leaves the thread
        # without one, so set the container's own loop again before each request.
        if self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        return self._http(dict(event), context)

    def run_queued_job(self, job_id: str) -> dict[str, Any]:
        """Run a job ``POST /research/jobs`` queued, unless another delivery took it."""
        if self.store.get(job_id) is None:
            logger.warning("Research job %s does not exist (expired?): nothing to run", job_id)
            return {"job_id": job_id, "status": "missing"}
        if not self.store.claim(job_id):
            logger.warning("Research job %s is not queued any more: not run again", job_id)
            return {"job_id": job_id, "status": "skipped"}
        run_job(self.services.research, self.store, job_id)
        return self._outcome(job_id)

    def run_scheduled(self, payload: object) -> dict[str, Any]:
        """Queue and run one job now (the scheduled invocation is already asynchronous)."""
        try:
            body = ResearchBody.model_validate(payload or {})
        except ValidationError as error:
            raise ValueError(f"Invalid {SCHEDULE_EVENT} input: {error}") from None
        job = new_job(body.topic, body.urls)
        self.store.put(job)
        logger.info("Scheduled research job %s (topic %r)", job.job_id, body.topic)
        return self.run_queued_job(job.job_id)

    def run_analysis_job(self, job_id: str) -> dict[str, Any]:
        """Run an analysis job ``POST /analysis/jobs`` queued; a job another delivery took
        (or that ended) is not run again: its record is answered as it is."""
        from alex.planner.service import run_analysis_job  # the planner: on its events only

        analysis = self.services.analysis
        if analysis.jobs.get(job_id) is None:
            logger.warning("Analysis job %s does not exist (expired?): nothing to run", job_id)
            return {"job_id": job_id, "status": "missing"}
        job = run_analysis_job(analysis, job_id)
        outcome: dict[str, Any] = {"job_id": job_id, "status": job.status}
        if job.report_id is not None:
            outcome["report_id"] = job.report_id
        if job.failure is not None:
            outcome["error"] = job.failure.message
        logger.info("Analysis job %s: %s", job_id, outcome)
        return outcome

    def run_scheduled_analysis(self) -> dict[str, Any]:
        """Queue and run one analysis job now (the schedule's invocation is asynchronous)."""
        job = self.services.analysis.create()
        logger.info("Scheduled analysis job %s", job.id)
        return self.run_analysis_job(job.id)

    def _outcome(self, job_id: str) -> dict[str, Any]:
        job = self.store.get(job_id)
        if job is None:
            return {"job_id": job_id, "status": "missing"}
        outcome: dict[str, Any] = {"job_id": job_id, "status": job.status}
        if job.result is not None:
            outcome["document_id"] = job.result.document_id
        if job.error is not None:
            outcome["error"] = job.error.message
        logger.info("Research job %s: %s", job_id, outcome)
        return outcome


@functools.cache
def runtime() -> CloudResearcher:
    """The container's researcher, built on the first event (a failure is retried next time)."""
    return CloudResearcher.from_environment()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point (services/researcher/handler.py, the image's CMD)."""
    try:
        researcher = runtime()
    except AlexError as error:
        logger.error("The researcher could not start: %s", error.message)
        if is_http_event(event):
            return _json_response(status_for(error), error_body(error.message))
        raise
    return researcher.handle(event, context)


# ------------------------------------------------------------------------ outside Lambda


def serve() -> None:
    """The app as a web server on ``ALEX_HTTP_PORT`` (the opt-in App Runner service).

    No API Gateway in front: the app checks ``ALEX_API_KEY`` itself (App Runner injects it
    from SSM). Jobs still run on the Lambda function named by ``ALEX_WORKER_FUNCTION``:
    App Runner throttles the CPU of an instance between requests, so background work
    there would crawl.
    """
    from alex.http import server

    settings = load_settings()
    if settings.api_key is None:
        raise ConfigError("ALEX_API_KEY must be set: the app checks the key itself here")
    researcher = CloudResearcher.from_environment(settings.api_key.get_secret_value())
    port = int(os.environ.get(HTTP_PORT_ENV) or 8080)
    # All interfaces: the container's port is what App Runner's proxy forwards to.
    server.run(researcher.app, "0.0.0.0", port)  # noqa: S104


if __name__ == "__main__":
    serve()
