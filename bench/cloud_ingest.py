"""Large documents through the deployed ingest path, with a stubbed SageMaker endpoint.

    uv run python -m bench --only cloud_ingest
    uv run python -m bench.cloud_ingest --latency-ms 150 --chunks 100 200 400 --concurrency 1 2

What the ingest Lambda runs for ``POST /ingest``: ``Services.ingest`` (the batching queue in
front of ``SageMakerEmbedder``, then ``OpenSearchStore``) on one document of full-length
chunks. Only the network is replaced: the endpoint stand-in sleeps ``latency`` per call,
then answers real-sized token vectors (``[1][tokens][384]``, ~2.4 MB of JSON for a full
chunk), so the client's JSON parsing and pure-Python pooling are measured; the collection
stand-in acknowledges every bulk item at once. A full chunk is one call (the 4 MB answer
limit), so the time is about ``calls / concurrency x latency`` plus the client's CPU.

The latency is an estimate, not a measurement on AWS (no account here): one ~250-piece
text takes 44 ms in the local ONNX model (docs/performance.md); PyTorch on a serverless
endpoint's shared vCPUs, the toolkit writing ~98,000 floats as JSON, SageMaker's overhead
and moving 2.4 MB make 150 ms a plausible warm figure. Pass ``--latency-ms`` with the
endpoint's CloudWatch ``ModelLatency`` + ``OverheadLatency`` to redo it for a real one.
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

from alex.adapters.opensearch import OpenSearchStore
from alex.adapters.sagemaker_embedder import SageMakerEmbedder
from alex.config import load_settings
from alex.services import Services
from tests.support.cloud_stubs import InstantCollection, SlowEndpoint
from tests.support.text import paragraph

LATENCY_S = 0.150  # see the module docstring
API_GATEWAY_S = 29.0
LAMBDA_MEMORY_MB = 1024  # services/ingest/serverless.yml
LAMBDA_VCPU_MB = 1769  # Lambda gives one full vCPU at 1,769 MB, proportionally less below


def document(services: Services, chunks: int, seed: int = 11) -> tuple[str, int]:
    """A text of ``chunks`` full-length chunks (~250 pieces: one call each), and the count."""
    rng = random.Random(seed)
    text = paragraph(rng, chunks * 200)
    pieces = services.ingest.chunker.split(text)
    return text[: pieces[min(chunks, len(pieces)) - 1].end], min(chunks, len(pieces))


def measure(chunks: int, concurrency: int, latency_s: float = LATENCY_S) -> dict[str, Any]:
    """Seconds to ingest one document of ``chunks`` chunks as the ingest Lambda does."""
    endpoint = SlowEndpoint(latency_s)
    settings = load_settings(max_request_chunks=0)  # measure past the limit too
    embedder = SageMakerEmbedder(
        "alex-embeddings", client=endpoint, max_concurrency=concurrency, region="eu-west-2"
    )
    collection: Any = InstantCollection()  # duck-types the opensearch-py client
    services = Services(settings, embedder=embedder, store=OpenSearchStore(collection))
    text, count = document(services, chunks)
    started, cpu_started = time.perf_counter(), time.process_time()
    result = services.ingest.ingest(text, {"source": "bench"})
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    assert result.chunks == count and endpoint.calls == count, (result, endpoint.calls)
    services.close()
    # On a 1024 MB Lambda (1024/1769 of a vCPU) the client's CPU work takes longer. An
    # upper bound, as if no CPU work overlapped another call's wait (this machine is shared,
    # so its own wall time is no guide).
    lambda_s = count * latency_s / concurrency + cpu * LAMBDA_VCPU_MB / LAMBDA_MEMORY_MB
    return {
        "chunks": count,
        "calls": endpoint.calls,
        "seconds": seconds,
        "cpu": cpu,
        "lambda_s": lambda_s,
    }


def run(
    chunk_counts: tuple[int, ...] = (100, 200, 400),
    concurrencies: tuple[int, ...] = (1, 2, 4),
    latency_s: float = LATENCY_S,
) -> dict[str, Any]:
    results: dict[str, Any] = {"cloud_ingest_latency_ms": latency_s * 1000}
    for concurrency in concurrencies:
        for chunks in chunk_counts:
            row = measure(chunks, concurrency, latency_s)
            key = f"cloud_ingest_{chunks}c_x{concurrency}"
            results[f"{key}_seconds"] = row["seconds"]
            results[f"{key}_cpu_seconds"] = row["cpu"]
            results[f"{key}_lambda_estimate_seconds"] = row["lambda_s"]
            fits = "fits" if row["lambda_s"] < API_GATEWAY_S else "OVER"
            print(
                f"   {row['chunks']:4d} chunks, {concurrency} in flight: {row['seconds']:5.1f} s "
                f"here (CPU {row['cpu']:4.1f} s), ~{row['lambda_s']:5.1f} s on a "
                f"{LAMBDA_MEMORY_MB} MB Lambda -> {fits} API Gateway's {API_GATEWAY_S:.0f} s",
                flush=True,
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=LATENCY_S * 1000)
    parser.add_argument("--chunks", type=int, nargs="+", default=[100, 200, 400])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    run(tuple(args.chunks), tuple(args.concurrency), args.latency_ms / 1000)


if __name__ == "__main__":
    main()
