"""The Embedder port on a SageMaker endpoint serving all-MiniLM-L6-v2 (Hugging Face toolkit).

The endpoint runs the Hugging Face inference toolkit's ``feature-extraction`` task, which
returns one vector per token, not one per text. This adapter therefore does the pooling
itself, with :func:`alex.domain.pooling.mean_pool_normalise`: the local model's mean
pooling in pure Python, as this module runs on AWS Lambda without numpy. Cloud and local
vectors are one space (``tests/unit/test_sagemaker_embedder.py`` feeds the local model's
token vectors through a mocked endpoint and compares within 1e-5).

Request and response (toolkit ``handler_service.predict`` calls
``pipeline(inputs, **parameters)``; ``FeatureExtractionPipeline`` returns, per input, the
model's ``last_hidden_state`` as a ``[1][tokens][384]`` list)::

    {"inputs": ["text a", "text b"],
     "parameters": {"truncation": true, "tokenize_kwargs": {"max_length": 256}}}
    -> [ [[[...384 floats...], ...tokens...]],  [[[...]]] ]

``truncation`` with ``max_length`` 256 is exactly what the local embedder and
sentence-transformers do (254 word pieces plus ``[CLS]``/``[SEP]``); Alex never sends a
chunk longer than that, so it is a safety net. A pooled answer (``[n][384]``, from an
endpoint with its own ``inference.py``) is accepted too and only re-normalised.

Sizes: token vectors are big. One 256-token text is about 2 MB of JSON, and a serverless
endpoint answers at most 4 MB (6 MB for real-time endpoints), so texts are batched by
their estimated answer size as well as by count: full-length chunks go one per call,
short queries up to ``batch_size`` per call. Pooling on the endpoint would shrink the
answer ~250 times; see docs/cloud-adapters.md. Up to ``max_concurrency`` calls run at once
(the endpoint's MaxConcurrency), so a long document's one-call-per-chunk takes
``calls / max_concurrency`` round trips.

Failures: cold starts (``ModelError`` with a timeout or 5xx from the container,
``ModelNotReadyException``), throttling and 5xx are retried as the
``alex.retry.SAGEMAKER_INVOKE`` policy says (exponential backoff, full jitter); anything
else, or running out of attempts, raises :class:`EmbedderUnavailableError` naming the
endpoint and what to check.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from alex import retry
from alex.adapters.minilm_tokenizer import MAX_SEQ_LENGTH, MiniLMModel
from alex.adapters.wordpiece import WordPieceTokenizer
from alex.domain.errors import EmbedderUnavailableError
from alex.domain.models import EMBEDDING_MODEL
from alex.domain.pooling import mean_pool_normalise
from alex.retry import Backoff

__all__ = ["SageMakerEmbedder", "default_runtime_client"]

CONTENT_TYPE = "application/json"
# Bytes of JSON per float in a token-vector answer ("-0.034763850271701813, "), rounded up.
_BYTES_PER_VALUE = 24
# Calls in flight at once per embed(): the endpoint's MaxConcurrency by default
# (infrastructure/serverless.yml, embeddingMaxConcurrency: 2); more would be throttled.
DEFAULT_MAX_CONCURRENCY = 2
# Serverless endpoints answer at most 4 MB (AWS docs, serverless-endpoints-invoke); keep a margin.
DEFAULT_MAX_RESPONSE_BYTES = 3_500_000

_RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ModelNotReadyException",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalDependencyException",
    }
)
# A container answering these (or not answering: 0) is starting, overloaded or timing out.
_RETRYABLE_MODEL_STATUSES = frozenset({0, 408, 429, 500, 502, 503, 504})
_COLD_START_WORDS = ("loading", "timed out", "not ready", "warming")

_clients: dict[str | None, Any] = {}
_clients_lock = threading.Lock()


def default_runtime_client(region: str | None = None) -> Any:
    """One boto3 ``sagemaker-runtime`` client per region and process (Lambda reuses it).

    botocore's own retries are off (one attempt): :class:`SageMakerEmbedder` retries with
    its own backoff, so attempts are not multiplied. The read timeout is above the
    endpoint's 60 s invocation limit.
    """
    with _clients_lock:
        if region not in _clients:
            import boto3
            from botocore.config import Config

            config = Config(
                retries={"total_max_attempts": 1, "mode": "standard"},
                connect_timeout=5,
                read_timeout=70,
            )
            _clients[region] = boto3.client("sagemaker-runtime", region_name=region, config=config)
        return _clients[region]


class SageMakerEmbedder(MiniLMModel):
    """Embeds texts with all-MiniLM-L6-v2 on a SageMaker endpoint; same vectors as local."""

    def __init__(
        self,
        endpoint_name: str,
        *,
        region: str | None = None,
        client: Any = None,
        tokenizer: WordPieceTokenizer | None = None,
        batch_size: int = 16,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        max_attempts: int = retry.SAGEMAKER_INVOKE.attempts,
        base_delay_s: float = retry.SAGEMAKER_INVOKE.base_s,
        max_delay_s: float = retry.SAGEMAKER_INVOKE.cap_s,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if not endpoint_name:
            raise ValueError("endpoint_name is required")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {max_concurrency}")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
        self.endpoint_name = endpoint_name
        self._client = client if client is not None else default_runtime_client(region)
        self.region = region or getattr(getattr(self._client, "meta", None), "region_name", None)
        self._tokenizer = tokenizer if tokenizer is not None else WordPieceTokenizer()
        self._batch_size = batch_size
        self._max_response_bytes = max_response_bytes
        self.max_concurrency = max_concurrency
        self._backoff = Backoff(max_attempts, base_delay_s, max_delay_s)
        self._sleep = sleep
        self._jitter = jitter

    # Requests -------------------------------------------------------------------------
    def request_body(self, texts: Sequence[str]) -> dict[str, Any]:
        """The JSON body of one call: the toolkit passes ``parameters`` to the pipeline."""
        return {
            "inputs": list(texts),
            "parameters": {"truncation": True, "tokenize_kwargs": {"max_length": MAX_SEQ_LENGTH}},
        }

    def _prepare(self, text: str) -> tuple[str, int]:
        """The text to send and the tokens the endpoint will answer for it.

        A text far over the limit is cut after a whole word beyond piece ``max_pieces``
        (so its first ``max_pieces`` pieces are unchanged); the endpoint's truncation then
        drops the rest exactly as the local model does. This keeps requests small.
        """
        offsets = self._tokenizer.piece_offsets(text)
        limit = self.max_pieces
        if len(offsets) > limit:
            for index in range(limit - 1, len(offsets) - 1):
                if offsets[index + 1][0] > offsets[index][1]:  # whitespace: a word ends here
                    text = text[: offsets[index][1]]
                    break
        return text, min(len(offsets), limit) + 2

    def _batches(self, prepared: list[tuple[str, int]]) -> list[list[int]]:
        """Indexes of texts per call: at most ``batch_size``, answer within the size budget."""
        per_token = self.dimension * _BYTES_PER_VALUE
        batches: list[list[int]] = []
        current: list[int] = []
        size = 0
        for index, (_, tokens) in enumerate(prepared):
            cost = tokens * per_token
            if current and (
                len(current) >= self._batch_size or size + cost > self._max_response_bytes
            ):
                batches.append(current)
                current, size = [], 0
            current.append(index)
            size += cost
        if current:
            batches.append(current)
        return batches

    def plan(self, texts: Sequence[str]) -> list[tuple[list[int], list[str]]]:
        """The calls ``embed(texts)`` makes: positions of the texts and the inputs sent."""
        prepared = [self._prepare(text) for text in texts]
        return [(batch, [prepared[i][0] for i in batch]) for batch in self._batches(prepared)]

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit-length vector (384 floats) per text, in input order.

        Up to ``max_concurrency`` calls run at once (threads: a call mostly waits on the
        network), each retried on its own; the first call that fails for good fails the
        whole embed, and calls not started yet are dropped.
        """
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not a single str")
        calls = self.plan(texts)
        out: list[list[float]] = [[] for _ in texts]
        for (positions, _), rows in zip(calls, self._run(calls), strict=True):
            for position, row in zip(positions, rows, strict=True):
                out[position] = row
        return out

    def _run(self, calls: list[tuple[list[int], list[str]]]) -> list[list[list[float]]]:
        """The rows of every call, in call order."""
        workers = min(self.max_concurrency, len(calls))
        if workers <= 1:
            return [self._call(inputs) for _, inputs in calls]
        with ThreadPoolExecutor(workers, thread_name_prefix="sagemaker") as pool:
            futures = [pool.submit(self._call, inputs) for _, inputs in calls]
            try:
                return [future.result() for future in futures]
            except BaseException:
                for future in futures:
                    future.cancel()  # not started yet: dropped; running ones finish
                raise

    def _call(self, inputs: list[str]) -> list[list[float]]:
        return self._parse(self._invoke(self.request_body(inputs)), len(inputs))

    # Calls and retries ------------------------------------------------------------------
    def _invoke(self, body: dict[str, Any]) -> Any:
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        started = time.monotonic()
        last = ""
        attempt = 0
        for attempt in retry.attempts(self._backoff, sleep=self._sleep, jitter=self._jitter):
            try:
                response = self._client.invoke_endpoint(
                    EndpointName=self.endpoint_name,
                    ContentType=CONTENT_TYPE,
                    Accept=CONTENT_TYPE,
                    Body=payload,
                )
                raw = response["Body"].read()
            except Exception as error:
                retryable, last = _classify(error)
                if not retryable:
                    raise EmbedderUnavailableError(
                        self._explain(last, attempt + 1, started)
                    ) from error
                continue
            try:
                return json.loads(raw)
            except (UnicodeDecodeError, ValueError) as error:
                raise EmbedderUnavailableError(
                    f"SageMaker endpoint {self.endpoint_name!r} answered with something that is "
                    f"not JSON ({raw[:80]!r}...): is it serving the Hugging Face "
                    "feature-extraction task (HF_TASK=feature-extraction)?"
                ) from error
        raise EmbedderUnavailableError(self._explain(last, attempt + 1, started))

    def _explain(self, last: str, attempts: int, started: float) -> str:
        where = f" in {self.region}" if self.region else ""
        elapsed = time.monotonic() - started
        return (
            f"SageMaker endpoint {self.endpoint_name!r}{where} did not return embeddings "
            f"({attempts} attempt{'s' if attempts != 1 else ''} in {elapsed:.0f} s; last error: "
            f"{last}). Check that SAGEMAKER_ENDPOINT names an endpoint that is InService "
            f"(aws sagemaker describe-endpoint --endpoint-name {self.endpoint_name}), that this "
            "role may call sagemaker:InvokeEndpoint on it, and the endpoint's CloudWatch logs "
            f"(/aws/sagemaker/Endpoints/{self.endpoint_name}). A serverless endpoint's first "
            "call after idling can take a minute: retrying later may succeed."
        )

    # Answers ------------------------------------------------------------------------------
    def _parse(self, answer: Any, count: int) -> list[list[float]]:
        """One unit vector per input from token vectors ([1][T][d] or [T][d]) or pooled [d]."""
        if not isinstance(answer, list) or len(answer) != count:
            got = f"a list of {len(answer)}" if isinstance(answer, list) else type(answer).__name__
            raise EmbedderUnavailableError(
                f"SageMaker endpoint {self.endpoint_name!r} answered {got} for {count} inputs; "
                "expected one entry per input (Hugging Face feature-extraction)"
            )
        return [self._pool(row, entry) for row, entry in enumerate(answer)]

    def _pool(self, row: int, entry: Any) -> list[float]:
        """The sentence vector of one answer entry, or a clear error about its shape."""
        tokens = _token_vectors(entry)
        if tokens is None or any(len(vector) != self.dimension for vector in tokens):
            raise EmbedderUnavailableError(
                f"SageMaker endpoint {self.endpoint_name!r}: entry {row} has shape "
                f"{_shape(entry)}, expected (tokens, {self.dimension}): is it serving "
                f"{EMBEDDING_MODEL}?"
            )
        try:
            vector = mean_pool_normalise(tokens)
        except (TypeError, ValueError, OverflowError) as error:
            raise EmbedderUnavailableError(
                f"SageMaker endpoint {self.endpoint_name!r}: entry {row} is not a numeric "
                f"array ({error})"
            ) from error
        if not all(math.isfinite(value) for value in vector):
            raise EmbedderUnavailableError(
                f"SageMaker endpoint {self.endpoint_name!r}: entry {row} has NaN or infinity"
            )
        return vector


