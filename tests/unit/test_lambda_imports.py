"""What runs on AWS Lambda imports and works without numpy and the other local-only packages.

The portfolio's Lambda too: importing the sample household, showing, x-raying and exporting
it run without numpy (only the projection needs it, and it is not on Lambda).

The Lambda zip ships neither numpy (13.9 MB) nor the local stack (ONNX Runtime, the
weights, SQLite extensions, FastAPI, the CLI). A fresh interpreter with an import blocker
on ``sys.meta_path`` (the blocked packages raise ImportError, as if not installed) imports
the cloud path, builds the services the way the Lambda handlers do (``ALEX_BACKEND=aws``,
no network), then ingests and searches through the SageMaker embedder and the OpenSearch
store with fake clients, so a numpy import hidden inside a function fails here too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "portfolio"
BLOCKED = (
    "numpy",
    "tokenizers",
    "onnxruntime",
    "onnx",
    "safetensors",
    "sqlite_vec",
    "sqlean",
    "fastapi",
    "starlette",
    "typer",
    "rich",
    "httpx",
    "agents",
    "openai",
)

CLOUD_MODULES = (
    "alex.ingest",
    "alex.search",
    "alex.documents",
    "alex.adapters.sagemaker_embedder",
    "alex.adapters.opensearch",
    "alex.config",
    "alex.services",
    "alex.http.errors",
    "alex.http.schemas",
    "alex.http.operations",
    # The portfolio's Lambda (services/portfolio): every route but the projection.
    "alex.adapters.portfolio_dynamo",
    "alex.portfolio.service",
    "alex.portfolio.summary",
    "alex.http.portfolio_schemas",
    "alex.http.portfolio_operations",
)

SCRIPT = r"""
import sys

BLOCKED = frozenset(sys.argv[1].split(","))
already = sorted(name for name in sys.modules if name.split(".")[0] in BLOCKED)
assert not already, f"imported before the blocker was installed: {already}"


class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is not shipped to AWS Lambda", name=name)
        return None


sys.meta_path.insert(0, Blocker())

import importlib

for module in sys.argv[2].split(","):
    importlib.import_module(module)

import io
import json
import math
import random

from alex.adapters.opensearch import OpenSearchStore
from alex.adapters.sagemaker_embedder import SageMakerEmbedder
from alex.config import load_settings
from alex.ingest import IngestService
from alex.search import SearchService
from alex.services import Services

# The services as a Lambda handler builds them: real boto3 and opensearch-py clients
# (constructed, never called).
built = Services(load_settings())
assert isinstance(built.embedder, SageMakerEmbedder)
assert isinstance(built.store, OpenSearchStore)
assert isinstance(built.ingest, IngestService) and isinstance(built.search, SearchService)
_ = built.documents


class FakeRuntime:
    # sagemaker-runtime answering feature-extraction: [1][tokens][384] per input.
    def invoke_endpoint(self, EndpointName, ContentType, Accept, Body):
        inputs = json.loads(Body)["inputs"]
        answer = []
        for text in inputs:
            rng = random.Random(text)
            tokens = len(text.split()) + 2
            answer.append([[[rng.gauss(0, 1) for _ in range(384)] for _ in range(tokens)]])
        return {"Body": io.BytesIO(json.dumps(answer).encode())}


class FakeOpenSearch:
    # Just enough of a collection: indexes and mappings, bulk index (deletes are ignored),
    # and searches that answer every stored source (the store keeps the current ones).
    def __init__(self):
        self.indices = self
        self.mappings, self.sources, self.bodies = {}, {}, []

    def exists(self, index):
        return index in self.mappings

    def create(self, index, body):
        self.mappings[index], self.sources[index] = body["mappings"], []

    def get_mapping(self, index):
        return {index: {"mappings": self.mappings[index]}}

    def bulk(self, body):
        lines = [json.loads(line) for line in body.splitlines()]
        items, position = [], 0
        while position < len(lines):
            ((action, meta),) = lines[position].items()
            if action == "index":
                stored = self.sources[meta["_index"]]
                stored.append(lines[position + 1])
                items.append({"index": {"_id": f"id{len(stored)}", "status": 201}})
                position += 2
            else:
                items.append({action: {"_id": meta["_id"], "status": 200}})
                position += 1
        return {"items": items}

    def search(self, index, body):
        self.bodies.append(body)
        hits = [
            {"_id": f"id{n}", "_score": 1.5, "_source": source, "sort": [n]}
            for n, source in enumerate(self.sources.get(index, []))
        ]
        return {"hits": {"hits": hits}}

    def close(self):
        pass


