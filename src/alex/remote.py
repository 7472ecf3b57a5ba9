"""A client of Alex's keyed HTTP API: the CLI's remote mode (``ALEX_API_ENDPOINT``).

The same contract as ``alex serve`` and the deployed API, and the same answers as the
local client (``alex.client``). Cold starts (a Lambda or the SageMaker endpoint waking up)
answer slowly or with 502/503/504/429 for a while, so those are retried with backoff;
anything else is mapped to the domain error it stands for.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from alex import retry
from alex.client import Closing
from alex.domain.errors import (
    AlexError,
    ConfigError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    ResearchFailedError,
    StoreUnavailableError,
)
from alex.domain.models import IngestResult
from alex.http.planner_schemas import (
    AnalysisJobResponse,
    ReportBody,
    ReportListQuery,
    ReportListResponse,
)
from alex.http.portfolio_schemas import (
    ClassificationDecision,
    ClassificationListResponse,
    ClassifyResponse,
    ExportResponse,
    ImportResponse,
    PortfolioBody,
    PortfolioDeleteResponse,
    PortfolioImportBody,
    PriceAnswer,
    PriceBody,
    PricesImportBody,
    ProjectionBody,
    ProjectionRequest,
    SettingsBody,
    SettingsPut,
    TargetPut,
    TargetsResponse,
    XRayBody,
)
from alex.http.schemas import (
    BatchIngestResponse,
    DocumentBody,
    DocumentListResponse,
    DocumentSummaryBody,
    HealthResponse,
    ResearchJobResponse,
    ResearchResponse,
    SearchHit,
    SearchResponse,
)
from alex.ingest import IngestRequest, ProgressCallback

# A batch stays well inside what the deployed API takes in one request: Lambda's 6 MB
# payload and API Gateway's 29 s (64 documents a request: 46 docs/s through alex serve).
BATCH_DOCUMENTS = 64
BATCH_BYTES = 4_000_000
_BATCH_ENVELOPE = len(b'{"documents":[]}')

Answer = TypeVar("Answer", bound=BaseModel)

# API Gateway's answer (403) to a path or method the REST API does not have, whatever the key
# (a wrong key on a route it has is 403 "Forbidden").
NO_SUCH_ROUTE = "Missing Authentication Token"
# What to do when the API has no POST /portfolio/projection: a stage deployed before the
# researcher's image served it (or an image built before the portfolio existed: its app
# answers 404).
PROJECTION_MISSING = (
    "this deployment predates the projection in the cloud. Rebuild and push the researcher's "
    "image (uv run python services/researcher/build_image.py --region <your region>) and run "
    "npm run deploy (guides/5_portfolio.md); or project on this machine: comment out "
    "ALEX_API_ENDPOINT in .env (with ALEX_BACKEND=aws and ALEX_PORTFOLIO_TABLE it reads the "
    "table directly)"
)


class RemoteClient(Closing):
    """The API's routes as the CLI's client (``alex.client.AlexClient``), answers validated."""

    def __init__(
        self,
        endpoint: str,
        api_key: str,
        *,
        timeout_s: float = 60.0,
        attempts: int = retry.HTTP_CLIENT.attempts,
        base_delay_s: float = retry.HTTP_CLIENT.base_s,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        batch_documents: int = BATCH_DOCUMENTS,
        batch_bytes: int = BATCH_BYTES,
        poll_s: float = 1.0,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._batch_documents = max(1, batch_documents)
        self._batch_bytes = batch_bytes
        self._poll_s = poll_s
        self._client = httpx.Client(
            base_url=self.endpoint,
            headers={"x-api-key": api_key},
            timeout=timeout_s,
            transport=transport,
        )
        self._attempts = max(1, attempts)
        self._base_delay_s = base_delay_s
        self._sleep = sleep

    def _call(self, method: str, path: str, *, missing: str | None = None, **kwargs: Any) -> Any:
        """The JSON answer; ``missing``: what to do when the server has no such route (a
        route that never answers 404 itself), instead of the status's generic error."""
        error: str = ""
        policy = replace(retry.HTTP_CLIENT, attempts=self._attempts, base_s=self._base_delay_s)
        for _ in retry.attempts(policy, sleep=self._sleep):
            try:
                response = self._client.request(method, path, **kwargs)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                error = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code in retry.RETRYABLE_HTTP_STATUSES:
                error = f"HTTP {response.status_code} {_message(response)}"
                continue
            if response.is_success:
                return response.json()
            if missing is not None and _no_such_route(response):
                raise ConfigError(
                    f"{self.endpoint} has no {method} {path} "
                    f"(HTTP {response.status_code} {_message(response)}): {missing}"
                )
            raise _domain_error(response, self.endpoint)
        raise StoreUnavailableError(
            f"{self.endpoint}{path} did not answer after {self._attempts} attempts ({error}). "
            "A cold start can take a minute: try again, and check ALEX_API_ENDPOINT."
        )

    def _answer(self, model: type[Answer], method: str, path: str, **kwargs: Any) -> Answer:
        """The answer to a request, as ``model``; any other JSON is the wrong server."""
        answer = self._call(method, path, **kwargs)
        try:
            return model.model_validate(answer)
        except ValidationError:
            raise StoreUnavailableError(
                f"{self.endpoint}{path} did not answer as Alex's API does: check ALEX_API_ENDPOINT"
            ) from None

    @property
    def where(self) -> str:
        return self.endpoint

    def health(self) -> HealthResponse:
        return self._answer(HealthResponse, "GET", "/health")

    def ingest(self, text: str, metadata: Mapping[str, Any], source_id: str | None) -> str:
        """One document through ``POST /ingest`` (the course contract); its id."""
        answer = self._call("POST", "/ingest", json=_document(text, dict(metadata), source_id))
        return str(answer["document_id"])

    def ingest_many(
        self, requests: Sequence[IngestRequest], progress: ProgressCallback | None = None
    ) -> list[IngestResult | AlexError]:
        """``POST /ingest/batch`` with as many documents as the batch limits allow."""
        outcomes: list[IngestResult | AlexError] = []
        for batch in self._batches([_encoded(request) for request in requests]):
            outcomes += self._send(batch)
            if progress:
                progress(len(outcomes), len(requests))
        return outcomes

    def _batches(self, documents: list[bytes]) -> Iterator[list[bytes]]:
        batch: list[bytes] = []
        size = _BATCH_ENVELOPE
        for document in documents:
            full = len(batch) == self._batch_documents
            if batch and (full or size + len(document) + 1 > self._batch_bytes):
                yield batch
                batch, size = [], _BATCH_ENVELOPE
            batch.append(document)
            size += len(document) + 1
        if batch:
            yield batch

    def _send(self, batch: list[bytes]) -> list[IngestResult | AlexError]:
        try:
            content = b'{"documents":[' + b",".join(batch) + b"]}"
            headers = {"content-type": "application/json"}
            answer = self._answer(
                BatchIngestResponse, "POST", "/ingest/batch", content=content, headers=headers
            )
        except (InvalidInputError, PayloadTooLargeError) as error:
            if len(batch) == 1:
                return [error]
            # One refused document refuses its whole batch: send them alone to tell which.
            return [outcome for document in batch for outcome in self._send([document])]
        if len(answer.results) != len(batch):
            raise StoreUnavailableError(
                f"{self.endpoint}/ingest/batch answered {len(answer.results)} results "
                f"for {len(batch)} documents"
            )
        return [IngestResult(r.document_id, r.status, r.chunks) for r in answer.results]

    def search(self, query: str, k: int, mode: str, filters: Mapping[str, Any]) -> list[SearchHit]:
        body = {"query": query, "k": k, "mode": mode, "filters": dict(filters)}
        return self._answer(SearchResponse, "POST", "/search", json=body).results

    def list_documents(
        self, limit: int, offset: int, filters: Mapping[str, str]
    ) -> tuple[list[DocumentSummaryBody], int]:
        params: list[tuple[str, str | int]] = [("limit", limit), ("offset", offset)]
        params += [("filter", f"{key}={value}") for key, value in filters.items()]
        answer = self._answer(DocumentListResponse, "GET", "/documents", params=params)
        return answer.documents, answer.total

    def get(self, document_id: str) -> DocumentBody:
        return self._answer(DocumentBody, "GET", _document_path(document_id))

    def delete(self, document_id: str) -> None:
        self._call("DELETE", _document_path(document_id))

    def research(
        self, topic: str | None, urls: Sequence[str], progress: Callable[[str, str], None]
    ) -> ResearchResponse:
        """Queue a research job (``POST /research/jobs``) and follow it to its end."""
        body = {"topic": topic, "urls": list(urls)}
        job = self._answer(ResearchJobResponse, "POST", "/research/jobs", json=body)
        seen = ("", "")
        while job.status in ("queued", "running"):
            if (job.step, job.detail) != seen:
                seen = (job.step, job.detail)
                progress(*seen)
            time.sleep(self._poll_s)
            path = f"/research/jobs/{quote(job.job_id, safe='')}"
            job = self._answer(ResearchJobResponse, "GET", path)
        if job.result is None:
            raise ResearchFailedError(job.error.message if job.error else "The research run failed")
        return job.result

    def analyse(self, progress: Callable[[str, str, str], None]) -> AnalysisJobResponse:
        """Queue an analysis job (``POST /analysis/jobs``) and follow it to its end, each
        step's change reported once."""
        job = self._answer(AnalysisJobResponse, "POST", "/analysis/jobs")
        seen: dict[str, tuple[str, str]] = {}
        while True:
            for step in job.steps:
                if step.status != "pending" and seen.get(step.name) != (step.status, step.detail):
                    seen[step.name] = (step.status, step.detail)
                    progress(step.name, step.status, step.detail)
            if job.status not in ("queued", "running"):
                return job
            time.sleep(self._poll_s)
            job = self._answer(AnalysisJobResponse, "GET", f"/analysis/jobs/{job.job_id}")

    def list_reports(self, query: ReportListQuery) -> ReportListResponse:
        params = query.model_dump(exclude_none=True)
        return self._answer(ReportListResponse, "GET", "/reports", params=params)

    def get_report(self, report_id: str) -> ReportBody:
        return self._answer(ReportBody, "GET", f"/reports/{quote(report_id, safe='')}")

    def status_rows(self) -> list[tuple[str, str]]:
        total = self.list_documents(1, 0, {})[1]
        return [
            ("backend", f"remote API {self.endpoint}"),
            ("API version", self.health().version),
            ("documents", str(total)),
        ]

    def check_integrity(self) -> list[str]:
        raise InvalidInputError("the integrity check runs on a local store; the API has none")

    # The portfolio's routes (docs/portfolio.md, "The HTTP API").
    def portfolio_import(self, body: PortfolioImportBody) -> ImportResponse:
        return self._answer(ImportResponse, "POST", "/portfolio/import", json=_json(body))

    def portfolio_export(self, format: str, what: str) -> ExportResponse:
        params = {"format": format, "what": what}
        return self._answer(ExportResponse, "GET", "/portfolio/export", params=params)

    def portfolio_show(self, as_of: str | None) -> PortfolioBody:
        return self._answer(PortfolioBody, "GET", "/portfolio", params=_as_of(as_of))

    def portfolio_xray(self, as_of: str | None) -> XRayBody:
        return self._answer(XRayBody, "GET", "/portfolio/xray", params=_as_of(as_of))

    def portfolio_project(self, body: ProjectionRequest) -> ProjectionBody:
        return self._answer(
            ProjectionBody,
            "POST",
            "/portfolio/projection",
            json=_json(body),
            missing=PROJECTION_MISSING,
        )

    def portfolio_target(self, dimension: str, body: TargetPut) -> TargetsResponse:
        path = f"/portfolio/targets/{quote(dimension, safe='')}"
        return self._answer(TargetsResponse, "PUT", path, json=_json(body))

    def portfolio_settings(self, update: SettingsPut | None) -> SettingsBody:
        if update is None:
            return self._answer(SettingsBody, "GET", "/portfolio/settings")
        return self._answer(SettingsBody, "PUT", "/portfolio/settings", json=_json(update))

    def portfolio_delete_account(self, account_id: str) -> PortfolioDeleteResponse:
        path = f"/portfolio/accounts/{quote(account_id, safe='')}"
        return self._answer(PortfolioDeleteResponse, "DELETE", path)

    def prices_import(self, body: PricesImportBody) -> ImportResponse:
        return self._answer(ImportResponse, "POST", "/prices", json=_json(body))

    def prices_set(self, body: PriceBody) -> PriceAnswer:
        return self._answer(PriceAnswer, "PUT", "/prices", json=_json(body))

    def portfolio_classify(self, progress: Callable[[str, str], None]) -> ClassifyResponse:
        # The API has no model to propose with (docs/planner.md, "Classify"): what waits.
        return ClassifyResponse(report=None, proposals=self.portfolio_classifications().proposals)

    def portfolio_classifications(self) -> ClassificationListResponse:
        return self._answer(ClassificationListResponse, "GET", "/portfolio/classifications")

    def portfolio_decide(self, symbol: str, accept: bool) -> ClassificationDecision:
        # Quoted: a symbol is the user's text ("A/B" must not become another route).
        path = f"/portfolio/classifications/{quote(symbol, safe='')}/"
        return self._answer(
            ClassificationDecision, "POST", path + ("accept" if accept else "reject")
        )

    def close(self) -> None:
        self._client.close()


