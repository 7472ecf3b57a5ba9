"""The researcher on AWS: the FastAPI app on Lambda, from a container image.

One function (``services/researcher``) serves three kinds of event:

* **API Gateway** (REST, proxy integration): ``POST /research``, ``POST /research/jobs``
  and ``GET /research/jobs/{job_id}`` go to the same FastAPI app as ``alex serve``
  (:func:`alex.http.app.create_app`), through Mangum. API Gateway checks the API key
  before the function runs (``private: true``); see :class:`TrustApiGatewayKey` for how
  the app's own key check accepts those requests.
* **A research job**, ``{"alex_research_job": "<job_id>"}``: ``POST /research/jobs``
  stores the queued job in DynamoDB and invokes this same function asynchronously with
  this event (:class:`AsyncInvoker`); that invocation runs it (up to the function's
  15 minutes, where API Gateway gives up after 29 seconds).
* **The schedule**, ``{"alex_scheduled_research": {"topic": null, "urls": []}}``: an
  EventBridge Scheduler schedule (disabled by default) queues and runs one job.

The OpenAI key is an SSM Parameter Store SecureString: the template holds only its
name (``OPENAI_API_KEY_PARAMETER``); it is read, decrypted, once per container, when the
first research run opens the chat model, and goes into that run's settings.

The same image also runs outside Lambda (App Runner, opt-in): ``python -m
alex.research.cloud`` serves the app with uvicorn on ``ALEX_HTTP_PORT`` (see :func:`serve`).
boto3 is imported on first use only; docs/researcher-cloud.md describes the deployment.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

from mangum import Mangum
from pydantic import SecretStr, ValidationError

from alex.config import Settings, load_settings
from alex.domain.errors import AlexError, ConfigError, StoreUnavailableError
from alex.http.app import API_KEY_HEADER, ASGIApp, Receive, Scope, Send, create_app
from alex.http.errors import error_body, status_for
from alex.http.schemas import ResearchBody, ResearchJobError, ResearchJobResponse
from alex.research.llm import ChatModel, open_chat_model
from alex.research.service import JobStore, new_job, run_job
from alex.services import Services

logger = logging.getLogger("alex.research.cloud")
logger.setLevel(logging.INFO)

# The two events this module sends itself (or EventBridge Scheduler sends it).
JOB_EVENT = "alex_research_job"
SCHEDULE_EVENT = "alex_scheduled_research"

# Environment of the function (services/researcher/serverless.yml).
JOBS_TABLE_ENV = "ALEX_JOBS_TABLE"
OPENAI_KEY_PARAMETER_ENV = "OPENAI_API_KEY_PARAMETER"
# The function that runs jobs: this one on Lambda; set explicitly for the App Runner service.
WORKER_FUNCTION_ENV = "ALEX_WORKER_FUNCTION"
HTTP_PORT_ENV = "ALEX_HTTP_PORT"

# Jobs are kept a week after their last change; DynamoDB's TTL (on TTL_ATTRIBUTE, epoch
# seconds) then deletes them.
JOB_TTL_SECONDS = 7 * 24 * 3600
TTL_ATTRIBUTE = "expires_at"
# DynamoDB's item limit is 400 KB; a job's JSON stays below this, or is stored as failed.
MAX_JOB_JSON_BYTES = 350_000
_JOB_ID = re.compile(r"^[0-9a-f]{32}$")


# ------------------------------------------------------------------------ AWS clients


@functools.cache
def aws_client(service: str, region: str | None = None) -> Any:
    """One boto3 client per service and region for the container's life (thread-safe)."""
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30
    )
    return boto3.client(service, region_name=region, config=config)


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    code = response.get("Error", {}).get("Code")
    return str(code or type(error).__name__)


# ------------------------------------------------------------------------ the secret

_parameter_values: dict[str, str] = {}
_parameter_lock = threading.Lock()


def read_secure_parameter(name: str, client: Any) -> str:
    """The decrypted value of SSM parameter ``name``, read once per container."""
    with _parameter_lock:
        if name in _parameter_values:
            return _parameter_values[name]
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            parameter = client.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        except ClientError as error:
            code = _error_code(error)
            if code == "ParameterNotFound":
                raise ConfigError(
                    f"The SSM parameter {name} does not exist: create it as a SecureString "
                    "holding your OpenAI API key (docs/researcher-cloud.md)"
                ) from None
            raise ConfigError(f"Cannot read the SSM parameter {name}: {code}") from None
        except BotoCoreError as error:
            raise ConfigError(f"Cannot read the SSM parameter {name}: {error}") from None
        value = str(parameter.get("Value", "")).strip()
        if not value:
            raise ConfigError(f"The SSM parameter {name} is empty")
        if parameter.get("Type") != "SecureString":
            logger.warning("SSM parameter %s is not a SecureString: store it encrypted", name)
        _parameter_values[name] = value
        return value


ModelOpener = Callable[[Settings], AbstractContextManager[ChatModel]]


def chat_model_opener(parameter: str | None, ssm: Callable[[], Any]) -> ModelOpener:
    """Opens the configured chat model, with the OpenAI key from SSM ``parameter`` (when
    given and ``OPENAI_API_KEY`` is not set) put into the settings first."""

    def open_model(settings: Settings) -> AbstractContextManager[ChatModel]:
        if parameter and settings.openai_api_key is None:
            key = read_secure_parameter(parameter, ssm())
            settings = settings.model_copy(update={"openai_api_key": SecretStr(key)})
        return open_chat_model(settings)

    return open_model


