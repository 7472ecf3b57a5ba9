"""Stand-ins for the cloud's network: a SageMaker endpoint that answers after a set latency
with real-sized token vectors, and an OpenSearch client that acknowledges every write at
once. ``bench/cloud_ingest.py`` times the ingest Lambda's path with them;
``tests/unit/test_cloud_limits.py`` checks that path's limits."""

from __future__ import annotations

import io
import json
import random
import threading
import time
from typing import Any

from alex.adapters.opensearch import chunk_index_body, document_index_body


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