def _json(body: BaseModel) -> dict[str, Any]:
    """A request body as the route reads it (fields left at their default left out)."""
    return body.model_dump(mode="json", exclude_unset=True)


def _as_of(as_of: str | None) -> dict[str, str]:
    return {} if as_of is None else {"as_of": as_of}


def _document(text: object, metadata: object, source_id: object) -> dict[str, object]:
    body: dict[str, object] = {"text": text, "metadata": metadata}
    if source_id is not None:
        body["id"] = source_id
    return body


def _encoded(request: IngestRequest) -> bytes:
    """A document's JSON, compact UTF-8 (its size counts against the batch's bytes)."""
    body = _document(request.text, request.metadata, request.id)
    try:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: escaped, for the API to refuse by name
        return json.dumps(body, separators=(",", ":")).encode("ascii")


def _document_path(document_id: str) -> str:
    # Quoted: an id is the caller's text ("a/b?c" must not become another route).
    return f"/documents/{quote(document_id, safe='')}"


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message", ""))
    except (ValueError, AttributeError):
        return response.text[:200]


def _no_such_route(response: httpx.Response) -> bool:
    """API Gateway's 403 for a route it does not have, or a server's 404."""
    status = response.status_code
    return status == 404 or (status == 403 and _message(response) == NO_SUCH_ROUTE)


def _domain_error(response: httpx.Response, endpoint: str) -> AlexError:
    message = _message(response)
    status = response.status_code
    if status == 403:
        return ConfigError(f"{endpoint} refused the API key (403 {message}): check ALEX_API_KEY")
    if status == 404:
        return NotFoundError(message or f"not found at {endpoint}")
    if status == 413:
        return PayloadTooLargeError(message)
    if 400 <= status < 500:
        return InvalidInputError(message or f"HTTP {status}")
    return StoreUnavailableError(f"{endpoint} answered HTTP {status}: {message}")