def _token_vectors(entry: Any) -> list[list[Any]] | None:
    """Token rows of an answer entry: [1][T][d] or [T][d], or [d] (already pooled) as one
    row; None for any other nesting. Values are checked by the pooling, not here."""
    if not isinstance(entry, list) or not entry:
        return None
    rows: list[Any] = entry
    if (
        len(rows) == 1
        and isinstance(rows[0], list)
        and rows[0]
        and all(isinstance(token, list) for token in rows[0])
    ):
        rows = rows[0]  # [1][T][d]: the pipeline's batch of one
    if all(isinstance(token, list) for token in rows):
        return rows  # [T][d]
    if not any(isinstance(value, list) for value in rows):
        return [rows]  # [d]: pooled by the endpoint, only re-normalised
    return None


def _shape(value: Any) -> tuple[int, ...]:
    """The nested-list shape along first elements, for error messages."""
    shape: list[int] = []
    while isinstance(value, list):
        shape.append(len(value))
        value = value[0] if value else None
    return tuple(shape)


def _classify(error: Exception) -> tuple[bool, str]:
    """(retryable, description) of an exception raised by ``invoke_endpoint``."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    if isinstance(
        error,
        EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError | ConnectionClosedError,
    ):
        return True, f"{type(error).__name__}: {error}"
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = str(details.get("Code", ""))
        message = str(details.get("Message", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == "ModelError":
            original = error.response.get("OriginalStatusCode")
            original_message = str(error.response.get("OriginalMessage", "") or message)
            try:
                original_status = int(original) if original is not None else 0
            except (TypeError, ValueError):
                original_status = 0
            cold = any(word in original_message.lower() for word in _COLD_START_WORDS)
            retryable = original_status in _RETRYABLE_MODEL_STATUSES or cold
            return retryable, (
                f"ModelError (the model container answered {original_status}): {original_message}"
            )
        retryable = code in _RETRYABLE_CODES or (isinstance(status, int) and status >= 500)
        return retryable, f"{code or 'error'} (HTTP {status}): {message}"
    if isinstance(error, BotoCoreError):
        return False, f"{type(error).__name__}: {error}"
    return False, f"{type(error).__name__}: {error}"
