"""The OpenSearch Serverless store at the HTTP boundary: no cluster, no network.

opensearch-py runs for real (client, transport, ``RequestsHttpConnection``, the botocore
SigV4 signer); only the socket is replaced: a ``requests`` transport adapter is mounted on
the connection's session, records every request and answers from fixtures in
``tests/fixtures/opensearch/``, each carrying the documentation it follows
(``_source_doc``, ``_retrieved``). Every request of every test also passes
``assert_aoss_compatible``, which encodes what AOSS documents as unsupported (custom
``_id`` on vector collections, refresh, delete-by-query, non-Faiss engines...), so a
mapping or query mistake fails even where no fixture pins the exact body.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections import defaultdict, deque
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from alex.adapters.opensearch import (
    OpenSearchStore,
    build_client,
    chunk_index_body,
    document_index_body,
    filter_clauses,
    meta_terms,
    score_to_cosine,
)
from alex.domain.errors import StoreUnavailableError
from alex.domain.models import EMBEDDING_MODEL, Document, StoredChunk
from alex.domain.validation import sha256_hex

FIXTURES = Path(__file__).parent.parent / "fixtures" / "opensearch"
HOST = "abc123xyz.eu-west-2.aoss.amazonaws.com"
ENDPOINT = f"https://{HOST}"
REGION = "eu-west-2"
DIM = 4
NOW = datetime(2026, 1, 1, tzinfo=UTC)
NOW_NS = 1_767_225_600 * 10**9
R0 = "01767225500000000000-rev0"  # an older version (written before NOW)
R1 = "01767225600000000001-rev1"
CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text("utf-8"))
    assert data["_source_doc"] and data["_retrieved"], f"{name} must name its sources"
    return data


# The fake collection ---------------------------------------------------------------------------
class FakeCollection(BaseAdapter):
    """Answers queued per (method, path), in order; an unexpected request fails the test."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[requests.PreparedRequest] = []
        self.queued: dict[tuple[str, str], deque[tuple[int, Any]]] = defaultdict(deque)

    def on(self, method: str, path: str, status: int = 200, body: Any = None) -> None:
        self.queued[(method, path)].append((status, body))

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.requests.append(request)
        key = (str(request.method), urlsplit(str(request.url)).path)
        if not self.queued[key]:
            raise AssertionError(f"unexpected request {key}: {body_of(request)!r}")
        status, body = self.queued[key].popleft()
        response = requests.Response()
        response.status_code = status
        response._content = b"" if body is None else json.dumps(body).encode("utf-8")
        response.headers = CaseInsensitiveDict({"content-type": "application/json"})
        response.request = request
        response.url = str(request.url)
        return response

    def close(self) -> None:
        pass

    def sent(self, method: str, path: str) -> list[requests.PreparedRequest]:
        return [
            r for r in self.requests if r.method == method and urlsplit(str(r.url)).path == path
        ]

    def assert_drained(self) -> None:
        left = {key: len(items) for key, items in self.queued.items() if items}
        assert not left, f"queued answers never requested: {left}"


def body_of(request: requests.PreparedRequest) -> str:
    body = request.body or b""
    return body.decode("utf-8") if isinstance(body, bytes) else str(body)


def ndjson(request: requests.PreparedRequest) -> list[Any]:
    text = body_of(request)
    assert text.endswith("\n"), "a bulk body must end with a newline"
    return [json.loads(line) for line in text.splitlines()]


def json_body(request: requests.PreparedRequest) -> Any:
    return json.loads(body_of(request))


# What AOSS documents as unsupported -------------------------------------------------------------
FAISS_SPACES = {"l2", "innerproduct"}  # cosinesimil needs OpenSearch 2.19+; keep portable
UNSUPPORTED_PATHS = (
    "/_refresh",
    "/_delete_by_query",
    "/_update_by_query",
    "/_update/",
    "/_create/",
)


