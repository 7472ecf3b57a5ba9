"""The SageMaker embedder, offline: moto for the endpoint's answers, botocore's Stubber for errors.

The answers are the real ``feature-extraction`` shape, ``[[[token vector], ...]]`` per
input, made from the LOCAL model's token vectors, so the cloud vectors are checked against
``LocalEmbedder.embed`` (one vector space). moto 5.2.5's sagemaker-runtime only answers
200 with queued bodies (``moto/sagemakerruntime/models.py``: no error injection), so the
error paths (cold start, throttling, final failure) use ``botocore.stub.Stubber``, which
also validates the request parameters and the modeled ``ModelError`` fields
(``OriginalStatusCode``, ``OriginalMessage``, ``LogStreamArn``) against botocore's model.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import numpy as np
import pytest
import requests
from botocore.exceptions import ClientError
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemakerruntime.models import sagemakerruntime_backends

from alex.adapters.local_embedder import LocalEmbedder
from alex.adapters.sagemaker_embedder import SageMakerEmbedder
from alex.domain.errors import EmbedderUnavailableError

# Sources relied on (retrieved 2026-11-26):
SOURCES = {
    "toolkit predict(): pipeline(inputs, **parameters)": (
        "https://github.com/aws/sagemaker-huggingface-inference-toolkit/blob/main/"
        "src/sagemaker_huggingface_inference_toolkit/handler_service.py"
    ),
    "feature-extraction: truncation and tokenize_kwargs; answer model_outputs[0].tolist()": (
        "https://github.com/huggingface/transformers/blob/main/"
        "src/transformers/pipelines/feature_extraction.py"
    ),
    "InvokeEndpoint errors: ModelError 424 (OriginalStatusCode, OriginalMessage, "
    "LogStreamArn), ModelNotReadyException 429, ServiceUnavailable 503, InternalFailure 500": (
        "botocore 1.44.8 data/sagemaker-runtime/2017-05-13/service-2.json; "
        "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html"
    ),
    "serverless payloads at most 4 MB; /invocations timeout 1 minute": (
        "https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints-invoke.html"
    ),
    "cold start: ModelError 'Received server error (0) ... invocation timed out'": (
        "https://github.com/aws-samples/host-yolov8-on-sagemaker-endpoint/issues/21 (2024-07-18)"
    ),
    "moto queued results: POST /moto-api/static/sagemaker/endpoint-results": (
        "moto 5.2.5 moto/sagemakerruntime/models.py, moto/moto_api/_internal/responses.py"
    ),
}

REGION = "eu-west-2"
ENDPOINT = "alex-embeddings"
TEXTS = [
    "Northwind Semiconductor raised full-year guidance to $5.1bn.",
    "How leveraged is the company?",
    "Net debt is 2.6 times EBITDA after the CLARION-3 acquisition.",
]
COLD_START = (
    'Received server error (0) from primary with message "Your invocation timed out while '
    "waiting for a response from container primary. Review the latency metrics for each "
    'container in Amazon CloudWatch, resolve the issue, and try again."'
)


def long_text(words: int = 420) -> str:
    vocabulary = [
        "revenue",
        "margin",
        "guidance",
        "liquidity",
        "covenant",
        "semiconductor",
        "hedging",
        "dividend",
    ]
    return " ".join(f"{vocabulary[i % len(vocabulary)]}{i % 7}" for i in range(words)) + "."


def endpoint_answer(local: LocalEmbedder, inputs: list[str]) -> list[Any]:
    """What the toolkit returns for ``inputs``: per input ``[1][tokens][384]``.

    ``max_tokens=256`` is the truncation the request asks for (``tokenize_kwargs``).
    """
    return [[vectors.tolist()] for vectors in local.token_vectors(inputs, max_tokens=256)]


def streaming(payload: Any) -> StreamingBody:
    data = json.dumps(payload).encode("utf-8")
    return StreamingBody(io.BytesIO(data), len(data))


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def moto_runtime(aws_env: None) -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sagemaker-runtime", region_name=REGION)


def queue_answers(*answers: Any) -> None:
    """Queue endpoint answers the documented way (decorator mode: the moto-api URL)."""
    response = requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results",
        json={
            "account_id": DEFAULT_ACCOUNT_ID,
            "region": REGION,
            "results": [
                {"Body": json.dumps(answer), "ContentType": "application/json"}
                for answer in answers
            ],
        },
        timeout=5,
    )
    assert response.status_code == 201


def bodies_sent() -> list[dict[str, Any]]:
    """The requests moto saw for the endpoint (it keys its answers by headers and body)."""
    backend = sagemakerruntime_backends[DEFAULT_ACCOUNT_ID][REGION]
    sent = []
    # moto 5.2.5 reads EndpointName from the query string, where botocore never puts it
    # (it is in the path), so every endpoint's answers are filed under None.
    keys = [key for answers in backend.results.values() for key in answers]
    for key in keys:
        request = json.loads(base64.b64decode(key))
        assert request["Accept"] == "application/json"
        sent.append(json.loads(request["Body"]))
    return sent


def make(client: Any, local: LocalEmbedder, **options: Any) -> SageMakerEmbedder:
    # moto and the Stubber hand out queued answers in arrival order: one call at a time.
    options.setdefault("max_concurrency", 1)
    options.setdefault("sleep", Sleeps())
    options.setdefault("jitter", lambda: 0.5)
    return SageMakerEmbedder(ENDPOINT, client=client, tokenizer=local.tokenizer, **options)


# Success paths through moto --------------------------------------------------------------------
def test_vectors_equal_the_local_model_through_moto(moto_runtime: Any, embedder: Any) -> None:
    cloud = make(moto_runtime, embedder)
    queue_answers(endpoint_answer(embedder, TEXTS))

    vectors = cloud.embed(TEXTS)

    # Plain lists of floats (the port's type: no numpy on Lambda).
    assert isinstance(vectors, list) and [len(row) for row in vectors] == [384] * 3
    assert all(type(value) is float for row in vectors for value in row)
    np.testing.assert_allclose(vectors, embedder.embed(TEXTS), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert bodies_sent() == [
        {
            "inputs": TEXTS,
            "parameters": {"truncation": True, "tokenize_kwargs": {"max_length": 256}},
        }
    ]


def test_batches_by_count_and_by_answer_size(moto_runtime: Any, embedder: Any) -> None:
    texts = [f"Note {i}: the board approved a buyback of {i} million shares." for i in range(20)]
    texts.insert(7, long_text())  # ~256 tokens: about 2.4 MB of token vectors on its own
    # A 2.5 MB answer budget: the long text cannot share a call with any other.
    cloud = make(moto_runtime, embedder, batch_size=8, max_response_bytes=2_500_000)
    plan = cloud.plan(texts)
    assert [len(inputs) for _, inputs in plan] == [7, 1, 8, 5]
    assert plan[1][0] == [7]
    queue_answers(*(endpoint_answer(embedder, inputs) for _, inputs in plan))

    vectors = cloud.embed(texts)

    assert [len(body["inputs"]) for body in bodies_sent()] == [7, 1, 8, 5]
    np.testing.assert_allclose(vectors, embedder.embed(texts), atol=1e-5)


def test_long_texts_are_cut_after_a_word_and_truncated_like_the_local_model(
    moto_runtime: Any, embedder: Any
) -> None:
    text = long_text()
    assert len(embedder.tokenizer.piece_offsets(text)) > 300
    cloud = make(moto_runtime, embedder)
    [(_, [sent])] = cloud.plan([text])
    assert text.startswith(sent) and len(sent) < len(text)
    assert len(embedder.tokenizer.piece_offsets(sent)) >= cloud.max_pieces
    queue_answers(endpoint_answer(embedder, [sent]))

    np.testing.assert_allclose(cloud.embed([text]), embedder.embed([text]), atol=1e-5)


def test_a_pooled_answer_is_accepted(moto_runtime: Any, embedder: Any) -> None:
    """An endpoint with its own inference.py may pool: [n][384] is re-normalised."""
    expected = embedder.embed_array(TEXTS[:2])
    queue_answers((expected * 3.0).tolist())

    vectors = make(moto_runtime, embedder).embed(TEXTS[:2])

    np.testing.assert_allclose(vectors, expected, atol=1e-6)


def test_token_vectors_without_the_batch_level_are_accepted(
    moto_runtime: Any, embedder: Any
) -> None:
    """[T][d] per input (no pipeline batch of one around it) pools the same."""
    queue_answers([entry[0] for entry in endpoint_answer(embedder, TEXTS)])

    vectors = make(moto_runtime, embedder).embed(TEXTS)

    np.testing.assert_allclose(vectors, embedder.embed(TEXTS), atol=1e-5)


def test_ports_properties_and_empty_input(moto_runtime: Any, embedder: Any) -> None:
    cloud = make(moto_runtime, embedder)
    assert (cloud.model_name, cloud.dimension, cloud.max_pieces) == (
        embedder.model_name,
        384,
        embedder.max_pieces,
    )
    assert cloud.tokenizer is embedder.tokenizer
    assert cloud.embed([]) == []
    with pytest.raises(TypeError):
        cloud.embed("one text")  # type: ignore[arg-type]
    assert bodies_sent() == []


# Error paths with botocore's Stubber ------------------------------------------------------------
@pytest.fixture
def stubbed(aws_env: None) -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("sagemaker-runtime", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def expected_params(inputs: list[str]) -> dict[str, Any]:
    body = {
        "inputs": inputs,
        "parameters": {"truncation": True, "tokenize_kwargs": {"max_length": 256}},
    }
    return {
        "EndpointName": ENDPOINT,
        "ContentType": "application/json",
        "Accept": "application/json",
        "Body": json.dumps(body).encode("utf-8"),
    }


def model_error(stubber: Stubber, status: int, message: str) -> None:
    stubber.add_client_error(
        "invoke_endpoint",
        service_error_code="ModelError",
        service_message=message,
        http_status_code=424,
        modeled_fields={
            "OriginalStatusCode": status,
            "OriginalMessage": message,
            "LogStreamArn": f"arn:aws:logs:{REGION}:123456789012:log-group:/aws/sagemaker/"
            f"Endpoints/{ENDPOINT}",
        },
    )


def test_cold_start_model_error_is_retried_then_succeeds(
    stubbed: tuple[Any, Stubber], embedder: Any
) -> None:
    client, stubber = stubbed
    model_error(stubber, 0, COLD_START)
    stubber.add_response(
        "invoke_endpoint",
        {"Body": streaming(endpoint_answer(embedder, TEXTS)), "ContentType": "application/json"},
        expected_params(TEXTS),
    )
    sleeps = Sleeps()

    vectors = make(client, embedder, sleep=sleeps).embed(TEXTS)

    np.testing.assert_allclose(vectors, embedder.embed(TEXTS), atol=1e-5)
    assert sleeps.calls == [0.5]  # full jitter: 0.5 x min(20, 1 x 2**0)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ThrottlingException", 400),
        ("ModelNotReadyException", 429),
        ("ServiceUnavailable", 503),
        ("InternalFailure", 500),
    ],
)
def test_throttling_and_unavailable_are_retried_with_exponential_backoff(
    stubbed: tuple[Any, Stubber], embedder: Any, code: str, status: int
) -> None:
    client, stubber = stubbed
    for _ in range(2):
        stubber.add_client_error(
            "invoke_endpoint",
            service_error_code=code,
            service_message="slow down",
            http_status_code=status,
        )
    stubber.add_response(
        "invoke_endpoint", {"Body": streaming(endpoint_answer(embedder, TEXTS[:1]))}
    )
    sleeps = Sleeps()

    make(client, embedder, sleep=sleeps).embed(TEXTS[:1])

    assert sleeps.calls == [0.5, 1.0]


def test_gives_up_with_a_clear_error_naming_the_endpoint(
    stubbed: tuple[Any, Stubber], embedder: Any
) -> None:
    client, stubber = stubbed
    for _ in range(3):
        model_error(stubber, 503, "Model alex is loading")
    sleeps = Sleeps()

    with pytest.raises(EmbedderUnavailableError) as caught:
        make(client, embedder, sleep=sleeps, max_attempts=3).embed(TEXTS[:1])

    message = caught.value.message
    assert f"'{ENDPOINT}' in {REGION}" in message
    assert "3 attempts" in message and "Model alex is loading" in message
    assert "InService" in message and "sagemaker:InvokeEndpoint" in message
    assert f"/aws/sagemaker/Endpoints/{ENDPOINT}" in message
    assert sleeps.calls == [0.5, 1.0]  # no sleep after the last attempt


@pytest.mark.parametrize(
    ("code", "status", "fields"),
    [
        ("ValidationError", 400, None),
        ("AccessDeniedException", 403, None),
        ("ModelError", 424, {"OriginalStatusCode": 400, "OriginalMessage": "bad input"}),
    ],
)
def test_client_errors_are_not_retried(
    stubbed: tuple[Any, Stubber], embedder: Any, code: str, status: int, fields: Any
) -> None:
    client, stubber = stubbed
    stubber.add_client_error(
        "invoke_endpoint",
        service_error_code=code,
        service_message=f"Endpoint {ENDPOINT} of account 123456789012 not found.",
        http_status_code=status,
        modeled_fields=fields,
    )
    sleeps = Sleeps()

    with pytest.raises(EmbedderUnavailableError, match=code):
        make(client, embedder, sleep=sleeps).embed(TEXTS[:1])
    assert sleeps.calls == []


@pytest.mark.parametrize(
    "answer",
    [
        {"embeddings": []},  # not a list per input
        [[[[0.1, 0.2]]]],  # wrong dimension: another model
        [[[[float("nan")] * 384]]],
        [[[[1.0] * 384, [float("inf")] * 384]]],
        [[[[1.0] * 384, [1.0] * 383]]],  # ragged tokens
        [[[[1.0] * 383 + ["x"]]]],
        [[[[1.0] * 383 + [None]]]],
        [[]],  # no tokens
        ["not numbers"],
    ],
)
def test_unexpected_answers_are_reported(
    stubbed: tuple[Any, Stubber], embedder: Any, answer: Any
) -> None:
    client, stubber = stubbed
    data = json.dumps(answer).encode()
    stubber.add_response("invoke_endpoint", {"Body": StreamingBody(io.BytesIO(data), len(data))})

    with pytest.raises(EmbedderUnavailableError, match=ENDPOINT):
        make(client, embedder).embed(TEXTS[:1])


# Parallel calls -----------------------------------------------------------------------------
class SlowEndpoint:
    """A thread-safe stand-in endpoint: answers each text's pooled vector after a pause.

    Text ``"chunk <i> ..."`` gets the unit vector along axis ``i``, so order is checkable.
    ``fail`` maps an index to the errors its attempts raise before it answers.
    """

    def __init__(self, pause_s: float = 0.05, fail: dict[int, list[Exception]] | None = None):
        self.pause_s = pause_s
        self.fail = fail or {}
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.calls: list[int] = []

    def invoke_endpoint(self, **request: Any) -> dict[str, Any]:
        inputs = json.loads(request["Body"])["inputs"]
        index = int(inputs[0].split()[1])
        with self.lock:
            self.calls.append(index)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(self.pause_s)
            errors = self.fail.get(index)
            if errors:
                raise errors.pop(0)
            rows = []
            for text in inputs:
                row = [0.0] * 384
                row[int(text.split()[1])] = 2.0
                rows.append(row)
            return {"Body": io.BytesIO(json.dumps(rows).encode())}
        finally:
            with self.lock:
                self.in_flight -= 1


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "InvokeEndpoint",
    )


def chunks(count: int) -> list[str]:
    return [f"chunk {i} of a long filing about revenue and margins" for i in range(count)]


def test_calls_run_in_parallel_up_to_max_concurrency_in_input_order(embedder: Any) -> None:
    endpoint = SlowEndpoint()
    cloud = make(endpoint, embedder, batch_size=1, max_concurrency=3)

    started = time.perf_counter()
    vectors = cloud.embed(chunks(9))
    elapsed = time.perf_counter() - started

    assert endpoint.most_in_flight == 3
    assert [row.index(1.0) for row in vectors] == list(range(9))
    assert elapsed < 9 * endpoint.pause_s * 0.75  # three rounds of three, not nine calls


def test_each_parallel_call_retries_on_its_own(embedder: Any) -> None:
    endpoint = SlowEndpoint(fail={1: [client_error("ThrottlingException", 400)]})
    sleeps = Sleeps()
    cloud = make(endpoint, embedder, batch_size=1, max_concurrency=2, sleep=sleeps)

    vectors = cloud.embed(chunks(4))

    assert [row.index(1.0) for row in vectors] == [0, 1, 2, 3]
    assert sorted(endpoint.calls) == [0, 1, 1, 2, 3] and sleeps.calls == [0.5]


def test_a_failed_call_fails_the_embed_and_calls_not_started_are_dropped(
    embedder: Any,
) -> None:
    endpoint = SlowEndpoint(fail={0: [client_error("ValidationError", 400)]})
    cloud = make(endpoint, embedder, batch_size=1, max_concurrency=2)

    with pytest.raises(EmbedderUnavailableError, match="ValidationError"):
        cloud.embed(chunks(12))

    assert len(endpoint.calls) < 12


def test_max_concurrency_must_be_positive(embedder: Any) -> None:
    with pytest.raises(ValueError, match="max_concurrency"):
        make(SlowEndpoint(), embedder, max_concurrency=0)
