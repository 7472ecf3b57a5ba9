"""A client of Alex's keyed HTTP API: the CLI's remote mode (``ALEX_API_ENDPOINT``).

The same contract as ``alex serve`` and the deployed API. Cold starts (a Lambda or the
SageMaker endpoint waking up) answer slowly or with 502/503/504/429 for a while, so those
are retried with backoff; anything else is mapped to the domain error it stands for.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import httpx

from alex import retry
from alex.domain.errors import (
    AlexError,
    ConfigError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    StoreUnavailableError,
)

RETRY_STATUSES = frozenset({429, 502, 503, 504})


class RemoteClient:
    def __init__(
        self,
        endpoint: str,
        api_key: str,
        *,
        timeout_s: float = 60.0,
        attempts: int = 5,
        base_delay_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._client = httpx.Client(
            base_url=self.endpoint,
            headers={"x-api-key": api_key},
            timeout=timeout_s,
            transport=transport,
        )
        self._attempts = max(1, attempts)
        self._base_delay_s = base_delay_s
        self._sleep = sleep

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        error: str = ""
        policy = replace(retry.HTTP_CLIENT, attempts=self._attempts, base_s=self._base_delay_s)
        for _ in retry.attempts(policy, sleep=self._sleep):
            try:
                response = self._client.request(method, path, **kwargs)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                error = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code in RETRY_STATUSES:
                error = f"HTTP {response.status_code} {_message(response)}"
                continue
            if response.is_success:
                return response.json()
            raise _domain_error(response, self.endpoint)
        raise StoreUnavailableError(
            f"{self.endpoint}{path} did not answer after {self._attempts} attempts ({error}). "
            "A cold start can take a minute: try again, and check ALEX_API_ENDPOINT."
        )

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/health")
        return result

    def ingest(self, text: str, metadata: Mapping[str, Any], source_id: str | None) -> str:
        body: dict[str, Any] = {"text": text, "metadata": dict(metadata)}
        if source_id is not None:
            body["id"] = source_id
        return str(self._call("POST", "/ingest", json=body)["document_id"])

    def search(
        self, query: str, k: int, mode: str, filters: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        body = {"query": query, "k": k, "mode": mode, "filters": dict(filters)}
        results: list[dict[str, Any]] = self._call("POST", "/search", json=body)["results"]
        return results

    def list_documents(
        self, limit: int, offset: int, filters: Mapping[str, str]
    ) -> tuple[list[dict[str, Any]], int]:
        params: list[tuple[str, str | int]] = [("limit", limit), ("offset", offset)]
        params += [("filter", f"{key}={value}") for key, value in filters.items()]
        answer = self._call("GET", "/documents", params=params)
        return answer["documents"], int(answer["total"])

    def get(self, document_id: str) -> dict[str, Any]:
        document: dict[str, Any] = self._call("GET", f"/documents/{document_id}")
        return document

    def delete(self, document_id: str) -> None:
        self._call("DELETE", f"/documents/{document_id}")

    def submit_research(self, topic: str | None, urls: Sequence[str]) -> dict[str, Any]:
        """Queue a research run (``POST /research/jobs``); the job, with its ``job_id``."""
        job: dict[str, Any] = self._call(
            "POST", "/research/jobs", json={"topic": topic, "urls": list(urls)}
        )
        return job

    def research_job(self, job_id: str) -> dict[str, Any]:
        job: dict[str, Any] = self._call("GET", f"/research/jobs/{job_id}")
        return job

    def close(self) -> None:
        self._client.close()


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message", ""))
    except (ValueError, AttributeError):
        return response.text[:200]


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