def assert_aoss_compatible(request: requests.PreparedRequest, dimension: int) -> None:
    url = urlsplit(str(request.url))
    assert url.scheme == "https" and url.hostname == HOST
    params = parse_qs(url.query)
    for name in ("refresh", "wait_for_active_shards", "master_timeout", "cluster_manager_timeout"):
        assert name not in params, f"AOSS does not support ?{name}"
    assert not any(part in url.path for part in UNSUPPORTED_PATHS), url.path
    if "/_doc/" in url.path:
        assert request.method in ("GET", "DELETE"), "no custom ids on vector collections"
    headers = request.headers
    assert "/aoss/aws4_request" in headers["Authorization"]
    raw = request.body or b""
    raw = raw if isinstance(raw, bytes) else str(raw).encode()
    assert headers["X-Amz-Content-SHA256"] == hashlib.sha256(raw).hexdigest()
    if url.path == "/_bulk":
        lines = ndjson(request)
        position = 0
        while position < len(lines):
            (action, meta), *_ = lines[position].items()
            assert action in ("index", "delete"), f"bulk {action} is not used with AOSS vectors"
            if action == "index":
                assert "_id" not in meta, "AOSS vector collections generate document ids"
                position += 2
            else:
                assert meta.get("_id"), "delete needs the service-generated _id"
                position += 1
    if request.method == "PUT" and url.path.count("/") == 1:
        body = json_body(request)
        for name, spec in body["mappings"]["properties"].items():
            if spec.get("type") == "knn_vector":
                assert body["settings"]["index"]["knn"] is True
                method = spec["method"]
                assert method["engine"] == "faiss" and method["name"] == "hnsw", name
                assert method["space_type"] in FAISS_SPACES, name
                assert "model_id" not in spec and "encoder" not in method.get("parameters", {})
        settings = body.get("settings", {}).get("index", {})
        assert "number_of_shards" not in settings and "number_of_replicas" not in settings
    if url.path.endswith("/_search"):
        body = json_body(request)
        assert body["size"] <= 10_000
        knn = body.get("query", {}).get("knn")
        if knn:
            (spec,) = knn.values()
            assert len(spec["vector"]) == dimension and spec["k"] <= 10_000


# Store under test --------------------------------------------------------------------------------
class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def sequence(prefix: str, first: int = 1) -> Any:
    counter = iter(range(first, 10_000))
    return lambda: f"{prefix}{next(counter)}"


def make_store(
    fake: FakeCollection, sleeps: Sleeps, dimension: int = DIM, **options: Any
) -> OpenSearchStore:
    client = build_client(
        ENDPOINT,
        REGION,
        credentials=CREDENTIALS,
        sleep=sleeps,
        jitter=lambda: 0.5,
    )
    client.transport.get_connection().session.mount("https://", fake)
    revisions = iter(f"{NOW_NS + i:020d}-rev{i}" for i in range(1, 100))
    options.setdefault("new_revision", lambda: next(revisions))
    return OpenSearchStore(
        client,
        dimension=dimension,
        model_name=EMBEDDING_MODEL,
        endpoint=ENDPOINT,
        region=REGION,
        sleep=sleeps,
        jitter=lambda: 0.5,
        clock=lambda: NOW,
        new_uid=sequence("u"),
        **options,
    )


@pytest.fixture
def fake() -> Iterator[FakeCollection]:
    collection = FakeCollection()
    yield collection
    collection.assert_drained()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def store(fake: FakeCollection, sleeps: Sleeps) -> Iterator[OpenSearchStore]:
    built = make_store(fake, sleeps)
    yield built
    for request in fake.requests:
        assert_aoss_compatible(request, DIM)


def mapping_answer(index: str, dimension: int = DIM, **meta: Any) -> dict[str, Any]:
    body = chunk_index_body if index.endswith("chunks") else document_index_body
    mappings = json.loads(json.dumps(body(dimension, EMBEDDING_MODEL)["mappings"]))
    mappings.pop("dynamic")
    mappings["_meta"].update(meta)
    if index.endswith("chunks"):  # the service fills in the method's default parameters
        mappings["properties"]["embedding"]["method"]["parameters"] = {
            "ef_construction": 100,
            "m": 16,
        }
    return {index: {"mappings": mappings}}


def ready(fake: FakeCollection, dimension: int = DIM) -> None:
    for index in ("alex-chunks", "alex-documents"):
        fake.on("HEAD", f"/{index}")
    for index in ("alex-chunks", "alex-documents"):
        fake.on("GET", f"/{index}/_mapping", body=mapping_answer(index, dimension))


def hits(*sources: dict[str, Any], index: str = "alex-documents") -> dict[str, Any]:
    found = [
        {
            "_index": index,
            "_id": source.pop("_id", f"id-{n}"),
            "_score": None,
            "_source": source,
            "sort": [f"u{n}"],
        }
        for n, source in enumerate(sources)
    ]
    return {
        "took": 2,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {
            "total": {"value": len(found), "relation": "eq"},
            "max_score": None,
            "hits": found,
        },
    }


def bulk_item(
    action: str, index: str, status: int, doc_id: str | None = None, **fields: Any
) -> dict[str, Any]:
    """One item of a ``_bulk`` answer, e.g. ``{"delete": {"_index", "_id", "status", ...}}``."""
    identity = {"_id": doc_id} if doc_id is not None else {}
    return {action: {"_index": index, **identity, "status": status, **fields}}


def bulk(*items: dict[str, Any]) -> dict[str, Any]:
    """A ``_bulk`` answer; like OpenSearch, ``errors`` is set when an item carries an error."""
    failed = any("error" in result for item in items for result in item.values())
    return {"took": 1, "errors": failed, "items": list(items)}


