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
import io
import json
import random
import threading
import time
from typing import Any

from alex.adapters.opensearch import OpenSearchStore, chunk_index_body, document_index_body
from alex.adapters.sagemaker_embedder import SageMakerEmbedder
from alex.config import load_settings
from alex.services import Services
from bench.corpus import paragraph

LATENCY_S = 0.150  # see the module docstring
API_GATEWAY_S = 29.0
LAMBDA_MEMORY_MB = 1024  # services/ingest/serverless.yml
LAMBDA_VCPU_MB = 1769  # Lambda gives one full vCPU at 1,769 MB, proportionally less below


class SlowEndpoint:
    """sagemaker-runtime answering feature-extraction after ``latency_s`` per call."""

    def __init__(self, latency_s: float) -> None:
        self.latency_s = latency_s
        rng = random.Random(3)
        # One token row as the toolkit writes it (float32 values printed as float64).
        self._row = json.dumps([rng.gauss(0, 0.3) for _ in range(384)])
        self._lock = threading.Lock()
        self.calls = 0

    def invoke_endpoint(self, **request: Any) -> dict[str, Any]:
        inputs = json.loads(request["Body"])["inputs"]
        with self._lock:
            self.calls += 1
        time.sleep(self.latency_s)
        # Word count + [CLS]/[SEP] approximates the pieces; the endpoint truncates at 256.
        entries = [
            "[[" + ",".join([self._row] * min(256, len(text.split()) + 2)) + "]]" for text in inputs
        ]
        return {"Body": io.BytesIO(("[" + ",".join(entries) + "]").encode())}


class InstantCollection:
    """Just enough of opensearch-py's client: the indexes exist, every write succeeds."""

    def __init__(self) -> None:
        self.indices = self
        self._mappings = {
            "alex-chunks": chunk_index_body()["mappings"],
            "alex-documents": document_index_body()["mappings"],
        }

    def exists(self, index: str) -> bool:
        return True

    def get_mapping(self, index: str) -> dict[str, Any]:
        return {index: {"mappings": self._mappings[index]}}

    def search(self, index: str, body: Any) -> dict[str, Any]:
        return {"hits": {"hits": []}}

    def bulk(self, body: str) -> dict[str, Any]:
        actions = [json.loads(line) for line in body.splitlines()]
        items = [
            {verb: {"_id": f"id{n}", "status": 201}}
            for n, action in enumerate(actions)
            for verb in action
            if verb in ("index", "delete")
        ]
        return {"items": items}

    def close(self) -> None:
        pass


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
    services = Services(settings, embedder=embedder, store=OpenSearchStore(InstantCollection()))
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
