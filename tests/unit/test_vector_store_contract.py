"""One contract for every ``VectorStore``: SQLite, OpenSearch (on a fake collection), in-memory.

Small hand-made 4-dimensional vectors, no model. Where stores legitimately differ (keyword
scores, tie order) the tests pin the contract, an obviously best match first, not numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from alex.adapters.sqlite_store import SqliteStore
from alex.domain.errors import StoreUnavailableError
from alex.domain.models import ChunkHit, Document, Filters, Fingerprint, Metadata, StoredChunk
from alex.domain.validation import canonical_json, sha256_hex
from alex.ports import VectorStore
from tests.fakes import InMemoryVectorStore
from tests.fakes.opensearch import fake_opensearch_store

DIM = 4
MODEL = "contract-model"
STORES = ("sqlite", "sqlite-warm", "opensearch", "memory")


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    built: VectorStore
    if request.param.startswith("sqlite"):
        built = SqliteStore(tmp_path / "contract.db", DIM, MODEL)
        if request.param == "sqlite-warm":  # keyword search from the in-memory index
            built.warm_up()
    elif request.param == "opensearch":
        built = fake_opensearch_store(DIM, model_name=MODEL)
    else:
        built = InMemoryVectorStore(DIM)
    yield built
    built.close()


def unit(*values: float) -> list[float]:
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


def document(
    doc_id: str, texts: list[str], metadata: Metadata | None = None, source_id: str | None = None
) -> tuple[Document, list[StoredChunk]]:
    text = " ".join(texts)
    chunks, start = [], 0
    for ordinal, piece in enumerate(texts):
        chunks.append(StoredChunk(ordinal, piece, start, start + len(piece)))
        start += len(piece) + 1
    return Document(doc_id, text, metadata or {}, sha256_hex(text), source_id), chunks


def put(
    store: VectorStore,
    doc_id: str,
    texts: list[str],
    vectors: list[list[float]] | None = None,
    metadata: Metadata | None = None,
) -> Document:
    doc, chunks = document(doc_id, texts, metadata)
    store.upsert(doc, chunks, vectors or [unit(1, 1, 1, 1)] * len(chunks))
    return doc


def ids(hits: list[ChunkHit]) -> list[str]:
    return [hit.document_id for hit in hits]


# Empty store, writes and reads ---------------------------------------------------------------
def test_an_empty_store_has_nothing_and_is_whole(store: VectorStore) -> None:
    store.warm_up()
    assert store.get("nope") is None and store.get_fingerprint("nope") is None
    assert store.count({}) == (0, 0) and store.list_documents(10, 0, {}) == []
    assert store.semantic(unit(1, 0, 0, 0), 5, {}) == []
    assert store.keyword("anything", 5, {}) == []
    assert store.delete("nope") is False
    assert store.check_integrity() == []


def test_upsert_then_get_count_list_and_fingerprint(store: VectorStore) -> None:
    metadata: Metadata = {"ticker": "NWND", "year": 2025, "tags": ["a", 1, True], "é": "ü"}
    doc, chunks = document("d1", ["Northwind sold   more.", "Margins rose."], metadata, "n.md")
    store.upsert(doc, chunks, [unit(1, 0, 0, 0), unit(0, 1, 0, 0)])

    got = store.get("d1")
    assert got is not None
    assert (got.id, got.text, got.metadata, got.source_id) == ("d1", doc.text, metadata, "n.md")
    assert got.text_sha256 == doc.text_sha256 and got.chunk_count == 2
    assert got.created_at and got.updated_at
    assert store.get_fingerprint("d1") == Fingerprint(doc.text_sha256, canonical_json(metadata), 2)
    assert store.count({}) == (1, 2)
    (summary,) = store.list_documents(10, 0, {})
    assert (summary.id, summary.metadata, summary.chunk_count) == ("d1", metadata, 2)
    assert (
        summary.chars == len(doc.text) and summary.preview == "Northwind sold more. Margins rose."
    )
    assert summary.created_at == got.created_at and summary.updated_at == got.updated_at
    assert store.check_integrity() == []


def test_upsert_replaces_every_chunk_of_a_document(store: VectorStore) -> None:
    put(store, "d1", ["widgets one", "widgets two", "widgets three"], [unit(1, 0, 0, 0)] * 3)
    created = store.get("d1")
    put(store, "d1", ["sprockets only"], [unit(0, 1, 0, 0)], {"v": 2})
    assert store.count({}) == (1, 1)
    assert store.keyword("widgets", 5, {}) == []
    assert ids(store.keyword("sprockets", 5, {})) == ["d1"]
    hits = store.semantic(unit(1, 0, 0, 0), 5, {})
    assert [(h.document_id, h.chunk_ordinal, h.text) for h in hits] == [("d1", 0, "sprockets only")]
    replaced = store.get("d1")
    assert replaced is not None and created is not None
    assert replaced.text == "sprockets only" and replaced.metadata == {"v": 2}
    assert replaced.created_at == created.created_at
    assert store.check_integrity() == []


def test_upsert_many_stores_all_of_them(store: VectorStore) -> None:
    items = [document(f"d{n}", [f"text number {n}"]) for n in range(3)]
    store.upsert_many([(doc, chunks, [unit(1, n, 0, 0)]) for n, (doc, chunks) in enumerate(items)])
    assert store.count({}) == (3, 3)
    assert {s.id for s in store.list_documents(10, 0, {})} == {"d0", "d1", "d2"}


@pytest.mark.parametrize(
    "bad_vectors",
    [[], [unit(1, 0, 0, 0)] * 2, [[1.0, 0.0, 0.0]]],
    ids=["no vector", "two vectors for one chunk", "wrong dimension"],
)
def test_upsert_many_is_all_or_nothing(store: VectorStore, bad_vectors: list[list[float]]) -> None:
    put(store, "old", ["old text kept"], [unit(0, 0, 1, 0)], {"v": 1})
    good, good_chunks = document("new", ["a good new document"])
    changed, changed_chunks = document("old", ["old text replaced"], {"v": 2})
    bad, bad_chunks = document("bad", ["a bad document"])
    with pytest.raises((ValueError, StoreUnavailableError)):
        store.upsert_many(
            [
                (good, good_chunks, [unit(1, 0, 0, 0)]),
                (changed, changed_chunks, [unit(0, 1, 0, 0)]),
                (bad, bad_chunks, bad_vectors),
            ]
        )
    assert store.get("new") is None and store.get("bad") is None
    kept = store.get("old")
    assert kept is not None and (kept.text, kept.metadata) == ("old text kept", {"v": 1})
    assert store.count({}) == (1, 1)
    assert ids(store.semantic(unit(1, 0, 0, 0), 5, {})) == ["old"]
    assert store.check_integrity() == []


def test_update_metadata_changes_only_the_metadata(store: VectorStore) -> None:
    put(store, "d1", ["Gamma beat estimates.", "Shares rose."], [unit(1, 0, 0, 0)] * 2, {"t": "G"})
    store.update_metadata("d1", {"t": "G", "note": "new"})
    got = store.get("d1")
    assert got is not None and got.metadata == {"t": "G", "note": "new"}
    assert got.text == "Gamma beat estimates. Shares rose." and got.chunk_count == 2
    fingerprint = store.get_fingerprint("d1")
    assert fingerprint is not None
    assert fingerprint.metadata_json == canonical_json({"t": "G", "note": "new"})
    assert store.count({"note": "new"}) == (1, 2)
    hits = store.semantic(unit(1, 0, 0, 0), 5, {"note": "new"})
    assert [h.metadata for h in hits] == [{"t": "G", "note": "new"}] * 2
    assert ids(store.keyword("estimates", 5, {})) == ["d1"]
    store.update_metadata("missing", {"x": 1})  # a document deleted meanwhile: no-op
    assert store.get("missing") is None and store.count({}) == (1, 2)
    assert store.check_integrity() == []


def test_delete_is_true_once_then_false(store: VectorStore) -> None:
    put(store, "d1", ["Gamma plc listed in London."], [unit(1, 0, 0, 0)])
    put(store, "d2", ["Delta listed in Paris."], [unit(0, 1, 0, 0)])
    assert store.delete("d1") is True
    assert store.delete("d1") is False
    assert store.get("d1") is None and store.get_fingerprint("d1") is None
    assert store.count({}) == (1, 1)
    assert ids(store.semantic(unit(1, 0, 0, 0), 5, {})) == ["d2"]
    assert ids(store.keyword("listed", 5, {})) == ["d2"]
    assert [s.id for s in store.list_documents(10, 0, {})] == ["d2"]
    assert store.check_integrity() == []


# Filters ---------------------------------------------------------------------------------------
METADATA: dict[str, Metadata] = {
    "a": {
        "ticker": "AAPL",
        "year": 2025,
        "ratio": 0.5,
        "flag": True,
        "tags": ["x", 7],
        "sec.form-1": "10-K",
    },
    "b": {"ticker": "MSFT", "year": "2025", "flag": 1, "tags": ["y"]},
    "c": {"ticker": "AAPL", "year": 2024, "flag": False, "tags": "x"},
}
FILTER_CASES: list[tuple[Filters, set[str]]] = [
    ({"ticker": "AAPL"}, {"a", "c"}),  # string equality
    ({"ticker": "aapl"}, set()),  # case-sensitive
    ({"year": 2025}, {"a"}),  # a number never matches its string
    ({"year": 2025.0}, {"a"}),  # 2025 == 2025.0
    ({"year": "2025"}, {"b"}),
    ({"ratio": 0.5}, {"a"}),
    ({"flag": True}, {"a"}),  # booleans match booleans only...
    ({"flag": 1}, {"b"}),  # ...and numbers numbers only (1 is not true)
    ({"flag": False}, {"c"}),
    ({"tags": "x"}, {"a", "c"}),  # a list matches when it contains the value
    ({"tags": 7}, {"a"}),
    ({"ticker": "AAPL", "year": 2024}, {"c"}),  # every filter must hold
    ({"missing": "x"}, set()),
    ({"sec.form-1": "10-K"}, {"a"}),  # keys may hold dots and dashes
    ({"ticker": "AAPL", "year": 2025, "flag": True, "tags": "x"}, {"a"}),
]


@pytest.fixture
def filtered(store: VectorStore) -> VectorStore:
    for doc_id, metadata in METADATA.items():
        put(store, doc_id, [f"quarterly revenue report {doc_id}"], [unit(1, 0, 0, 0)], metadata)
    return store


@pytest.mark.parametrize(("filters", "expected"), FILTER_CASES, ids=str)
def test_filters_narrow_semantic_keyword_list_and_count(
    filtered: VectorStore,
    filters: Filters,
    expected: set[str],
) -> None:
    assert set(ids(filtered.semantic(unit(1, 0, 0, 0), 10, filters))) == expected
    assert set(ids(filtered.keyword("quarterly revenue", 10, filters))) == expected
    assert {s.id for s in filtered.list_documents(10, 0, filters)} == expected
    assert filtered.count(filters) == (len(expected), len(expected))


# Searches ---------------------------------------------------------------------------------------
def test_semantic_ranks_the_nearest_first_with_cosine_scores(store: VectorStore) -> None:
    put(store, "far", ["far away"], [unit(0, 0, 0, 1)])
    put(store, "near", ["close by", "close too"], [unit(1, 0.1, 0, 0), unit(1, 0.5, 0, 0)])
    put(store, "mid", ["in between"], [unit(1, 1, 1, 0)])
    query = unit(1, 0, 0, 0)
    hits = store.semantic(query, 3, {})
    assert [(h.document_id, h.chunk_ordinal) for h in hits] == [
        ("near", 0),
        ("near", 1),
        ("mid", 0),
    ]
    expected = [unit(1, 0.1, 0, 0)[0], unit(1, 0.5, 0, 0)[0], unit(1, 1, 1, 0)[0]]
    assert [h.score for h in hits] == pytest.approx(expected, abs=1e-5)
    assert hits[0].text == "close by"
    assert len(store.semantic(query, 1, {})) == 1
    assert len(store.semantic(query, 10, {})) == 4


def test_keyword_finds_exact_identifiers_and_numbers(store: VectorStore) -> None:
    put(store, "ticker", ["Results for ZXQW beat the market."])
    put(store, "number", ["Revenue was 412 million in the third quarter."])
    put(store, "other", ["Revenue grew in the third quarter for most companies."])
    assert ids(store.keyword("ZXQW", 5, {})) == ["ticker"]
    assert ids(store.keyword("zxqw results", 5, {}))[0] == "ticker"
    assert ids(store.keyword("revenue 412", 5, {}))[0] == "number"
    assert set(ids(store.keyword("revenue quarter", 5, {}))) == {"number", "other"}
    assert store.keyword("nothing matches this", 5, {}) == []
    assert store.keyword("?! ... ,", 5, {}) == []  # no term at all: nothing, not an error
    hits = store.keyword("revenue third quarter", 1, {})
    assert len(hits) == 1 and hits[0].score > 0
    scores = [h.score for h in store.keyword("revenue 412 quarter", 5, {})]
    assert scores == sorted(scores, reverse=True)


def test_listing_pages_cover_every_document_once(store: VectorStore) -> None:
    for n in range(7):
        put(store, f"d{n}", [f"document {n}"], metadata={"even": n % 2 == 0})
    pages = [store.list_documents(3, offset, {}) for offset in (0, 3, 6)]
    assert [len(page) for page in pages] == [3, 3, 1]
    listed = [s.id for page in pages for s in page]
    assert sorted(listed) == [f"d{n}" for n in range(7)]
    updated = [s.updated_at for page in pages for s in page]
    assert updated == sorted(updated, reverse=True)
    assert store.list_documents(3, 7, {}) == []
    assert store.count({"even": True}) == (4, 4)