def record(revision: str = R1, **fields: Any) -> dict[str, Any]:
    data = fixture("bulk_upsert.json")["requests"][1]["ndjson"][1]
    return {**data, "revision": revision, **fields}


def upsert_fixture() -> tuple[Document, list[StoredChunk], list[list[float]]]:
    data = fixture("bulk_upsert.json")["document"]
    document = Document(
        id=data["id"],
        text=data["text"],
        metadata=data["metadata"],
        text_sha256=sha256_hex(data["text"]),
        source_id=data["source_id"],
    )
    chunks = [StoredChunk(*chunk) for chunk in data["chunks"]]
    return document, chunks, data["vectors"]  # plain lists, as the port carries them


# Signing and index creation ----------------------------------------------------------------------
def test_requests_are_sigv4_signed_for_aoss_in_the_region(
    fake: FakeCollection, store: OpenSearchStore
) -> None:
    fake.on("HEAD", "/alex-chunks", status=404)

    assert store.semantic([1.0] * DIM, 1, {}) == []

    (request,) = fake.requests
    authorization = request.headers["Authorization"]
    amz_date = request.headers["X-Amz-Date"]
    scope = f"AKIDEXAMPLE/{amz_date[:8]}/{REGION}/aoss/aws4_request"
    assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential={scope}, ")
    signed = authorization.split("SignedHeaders=")[1].split(",")[0]
    assert signed == "host;x-amz-date"
    # AOSS needs the payload hash header (opensearch-py's signer adds it after signing).
    assert request.headers["X-Amz-Content-SHA256"] == hashlib.sha256(b"").hexdigest()
    # The signature itself, recomputed independently with botocore for service "aoss".
    unsigned = AWSRequest(method="HEAD", url=str(request.url), headers={"X-Amz-Date": amz_date})
    unsigned.context["timestamp"] = amz_date
    signer = SigV4Auth(CREDENTIALS, "aoss", REGION)
    expected = signer.signature(
        signer.string_to_sign(unsigned, signer.canonical_request(unsigned)), unsigned
    )
    assert authorization.endswith(f"Signature={expected}")


def test_creates_both_indexes_with_the_documented_mappings(
    fake: FakeCollection, sleeps: Sleeps
) -> None:
    chunks, documents = fixture("create_chunks_index.json"), fixture("create_documents_index.json")
    fake.on("HEAD", "/alex-chunks", status=404)
    fake.on("PUT", "/alex-chunks", **_answer(chunks["response"]))
    fake.on("HEAD", "/alex-documents", status=404)
    # Another process created it between our HEAD and PUT: fine.
    fake.on("PUT", "/alex-documents", **_answer(fixture("index_already_exists.json")["response"]))
    fake.on("GET", "/alex-chunks/_mapping", body=mapping_answer("alex-chunks", 384))
    fake.on("GET", "/alex-documents/_mapping", body=mapping_answer("alex-documents", 384))
    store = make_store(fake, sleeps, dimension=384)

    store._ensure(create=True)
    store._ensure(create=True)  # once known, not asked again

    (put_chunks,) = fake.sent("PUT", "/alex-chunks")
    (put_documents,) = fake.sent("PUT", "/alex-documents")
    assert json_body(put_chunks) == chunks["request"]["body"]
    assert json_body(put_documents) == documents["request"]["body"]
    for request in fake.requests:
        assert_aoss_compatible(request, 384)


def _answer(response: dict[str, Any]) -> dict[str, Any]:
    return {"status": response["status"], "body": response["body"]}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"model": "BAAI/bge-small-en"}, "model='BAAI/bge-small-en'"),
        ({"dimension": 768}, "dimension=768"),
    ],
)
def test_refuses_indexes_built_for_another_model(
    fake: FakeCollection, store: OpenSearchStore, change: dict[str, Any], problem: str
) -> None:
    fake.on("HEAD", "/alex-chunks")
    fake.on("HEAD", "/alex-documents")
    fake.on("GET", "/alex-chunks/_mapping", body=mapping_answer("alex-chunks", **change))
    fake.on("GET", "/alex-documents/_mapping", body=mapping_answer("alex-documents"))

    with pytest.raises(StoreUnavailableError, match=problem):
        store.count({})


def test_refuses_a_vector_field_created_with_another_engine(
    fake: FakeCollection, store: OpenSearchStore
) -> None:
    wrong = mapping_answer("alex-chunks")
    wrong["alex-chunks"]["mappings"]["properties"]["embedding"]["method"].update(
        engine="nmslib", space_type="cosinesimil"
    )
    fake.on("HEAD", "/alex-chunks")
    fake.on("HEAD", "/alex-documents")
    fake.on("GET", "/alex-chunks/_mapping", body=wrong)
    fake.on("GET", "/alex-documents/_mapping", body=mapping_answer("alex-documents"))

    with pytest.raises(StoreUnavailableError, match="engine='nmslib', not 'faiss'"):
        store.count({})


