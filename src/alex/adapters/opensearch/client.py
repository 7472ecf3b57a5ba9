"""The opensearch-py client for a collection: SigV4-signed for ``aoss``, retrying with backoff."""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from typing import Any

from opensearchpy import OpenSearch, RequestsHttpConnection
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import SSLError, TransportError
from opensearchpy.helpers.signer import RequestsAWSV4SignerAuth

from alex import retry
from alex.domain.errors import StoreUnavailableError
from alex.retry import Backoff

SERVICE = "aoss"  # SigV4 signing name of OpenSearch Serverless ("es" is managed domains)


class BackoffConnection(RequestsHttpConnection):
    """``RequestsHttpConnection`` that retries 429, 502-504 and dropped connections.

    opensearch-py's ``Transport`` retries at once, without any delay (``transport.py``,
    2.8), which only adds load to a throttled collection. This waits as the
    ``alex.retry.OPENSEARCH_REQUEST`` policy says instead; each attempt is signed afresh.
    The client is built with ``max_retries=0`` so attempts are not multiplied.
    """

    def __init__(
        self,
        *args: Any,
        backoff: Backoff = retry.OPENSEARCH_REQUEST,
        backoff_sleep: Callable[[float], None] = time.sleep,
        backoff_jitter: Callable[[], float] = random.random,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.backoff = backoff
        self.backoff_sleep = backoff_sleep
        self.backoff_jitter = backoff_jitter

    def perform_request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        params: Any = None,
        body: bytes | None = None,
        timeout: float | None = None,
        allow_redirects: bool | None = True,
        ignore: Any = (),
        headers: Any = None,
    ) -> Any:
        attempt = functools.partial(
            super().perform_request,
            method,
            url,
            params,
            body,
            timeout,
            allow_redirects,
            ignore,
            headers,
        )
        return retry.call(
            attempt, self.backoff, _retryable, sleep=self.backoff_sleep, jitter=self.backoff_jitter
        )


def _retryable(error: Exception) -> bool:
    """Throttling, a gateway error or a dropped connection; never a TLS failure."""
    if not isinstance(error, TransportError):
        return False
    if isinstance(error, OpenSearchConnectionError):
        return not isinstance(error, SSLError)
    return error.status_code in retry.RETRYABLE_HTTP_STATUSES


def build_client(
    endpoint: str,
    region: str,
    *,
    credentials: Any = None,
    timeout: float = 30.0,
    max_attempts: int = retry.OPENSEARCH_REQUEST.attempts,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
) -> OpenSearch:
    """An opensearch-py client for a collection endpoint, SigV4-signed for ``aoss``.

    ``credentials`` default to boto3's chain (Lambda role, profile, environment); the
    botocore signer takes frozen credentials per request, so refreshing role credentials
    never sign with a mismatched key pair.
    """
    host = endpoint.strip().removeprefix("https://").rstrip("/")
    if not host or "://" in host or "/" in host:
        raise StoreUnavailableError(
            f"OPENSEARCH_ENDPOINT {endpoint!r} is not a collection endpoint: use "
            "https://<collection-id>.<region>.aoss.amazonaws.com"
        )
    if credentials is None:
        import boto3

        credentials = boto3.Session().get_credentials()
        if credentials is None:
            raise StoreUnavailableError(
                "No AWS credentials found for OpenSearch Serverless: configure a profile, "
                "environment variables or a role"
            )
    auth = RequestsAWSV4SignerAuth(credentials, region, SERVICE)
    return OpenSearch(
        hosts=[{"host": host, "port": 443}],
        http_auth=auth,
        use_ssl=True,
        verify_certs=True,
        connection_class=BackoffConnection,
        timeout=timeout,
        max_retries=0,
        retry_on_timeout=False,
        retry_on_status=(),
        backoff=retry.OPENSEARCH_REQUEST.with_attempts(max_attempts),
        backoff_sleep=sleep,
        backoff_jitter=jitter,
    )