# ------------------------------------------------------------------------ the job table


class ClaimingJobStore(JobStore, Protocol):
    """A job store that can hand a queued job to exactly one worker."""

    def claim(self, job_id: str) -> bool: ...


class DynamoJobStore:
    """Research jobs in a DynamoDB table (partition key ``job_id``, string).

    Each item holds the job's JSON (``job``), its status (``job_status``, for the
    conditional claim) and ``expires_at`` (epoch seconds), the table's TTL attribute.
    Reads are strongly consistent: a client polls right after submitting.
    """

    def __init__(
        self,
        table: str,
        client: Any,
        ttl_seconds: int = JOB_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table = table
        self._client = client
        self._ttl = ttl_seconds
        self._clock = clock

    def put(self, job: ResearchJobResponse) -> None:
        body = job.model_dump_json()
        if len(body.encode("utf-8")) > MAX_JOB_JSON_BYTES:
            logger.error("Research job %s is too large for the job table", job.job_id)
            stored = f" (stored as document {job.result.document_id})" if job.result else ""
            job = _failed(job, f"The result is too large to keep as a job{stored}", 500)
            body = job.model_dump_json()
        item = {
            "job_id": {"S": job.job_id},
            "job_status": {"S": job.status},
            "job": {"S": body},
            TTL_ATTRIBUTE: {"N": str(int(self._clock()) + self._ttl)},
        }
        self._call("write", lambda: self._client.put_item(TableName=self.table, Item=item))

    def get(self, job_id: str) -> ResearchJobResponse | None:
        if not _JOB_ID.match(job_id):  # not one of ours: no need to ask DynamoDB
            return None
        answer = self._call(
            "read",
            lambda: self._client.get_item(
                TableName=self.table, Key={"job_id": {"S": job_id}}, ConsistentRead=True
            ),
        )
        item = answer.get("Item")
        if not item:
            return None
        return ResearchJobResponse.model_validate_json(item["job"]["S"])

    def claim(self, job_id: str) -> bool:
        """Mark a queued job as taken; False if it is not queued (run or running elsewhere).

        Lambda delivers an asynchronous event at least once: a duplicate must not run a job
        twice."""
        from botocore.exceptions import ClientError

        try:
            self._client.update_item(
                TableName=self.table,
                Key={"job_id": {"S": job_id}},
                UpdateExpression="SET job_status = :running",
                ConditionExpression="job_status = :queued",
                ExpressionAttributeValues={
                    ":running": {"S": "running"},
                    ":queued": {"S": "queued"},
                },
            )
        except ClientError as error:
            if _error_code(error) == "ConditionalCheckFailedException":
                return False
            raise StoreUnavailableError(
                f"Cannot update the research job table {self.table}: {_error_code(error)}"
            ) from None
        return True

    def _call(self, what: str, action: Callable[[], Any]) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return action()
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailableError(
                f"Cannot {what} the research job table {self.table}: {_error_code(error)}"
            ) from None


def _failed(job: ResearchJobResponse, message: str, status: int) -> ResearchJobResponse:
    return job.model_copy(
        update={
            "status": "failed",
            "step": "failed",
            "result": None,
            "error": ResearchJobError(message=message, status=status),
        }
    )


# ------------------------------------------------------------------------ launching jobs


class JobLaunchError(AlexError):
    """A queued job could not be handed to the worker function (HTTP 500)."""


class AsyncInvoker:
    """``launch(job_id)`` for :class:`~alex.research.service.ResearchJobs`: invoke the worker
    function (this one) asynchronously with ``{"alex_research_job": job_id}``."""

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
            code = _error_code(error)
            logger.error("Could not invoke %s for job %s: %s", self.function_name, job_id, code)
            message = f"Could not start research job {job_id} ({code})"
            job = self._store.get(job_id)
            if job is not None:
                self._store.put(_failed(job, message, 500))
            raise JobLaunchError(message) from None


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
    ) -> None:
        """``services`` keep their research jobs in ``store`` (the one that can claim a job).
        ``api_key``: the app's own key (App Runner, where no API Gateway checks one);
        None on Lambda, where a random key only API-Gateway-checked requests get is used."""
        self.services = services
        self.store = store
        self.jobs = services.research_jobs
        key = api_key or secrets.token_urlsafe(32)
        self.app = TrustApiGatewayKey(create_app(services, key), key)
        self._http = Mangum(self.app, lifespan="off")
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
        services = Services(
            settings,
            open_chat_model=chat_model_opener(parameter, lambda: aws_client("ssm", region)),
            job_store=store,
            launch_job=AsyncInvoker(aws_client("lambda", region), worker, store),
        )
        return cls(services, store, api_key)

    def handle(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        if JOB_EVENT in event:
            return self.run_queued_job(str(event[JOB_EVENT]))
        if SCHEDULE_EVENT in event:
            return self.run_scheduled(event[SCHEDULE_EVENT])
        if is_http_event(event):
            return self._serve_http(event, context)
        raise ValueError(
            f"Unknown event (keys {sorted(event)[:10]}): expected an API Gateway request, "
            f"{{{JOB_EVENT!r}: job_id}} or {{{SCHEDULE_EVENT!r}: {{'topic': ...}}}}"
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
    """The Lambda entry point (the image's CMD: ``alex.research.cloud.handler``)."""
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