def test_reads_before_the_first_write_create_nothing(
    fake: FakeCollection, store: OpenSearchStore
) -> None:
    for _ in range(6):
        fake.on("HEAD", "/alex-chunks", status=404)

    assert store.semantic([1.0] * DIM, 3, {}) == []
    assert store.keyword("guidance", 3, {}) == []
    assert store.get("d1") is None and store.get_fingerprint("d1") is None
    assert store.count({}) == (0, 0) and store.list_documents(10, 0, {}) == []
    assert [r.method for r in fake.requests] == ["HEAD"] * 6


# Writes ------------------------------------------------------------------------------------------
def test_upsert_writes_chunks_then_the_record_without_ids(
    fake: FakeCollection, store: OpenSearchStore
) -> None:
    data = fixture("bulk_upsert.json")
    ready(fake)
    fake.on("POST", "/alex-documents/_search", body=hits())  # no earlier version
    for response in data["responses"]:
        fake.on("POST", "/_bulk", **_answer(response))
    fake.on("POST", "/alex-documents/_search", body=hits())  # nothing superseded
    fake.on("POST", "/alex-chunks/_search", body=hits(index="alex-chunks"))

    store.upsert(*upsert_fixture())

    bulks = fake.sent("POST", "/_bulk")
    assert [ndjson(r) for r in bulks] == [expected["ndjson"] for expected in data["requests"]]


def test_replacing_a_document_removes_the_superseded_version(
    fake: FakeCollection, store: OpenSearchStore
) -> None:
    data = fixture("bulk_upsert.json")
    ready(fake)
    older = {
        "document_id": "d1",
        "revision": R0,
        "deleted": False,
        "created_at": "2025-06-01T09:00:00+00:00",
    }
    fake.on("POST", "/alex-documents/_search", body=hits(older))
    for response in data["responses"]:
        fake.on("POST", "/_bulk", **_answer(response))
    fake.on("POST", "/alex-documents/_search", body=hits({"_id": "r-old"}))
    fake.on(
        "POST",
        "/_bulk",
        body=bulk(bulk_item("delete", "alex-documents", 200, "r-old", result="deleted")),
    )
    fake.on(
        "POST",
        "/alex-chunks/_search",
        body=hits({"_id": "c-old0"}, {"_id": "c-old1"}, index="alex-chunks"),
    )
    fake.on(
        "POST",
        "/_bulk",
        body=bulk(
            bulk_item("delete", "alex-chunks", 200, "c-old0", result="deleted"),
            bulk_item("delete", "alex-chunks", 404, "c-old1", result="not_found"),
        ),
    )

    store.upsert(*upsert_fixture())

    record_line = ndjson(fake.sent("POST", "/_bulk")[1])[1]
    assert record_line["created_at"] == "2025-06-01T09:00:00+00:00"  # kept from the first version
    cleanup = json_body(fake.sent("POST", "/alex-chunks/_search")[0])
    assert cleanup["query"] == {
        "bool": {
            "should": [
                {
                    "bool": {
                        "filter": [
                            {"term": {"document_id": "d1"}},
                            {"range": {"revision": {"lt": R1}}},
                        ]
                    }
                }
            ],
            "minimum_should_match": 1,
        }
    }
    assert cleanup["_source"] is False
    assert [ndjson(r) for r in fake.sent("POST", "/_bulk")[2:]] == [
        [{"delete": {"_index": "alex-documents", "_id": "r-old"}}],
        [
            {"delete": {"_index": "alex-chunks", "_id": "c-old0"}},
            {"delete": {"_index": "alex-chunks", "_id": "c-old1"}},
        ],
    ]


def test_a_failed_bulk_item_is_an_error_and_nothing_is_kept(
    fake: FakeCollection, store: OpenSearchStore
) -> None:
    data = fixture("bulk_item_error.json")
    ready(fake)
    fake.on("POST", "/alex-documents/_search", body=hits())
    fake.on("POST", "/_bulk", **_answer(data["response"]))
    fake.on("POST", "/_bulk", **_answer(data["cleanup_response"]))

    with pytest.raises(StoreUnavailableError) as caught:
        store.upsert(*upsert_fixture())

    message = caught.value.message
    assert "stored 1 of 2 chunks" in message
    assert "400 illegal_argument_exception: Document ID is not supported" in message
    assert "removed again" in message and "Nothing else from this request was stored" in message
    bulks = fake.sent("POST", "/_bulk")
    assert len(bulks) == 2, "no record may be written for a version with a missing chunk"
    assert ndjson(bulks[1]) == data["expected_cleanup"]["ndjson"]