collection = FakeOpenSearch()
services = Services(
    load_settings(),
    embedder=SageMakerEmbedder(
        "alex-embeddings", client=FakeRuntime(), tokenizer=built.embedder.tokenizer
    ),
    store=OpenSearchStore(collection, settle_seconds=0),
)

result = services.ingest.ingest(
    "Northwind Semiconductor raised full-year guidance. Net debt is 2.6 times EBITDA.",
    {"ticker": "NWSC"},
)
assert result.status == "created" and result.chunks == 1, result
(chunk,) = collection.sources["alex-chunks"]
embedding = chunk["embedding"]
assert len(embedding) == 384 and all(type(value) is float for value in embedding)
assert abs(math.hypot(*embedding) - 1.0) < 1e-6

hits = services.search.search("net debt", k=3, mode="hybrid", filters={"ticker": "NWSC"})
assert [hit.document_id for hit in hits] == [result.document_id], hits
knn = next(b["query"]["knn"]["embedding"] for b in collection.bodies if "knn" in b["query"])
assert len(knn["vector"]) == 384 and abs(math.hypot(*knn["vector"]) - 1.0) < 1e-6
assert services.documents.get(result.document_id).metadata == {"ticker": "NWSC"}

# The portfolio's Lambda routes on the sample household (a store in dicts for the table).
from pathlib import Path

from alex.http import portfolio_operations as portfolio
from alex.http.portfolio_schemas import PortfolioImportBody
from tests.fakes.portfolio import InMemoryPortfolioStore

samples = Path(sys.argv[3])
files = [{"name": f.name, "text": f.read_text("utf-8")} for f in sorted(samples.glob("*.csv"))]
books = Services(load_settings(), portfolio_store=InMemoryPortfolioStore())
imported = portfolio.portfolio_import(books, PortfolioImportBody.model_validate({"files": files}))
assert sum(report.new for report in imported.reports) > 0, imported
shown = portfolio.portfolio_show(books, "2026-12-03")
assert shown.total.value is not None and shown.holdings, shown
assert portfolio.portfolio_xray(books, "2026-12-03").rules
assert portfolio.portfolio_export(books, "ghostfolio", "transactions").text

loaded = sorted(name for name in sys.modules if name.split(".")[0] in BLOCKED)
assert not loaded, loaded
print("lambda path ok")
"""


def test_the_lambda_path_runs_without_numpy_or_local_packages(tmp_path: Path) -> None:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("AWS_") and name not in ("PYTHONSTARTUP",)
    }
    env.update(
        {
            "ALEX_BACKEND": "aws",
            "SAGEMAKER_ENDPOINT": "alex-embeddings",
            "OPENSEARCH_ENDPOINT": "https://abc123.eu-west-2.aoss.amazonaws.com",
            "DEFAULT_AWS_REGION": "eu-west-2",
            # Credentials the store's signer finds without asking anyone (no network).
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        }
    )
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT, ",".join(BLOCKED), ",".join(CLOUD_MODULES), str(SAMPLES)],
        env=env,
        cwd=ROOT,  # tests.fakes importable
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    assert completed.stdout.strip().endswith("lambda path ok")


def test_the_blocker_would_notice_numpy() -> None:
    """The check is live: a module importing numpy fails under the same blocker."""
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            SCRIPT,
            ",".join(BLOCKED),
            "alex.adapters.vector_matrix",
            str(SAMPLES),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode != 0
    assert "numpy is not shipped to AWS Lambda" in completed.stderr
