"""The deployed API's limits: bodies Lambda can receive, and documents it can embed in time.

Lambda refuses an event over 6 MiB before Alex runs, and API Gateway gives up after 29 s;
each full chunk is one SageMaker call. The ingest Lambda (its real handler and door, with
stand-ins for the endpoint and the collection) must refuse a document it cannot embed in
time with a clear 413, not start it and leave the caller a 504.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from alex.adapters.opensearch import OpenSearchStore
from alex.adapters.sagemaker_embedder import SageMakerEmbedder
from alex.config import AWS_MAX_BODY_BYTES, AWS_MAX_REQUEST_CHUNKS, load_settings
from alex.services import Services
from tests.deploy.helpers import load_handler
from tests.support.cloud_stubs import InstantCollection, SlowEndpoint

AWS = (
    "ALEX_BACKEND=aws\nSAGEMAKER_ENDPOINT=alex-embeddings\n"
    "OPENSEARCH_ENDPOINT=https://abc123.eu-west-2.aoss.amazonaws.com\n"
    "DEFAULT_AWS_REGION=eu-west-2\n"
)


def test_the_aws_body_limit_defaults_to_what_lambda_can_receive(isolated_settings: Path) -> None:
    assert load_settings().max_body_bytes == 16 * 1024 * 1024  # local: no Lambda in front
    isolated_settings.write_text(AWS)
    assert load_settings().max_body_bytes == AWS_MAX_BODY_BYTES
    assert AWS_MAX_BODY_BYTES < 6 * 1024 * 1024  # Lambda's synchronous event limit
    isolated_settings.write_text(AWS + "ALEX_MAX_BODY_BYTES=2000000\n")
    assert load_settings().max_body_bytes == 2_000_000  # a chosen value is kept


def test_the_request_chunk_limit_is_on_for_the_deployed_api_only(isolated_settings: Path) -> None:
    assert load_settings().request_chunk_limit is None
    isolated_settings.write_text(AWS)
    assert load_settings().request_chunk_limit == AWS_MAX_REQUEST_CHUNKS
    isolated_settings.write_text(AWS + "ALEX_MAX_REQUEST_CHUNKS=0\n")
    assert load_settings().request_chunk_limit is None  # e.g. ingesting from a laptop
    isolated_settings.write_text("ALEX_MAX_REQUEST_CHUNKS=40\n")
    assert load_settings().request_chunk_limit == 40


def test_the_embedder_gets_the_concurrency_setting(isolated_settings: Path) -> None:
    isolated_settings.write_text(AWS + "ALEX_SAGEMAKER_CONCURRENCY=5\n")
    embedder = Services(load_settings()).embedder
    assert isinstance(embedder, SageMakerEmbedder) and embedder.max_concurrency == 5


# The ingest Lambda -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ingest_module() -> ModuleType:
    return load_handler("ingest")


def cloud_services(endpoint: SlowEndpoint) -> Services:
    """The services as the ingest Lambda builds them, on stand-ins for SageMaker and AOSS."""
    embedder = SageMakerEmbedder("alex-embeddings", client=endpoint, region="eu-west-2")
    return Services(load_settings(), embedder=embedder, store=OpenSearchStore(InstantCollection()))


def lambda_ingest(
    module: ModuleType, endpoint: SlowEndpoint, route: str, body: dict[str, Any]
) -> tuple[int, Any]:
    """POST ``body`` to ``route`` through the ingest Lambda's handler and door."""
    services = cloud_services(endpoint)
    event = {"httpMethod": "POST", "resource": route, "body": json.dumps(body)}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "door", module.LambdaDoor(lambda: services))
        response = module.handler(event, None)
    return response["statusCode"], json.loads(response["body"])


def text_of(chunks: int) -> str:
    """A text that splits into exactly ``chunks`` chunks."""
    sentence = "Northwind Semiconductor raised guidance while margins widened again. "
    text = sentence * 30 * chunks
    pieces = cloud_services(SlowEndpoint(0)).ingest.chunker.split(text)
    assert len(pieces) >= chunks
    return text[: pieces[chunks - 1].end]


def test_a_document_too_large_to_embed_in_time_is_refused_before_any_call(
    isolated_settings: Path, ingest_module: ModuleType
) -> None:
    isolated_settings.write_text(AWS + "ALEX_MAX_REQUEST_CHUNKS=3\n")
    endpoint = SlowEndpoint(0)

    status, answer = lambda_ingest(ingest_module, endpoint, "/ingest", {"text": text_of(4)})

    assert status == 413
    assert "4 chunks" in answer["message"] and "at most 3" in answer["message"]
    assert "ALEX_MAX_REQUEST_CHUNKS" in answer["message"] and "Split" in answer["message"]
    assert endpoint.calls == 0

    status, answer = lambda_ingest(ingest_module, endpoint, "/ingest", {"text": text_of(3)})
    assert status == 200 and answer["document_id"] and endpoint.calls == 3


def test_a_batch_counts_the_chunks_of_all_its_documents(
    isolated_settings: Path, ingest_module: ModuleType
) -> None:
    isolated_settings.write_text(AWS + "ALEX_MAX_REQUEST_CHUNKS=3\n")
    endpoint = SlowEndpoint(0)
    documents = [{"text": text_of(2)}, {"text": text_of(2) + " Later."}]

    status, answer = lambda_ingest(
        ingest_module, endpoint, "/ingest/batch", {"documents": documents}
    )

    assert status == 413 and "4 chunks" in answer["message"] and endpoint.calls == 0