def test_a_failed_record_removes_its_chunks(fake: FakeCollection, store: OpenSearchStore) -> None:
    data = fixture("bulk_upsert.json")
    ready(fake)
    fake.on("POST", "/alex-documents/_search", body=hits())
    fake.on("POST", "/_bulk", **_answer(data["responses"][0]))
    fake.on(
        "POST",
        "/_bulk",
        body=bulk(
            bulk_item(
                "index",
                "alex-documents",
                400,
                error={
                    "type": "mapper_parsing_exception",
                    "reason": "failed to parse field [created_at]",
                },
            )
        ),
    )
    fake.on(
        "POST",
        "/_bulk",
        body=bulk(*(bulk_item("delete", "alex-chunks", 200, i) for i in ("c-ZQm1", "c-ZQm2"))),
    )

    with pytest.raises(
        StoreUnavailableError, match="stored 0 of 1 document records: 1 x 400 mapper_parsing"
    ):
        store.upsert(*upsert_fixture())

    assert ndjson(fake.sent("POST", "/_bulk")[2]) == [
        {"delete": {"_index": "alex-chunks", "_id": "c-ZQm1"}},
        {"delete": {"_index": "alex-chunks", "_id": "c-ZQm2"}},
    ]


def test_throttled_bulk_items_are_sent_again(
    fake: FakeCollection, store: OpenSearchStore, sleeps: Sleeps
) -> None:
    data = fixture("bulk_upsert.json")
    ready(fake)
    fake.on("POST", "/alex-documents/_search", body=hits())
    first = json.loads(json.dumps(data["responses"][0]["body"]))
    first["errors"] = True
    first["items"][1] = {
        "index": {
            "_index": "alex-chunks",
            "status": 429,
            "error": {"type": "rejected_execution_exception", "reason": "rejected execution"},
        }
    }
    fake.on("POST", "/_bulk", body=first)
    fake.on(
        "POST",
        "/_bulk",
        body=bulk(data["responses"][0]["body"]["items"][1]),
    )
    fake.on("POST", "/_bulk", **_answer(data["responses"][1]))
    fake.on("POST", "/alex-documents/_search", body=hits())
    fake.on("POST", "/alex-chunks/_search", body=hits(index="alex-chunks"))

    store.upsert(*upsert_fixture())

    bulks = fake.sent("POST", "/_bulk")
    assert ndjson(bulks[1]) == data["requests"][0]["ndjson"][2:]  # only the throttled chunk
    assert sleeps.calls == [0.25]


def test_vectors_must_match_the_dimension(store: OpenSearchStore) -> None:
    document, chunks, _ = upsert_fixture()
    with pytest.raises(ValueError, match="one vector of 4 values per chunk"):
        store.upsert(document, chunks, [[1.0] * 3, [1.0] * 3])
    with pytest.raises(ValueError, match="one vector of 4 values per chunk"):
        store.upsert(document, chunks, [[1.0] * 4])


def test_delete_writes_a_tombstone_then_removes_the_old_version(
    fake: FakeCollection, store: OpenSearchStore
) -> None:
    ready(fake)
    fake.on("POST", "/alex-documents/_search", body=hits(record(R0)))
    fake.on(
        "POST",
        "/_bulk",
        body=bulk(bulk_item("index", "alex-documents", 201, "tomb", result="created")),
    )
    fake.on("POST", "/alex-documents/_search", body=hits({"_id": "r-ZQm3"}))
    fake.on(
        "POST",
        "/_bulk",
        body=bulk(bulk_item("delete", "alex-documents", 200, "r-ZQm3")),
    )
    fake.on("POST", "/alex-chunks/_search", body=hits(index="alex-chunks"))
    fake.on(
        "POST",
        "/alex-documents/_search",
        body=hits(record(f"{NOW_NS + 1:020d}-rev1", deleted=True)),
    )

    assert store.delete("d1") is True
    assert store.delete("d1") is False  # the tombstone is the newest record now

    tombstone = ndjson(fake.sent("POST", "/_bulk")[0])
    assert tombstone == [
        {"index": {"_index": "alex-documents"}},
        {
            "document_id": "d1",
            "revision": f"{NOW_NS + 1:020d}-rev1",
            "uid": "u1",
            "deleted": True,
            "created_at": "2026-01-01T00:00:00+00:00",
            "updated_at": "2026-01-01T00:00:00+00:00",
        },
    ]


def test_update_metadata_copies_the_vectors_into_a_new_version(
    fake: FakeCollection, store: OpenSearchStore
) -> None:
    data = fixture("bulk_upsert.json")
    ready(fake)
    fake.on("POST", "/alex-documents/_search", body=hits(record(R0)))
    chunk_sources = [line for line in data["requests"][0]["ndjson"] if "document_id" in line]
    fake.on(
        "POST",
        "/alex-chunks/_search",
        body=hits(*[dict(s) for s in chunk_sources], index="alex-chunks"),
    )
    fake.on("POST", "/_bulk", **_answer(data["responses"][0]))
    fake.on("POST", "/_bulk", **_answer(data["responses"][1]))
    fake.on("POST", "/alex-documents/_search", body=hits())
    fake.on("POST", "/alex-chunks/_search", body=hits(index="alex-chunks"))

    store.update_metadata("d1", {"ticker": "NWSC", "reviewed": True})

    lines = ndjson(fake.sent("POST", "/_bulk")[0])
    assert [line.get("embedding") for line in lines[1::2]] == [
        [0.5, 0.5, 0.5, 0.5],
        [1.0, 0.0, 0.0, 0.0],
    ]
    assert lines[1]["meta_terms"] == ["reviewed=b:true", "ticker=s:NWSC"]
    assert lines[1]["revision"] == f"{NOW_NS + 1:020d}-rev1"


def test_update_metadata_asks_to_retry_when_chunks_are_not_visible_yet(
    fake: FakeCollection, store: OpenSearchStore
) -> None:
    ready(fake)
    fake.on("POST", "/alex-documents/_search", body=hits(record()))
    fake.on("POST", "/alex-chunks/_search", body=hits(index="alex-chunks"))

    with pytest.raises(StoreUnavailableError, match="again in a minute"):
        store.update_metadata("d1", {"ticker": "NWSC"})


# Searches ----------------------------------------------------------------------------------------
def test_semantic_is_a_filtered_knn_query_on_current_versions(
    fake: FakeCollection, store: OpenSearchStore
) -> None:
    data = fixture("knn_search.json")
    ready(fake)
    fake.on("POST", "/alex-chunks/_search", **_answer(data["response"]))
    fake.on("POST", "/alex-documents/_search", body=hits(record(), record(R0)))
    call = data["call"]

    found = store.semantic(call["vector"], call["k"], call["filters"])

    (search,) = fake.sent("POST", "/alex-chunks/_search")
    assert json_body(search) == data["request"]["body"]
    assert [[h.document_id, h.chunk_ordinal, h.text, round(h.score, 6)] for h in found] == data[
        "expected"
    ]
    assert all(h.metadata == record()["metadata"] for h in found)
    lookup = json_body(fake.sent("POST", "/alex-documents/_search")[0])
    assert lookup["query"] == {"bool": {"filter": [{"terms": {"document_id": ["d1"]}}]}}


def test_vectors_are_sent_as_float32_values(fake: FakeCollection, store: OpenSearchStore) -> None:
    """Plain floats in (the SageMaker path pools in float64), float32 out: what the index
    keeps, and what a float32 array gave before the port dropped numpy."""
    ready(fake)
    fake.on("POST", "/alex-chunks/_search", body=hits(index="alex-chunks"))
    vector = [0.1, 0.2, 0.3, 0.9]

    assert store.semantic(vector, 3, {}) == []

    (search,) = fake.sent("POST", "/alex-chunks/_search")
    sent = json_body(search)["query"]["knn"]["embedding"]["vector"]
    assert sent == [float(struct.unpack("f", struct.pack("f", x))[0]) for x in vector]
    assert sent != vector and max(abs(a - b) for a, b in zip(sent, vector, strict=True)) < 1e-7


def test_keyword_is_a_bm25_match_with_term_filters(
    fake: FakeCollection, store: OpenSearchStore
) -> None:
    data = fixture("match_search.json")
    ready(fake)
    fake.on("POST", "/alex-chunks/_search", **_answer(data["response"]))
    fake.on("POST", "/alex-documents/_search", body=hits(record()))
    call = data["call"]

    found = store.keyword(call["query"], call["k"], call["filters"])

    assert json_body(fake.sent("POST", "/alex-chunks/_search")[0]) == data["request"]["body"]
    assert [[h.document_id, h.chunk_ordinal, h.text, h.score] for h in found] == data["expected"]


def test_deleted_documents_never_appear_in_results(
    fake: FakeCollection, store: OpenSearchStore
) -> None:
    data = fixture("knn_search.json")
    ready(fake)
    fake.on("POST", "/alex-chunks/_search", **_answer(data["response"]))
    fake.on(
        "POST",
        "/alex-documents/_search",
        body=hits(record(), record(f"{NOW_NS + 5:020d}-rev5", deleted=True)),
    )

    assert store.semantic([1.0] * DIM, 3, {}) == []


# Reads -------------------------------------------------------------------------------------------
def test_get_and_fingerprint_read_the_newest_record(
    fake: FakeCollection, store: OpenSearchStore
) -> None:
    ready(fake)
    fake.on("POST", "/alex-documents/_search", body=hits(record(R0, text="old"), record()))
    fake.on("POST", "/alex-documents/_search", body=hits(record()))

    document = store.get("d1")
    fingerprint = store.get_fingerprint("d1")

    assert document is not None and document.text == "Alpha beta. Gamma delta."
    assert document.chunk_count == 2 and document.source_id == "notes/nwsc.md"
    assert fingerprint is not None
    assert fingerprint.metadata_json == '{"tags":["chips","guidance"],"ticker":"NWSC","year":2025}'
    assert fingerprint.text_sha256 == sha256_hex("Alpha beta. Gamma delta.")
    lookup = json_body(fake.sent("POST", "/alex-documents/_search")[1])
    assert lookup["_source"] == {
        "includes": ["chunk_count", "deleted", "document_id", "metadata", "revision", "text_sha256"]
    }
    assert lookup["sort"] == [{"uid": "asc"}] and lookup["size"] == 1000


def test_list_and_count_skip_superseded_and_deleted_versions(
    fake: FakeCollection, store: OpenSearchStore
) -> None:
    ready(fake)
    newer = record(f"{NOW_NS + 3:020d}-rev3", updated_at="2026-01-02T00:00:00+00:00")
    d2 = record(document_id="d2", updated_at="2025-12-01T00:00:00+00:00", chunk_count=5)
    d3 = record(document_id="d3")
    # Candidates matching the filter: d1 twice (an old and a new version), d2, d3 ...
    fake.on("POST", "/alex-documents/_search", body=hits(record(), newer, d2, d3))
    # ... but d3's newest record is a tombstone not matching the filter.
    fake.on(
        "POST",
        "/alex-documents/_search",
        body=hits(
            record(),
            newer,
            d2,
            d3,
            record(f"{NOW_NS + 4:020d}-rev4", document_id="d3", deleted=True),
        ),
    )
    fake.on("POST", "/alex-documents/_search", body=hits(record(), newer, d2))
    fake.on("POST", "/alex-documents/_search", body=hits(record(), newer, d2))

    listed = store.list_documents(10, 0, {"ticker": "NWSC"})
    counted = store.count({"ticker": "NWSC"})

    assert [(d.id, d.updated_at) for d in listed] == [
        ("d1", "2026-01-02T00:00:00+00:00"),
        ("d2", "2025-12-01T00:00:00+00:00"),
    ]
    assert listed[0].preview == "Alpha beta. Gamma delta." and listed[0].chars == 24
    assert counted == (2, 7)
    first = json_body(fake.sent("POST", "/alex-documents/_search")[0])
    assert first["query"] == {
        "bool": {
            "filter": [{"term": {"deleted": False}}, {"term": {"meta_terms": "ticker=s:NWSC"}}]
        }
    }


def test_scans_page_with_search_after(fake: FakeCollection, store: OpenSearchStore) -> None:
    ready(fake)

    def page() -> dict[str, Any]:
        return hits(*[record(document_id=f"d{i:04d}") for i in range(1000)])

    fake.on("POST", "/alex-documents/_search", body=page())  # candidates, page 1
    fake.on("POST", "/alex-documents/_search", body=hits(record(document_id="last")))  # page 2
    fake.on("POST", "/alex-documents/_search", body=page())  # newest of the first 1,000 ids
    fake.on("POST", "/alex-documents/_search", body=hits())  # ... and their second page
    fake.on("POST", "/alex-documents/_search", body=hits(record(document_id="last")))

    assert store.count({}) == (1001, 2002)

    second = json_body(fake.sent("POST", "/alex-documents/_search")[1])
    assert second["search_after"] == ["u999"]


# Errors ------------------------------------------------------------------------------------------
def test_403_explains_the_data_access_policy(
    fake: FakeCollection, store: OpenSearchStore, sleeps: Sleeps
) -> None:
    fake.on("HEAD", "/alex-chunks", **_answer(fixture("error_403.json")["response"]))

    with pytest.raises(StoreUnavailableError) as caught:
        store.count({})

    message = caught.value.message
    assert "HTTP 403" in message and ENDPOINT in message
    assert "data access policy" in message and "about a minute" in message
    assert "aoss:DescribeIndex" in message and "aoss:APIAccessAll" in message
    assert f"'aoss' in region {REGION}" in message
    assert sleeps.calls == []  # a denial is not retried


def test_429_is_retried_with_backoff(
    fake: FakeCollection, store: OpenSearchStore, sleeps: Sleeps
) -> None:
    throttled = _answer(fixture("error_429.json")["response"])
    ready(fake)
    fake.on("POST", "/alex-documents/_search", **throttled)
    fake.on("POST", "/alex-documents/_search", **throttled)
    fake.on("POST", "/alex-documents/_search", body=hits(record()))
    fake.on("POST", "/alex-documents/_search", body=hits(record()))

    assert store.count({}) == (1, 2)
    assert sleeps.calls == [0.25, 0.5]  # full jitter x 0.5 s x 2**attempt


def test_429_gives_up_after_the_last_attempt(
    fake: FakeCollection, store: OpenSearchStore, sleeps: Sleeps
) -> None:
    ready(fake)
    for _ in range(5):
        fake.on("POST", "/alex-chunks/_search", **_answer(fixture("error_429.json")["response"]))

    with pytest.raises(StoreUnavailableError, match="throttling requests \\(HTTP 429\\)"):
        store.keyword("guidance", 3, {})
    assert sleeps.calls == [0.25, 0.5, 1.0, 2.0]


def test_other_errors_name_the_type_and_reason(
    fake: FakeCollection, store: OpenSearchStore
) -> None:
    ready(fake)
    fake.on(
        "POST",
        "/alex-chunks/_search",
        status=400,
        body={
            "error": {
                "root_cause": [],
                "type": "search_phase_execution_exception",
                "reason": "all shards failed",
            },
            "status": 400,
        },
    )

    with pytest.raises(
        StoreUnavailableError, match="HTTP 400 search_phase_execution_exception: all shards failed"
    ):
        store.keyword("guidance", 3, {})


# Integrity ---------------------------------------------------------------------------------------
def test_check_integrity_reports_what_it_can_see(
    fake: FakeCollection, store: OpenSearchStore
) -> None:
    ready(fake)
    fake.on("GET", "/alex-chunks/_mapping", body=mapping_answer("alex-chunks"))
    fake.on("GET", "/alex-documents/_mapping", body=mapping_answer("alex-documents"))
    old = "01767225000000000000-old"  # 10 minutes before NOW: settled
    older = "01767224400000000000-older"  # 20 minutes before NOW
    fresh = f"{NOW_NS - 10**9:020d}-fresh"  # 1 s before NOW: not checked yet
    records = [
        {"_id": "a1", "document_id": "a", "revision": old, "deleted": False, "chunk_count": 2},
        {"_id": "b0", "document_id": "b", "revision": older, "deleted": False, "chunk_count": 1},
        {"_id": "b1", "document_id": "b", "revision": old, "deleted": False, "chunk_count": 1},
        {"_id": "c1", "document_id": "c", "revision": fresh, "deleted": False, "chunk_count": 3},
    ]
    chunks = [
        {"_id": "a-0", "document_id": "a", "revision": old, "ordinal": 0},  # a is missing ordinal 1
        {"_id": "b-0", "document_id": "b", "revision": old, "ordinal": 0},
        {"_id": "b-0x", "document_id": "b", "revision": old, "ordinal": 0},  # duplicate
        {"_id": "b-old", "document_id": "b", "revision": older, "ordinal": 0},  # superseded
        {"_id": "z-0", "document_id": "z", "revision": old, "ordinal": 0},  # orphan
    ]
    fake.on("POST", "/alex-documents/_search", body=hits(*[dict(r) for r in records]))
    fake.on(
        "POST", "/alex-chunks/_search", body=hits(*[dict(c) for c in chunks], index="alex-chunks")
    )

    problems = store.check_integrity()

    assert problems == [
        "1 documents whose chunk count disagrees with their chunks",
        "1 duplicate chunks (a retried write stored them twice; searches show each once)",
        "1 superseded document records and 2 chunks of superseded, deleted or failed versions "
        "awaiting removal (hidden from searches; purge_superseded() removes them)",
    ]


# Pure helpers ------------------------------------------------------------------------------------
def test_metadata_terms_keep_types_apart() -> None:
    terms = meta_terms(
        {"year": 2025, "fy": "2025", "ok": True, "ratio": 2.5, "tags": ["a", 1], "none": None}
    )
    assert terms == ["fy=s:2025", "ok=b:true", "ratio=n:2.5", "tags=n:1", "tags=s:a", "year=n:2025"]
    assert filter_clauses({"year": 2025.0}) == [{"term": {"meta_terms": "year=n:2025"}}]
    assert filter_clauses({"ok": True}) != filter_clauses({"ok": 1})


def test_scores_are_turned_back_into_cosines() -> None:
    # knn-spaces: Faiss innerproduct d = -x.y; score = 1 - d if d < 0 else 1 / (1 + d)
    for cosine in (1.0, 0.5, 0.0, -0.5, -1.0):
        d = -cosine
        score = 1 - d if d < 0 else 1 / (1 + d)
        assert score_to_cosine(score) == pytest.approx(cosine)
