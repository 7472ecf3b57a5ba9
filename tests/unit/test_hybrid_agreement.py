"""Hybrid search agrees across the two stores: the same documents in the local SQLite store and
in the OpenSearch store (the real adapter on ``FakeOpenSearch``), searched by one
``SearchService`` each with the real local model, give the same results.

What the math allows, and so what is asserted:

* **Semantic**: both give cosines of the same float32 vectors (OpenSearch's Faiss
  ``innerproduct`` score turned back by ``score_to_cosine``; Lucene scores are float32, so
  they agree to ~1e-7). Both scans are exact here (real HNSW is approximate), so the lists
  are the same chunks in the same order, with scores within 1e-5.
* **Keyword**: both match the same chunks (same words, each query term a phrase), but the
  BM25 differs: Lucene's idf is ln(1 + (N - n + 0.5) / (n + 0.5)), FTS5's
  ln((N - n + 0.5) / (n + 0.5)) floored at 1e-6, Lucene keeps field lengths to 4
  significant bits and drops the constant (k1 + 1). For a one-word query the idf is one
  factor for every chunk and the length quantisation only rounds down, so the order agrees
  (a tie in Lucene may stand where FTS5 orders): asserted as no pair ordered oppositely. For
  longer queries the idf ratio between terms differs, so only the matching set, the top hit
  and a top-10 overlap of at least 9 are asserted.
* **Hybrid**: ``0.6 cosine + 0.4 (bm25 / best) coverage``. The semantic part is identical;
  the keyword part differs only where the two BM25 variants disagree about a chunk's share
  of the best score. So the top hit is the same and at least 9 of the top 10 are.

The test fails if, for example, the adapter passed the raw knn ``_score`` (cosine + 1)
into the fusion, searched all terms in one ``match`` ("LUMEN-7" matching every "7"), or
the index split words unlike FTS5 ("Orvane's" not matching "Orvane").
"""

from __future__ import annotations

import itertools
import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import regex

from alex.adapters.keyword_index import Fts5Tokenizer
from alex.adapters.opensearch.mappings import ANALYZER, chunk_index_body
from alex.adapters.sqlite_store import SqliteStore
from alex.domain.models import EMBEDDING_DIMENSION, EMBEDDING_MODEL, ChunkHit
from alex.ingest import IngestRequest, IngestService
from alex.ports import VectorStore
from alex.search import SearchService
from tests.conftest import FIXTURES
from tests.fakes.opensearch import fake_opensearch_store

TOP = 10
Pair = tuple[tuple[VectorStore, SearchService], tuple[VectorStore, SearchService]]

# Besides tests/fixtures/hybrid_corpus.json: possessives, decimals, codes, and one document
# long enough for several chunks.
EXTRA = [
    (
        "northwind-q3",
        "Northwind's third-quarter revenue rose 4.82% to $1,204 million; the company's gross "
        "margin was 61.5%, and the CLX-220 chip ramp added 7,342 units to shipments.",
    ),
    (
        "northwind-guidance",
        "Northwind guided fourth-quarter revenue between $1.25 and $1.30 billion, citing CLX-220 "
        "demand from data-centre customers and a weaker U.S. consumer market.",
    ),
    (
        "cedar-dividend",
        "Cedar Valley's board raised the quarterly dividend to 0.48 per share and approved a "
        "buy-back of up to 5% of the shares over two years.",
    ),
    (
        "rates-note",
        "When central banks cut interest rates, borrowing gets cheaper for households and "
        "companies, mortgage demand usually recovers and bank margins narrow.",
    ),
    (
        "long-report",
        " ".join(
            f"Section {n}: Meridian Software's subscription revenue grew in region {n}, "
            f"licence renewals reached {90 + n}% and churn stayed low at {n}.{n}% of customers."
            for n in range(1, 40)
        ),
    ),
]

QUERIES = [
    # identifiers and numbers
    "QZTX",
    "LUMEN-7",
    "CLX-220",
    "7342",
    "4.82",
    "7,342",
    "U.S.",
    # single words (stemmed forms included)
    "antibody",
    "subscriptions",
    "licensing",
    "Orvane",
    # several words
    "Orvane trial results",
    "licence revenue thousand euros",
    "Northwind gross margin",
    "Meridian churn renewals",
    "Cedar Valley dividend",
    # paraphrases
    "Which bank lets growers borrow for planting and repay after the crops come in?",
    "drug makers with late stage antibody studies",
    "what happens to home loans when the central bank lowers rates",
]


@pytest.fixture(scope="module")
def stores(embedder: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    corpus = json.loads((FIXTURES / "hybrid_corpus.json").read_text("utf-8"))
    requests = [IngestRequest(d["text"], d["metadata"], d["id"]) for d in corpus["documents"]]
    requests += [IngestRequest(text, {"source": "extra"}, key) for key, text in EXTRA]
    path = Path(tmp_path_factory.mktemp("agreement")) / "store.db"
    local = SqliteStore(path, EMBEDDING_DIMENSION, EMBEDDING_MODEL)
    cloud = fake_opensearch_store(EMBEDDING_DIMENSION, model_name=EMBEDDING_MODEL)
    for store in (local, cloud):
        IngestService(embedder, store).ingest_many(requests)
    assert local.count({}) == cloud.count({}) and local.count({})[1] > len(requests)
    yield (local, SearchService(embedder, local)), (cloud, SearchService(embedder, cloud))
    local.close()
    cloud.close()


def _keys(hits: list[ChunkHit]) -> list[tuple[str, int]]:
    return [(hit.document_id, hit.chunk_ordinal) for hit in hits]


def _search(stores: Pair, query: str, mode: str) -> tuple[list[ChunkHit], list[ChunkHit]]:
    (_, local), (_, cloud) = stores
    return local.search(query, TOP, mode), cloud.search(query, TOP, mode)


@pytest.mark.parametrize("query", QUERIES)
def test_semantic_lists_are_the_same_cosines(stores: Pair, query: str) -> None:
    local, cloud = _search(stores, query, "semantic")
    assert _keys(local) == _keys(cloud)
    for mine, theirs in zip(local, cloud, strict=True):
        assert theirs.score == pytest.approx(mine.score, abs=1e-5)
        assert -1.0 <= theirs.score <= 1.0


@pytest.mark.parametrize("query", QUERIES)
def test_keyword_lists_match_the_same_chunks(stores: Pair, query: str) -> None:
    # Every match, not the top 10: the two stores must agree on what matches at all.
    local, cloud = (store.keyword(query, 1000, {}) for store, _ in stores)
    assert local, f"{query!r} should match something in this corpus"
    assert sorted(_keys(local)) == sorted(_keys(cloud))
    assert _keys(local)[0] == _keys(cloud)[0] or local[0].score == local[1].score
    assert len(set(_keys(local)[:TOP]) & set(_keys(cloud)[:TOP])) >= min(TOP, len(local)) - 1
    if len(query.split()) == 1:
        cloud_score = {key: hit.score for key, hit in zip(_keys(cloud), cloud, strict=True)}
        for better, worse in itertools.pairwise(local):
            opposite = cloud_score[_keys([better])[0]] < cloud_score[_keys([worse])[0]]
            assert not opposite, (query, better.document_id, worse.document_id)


@pytest.mark.parametrize("query", QUERIES)
def test_hybrid_results_agree(stores: Pair, query: str) -> None:
    local, cloud = _search(stores, query, "hybrid")
    assert _keys(local)[0] == _keys(cloud)[0]
    assert len(set(_keys(local)) & set(_keys(cloud))) >= TOP - 1
    # The semantic parts are equal, so a chunk's two scores differ by at most 0.4 x the
    # largest difference between the stores' bm25 / best (coverage is at most 1).
    keyword = [store.keyword(query, 1000, {}) for store, _ in stores]
    shares = [
        {key: hit.score / hits[0].score for key, hit in zip(_keys(hits), hits, strict=True)}
        for hits in keyword
    ]
    gap = max((abs(shares[0][key] - shares[1][key]) for key in shares[0]), default=0.0)
    cloud_score = dict(zip(_keys(cloud), (hit.score for hit in cloud), strict=True))
    for key, hit in zip(_keys(local), local, strict=True):
        if key in cloud_score:
            assert abs(hit.score - cloud_score[key]) <= 0.4 * gap + 1e-5, key


def test_the_index_splits_words_as_the_local_fts5_table() -> None:
    """The chunk index's tokenizer pattern (a Java regex; ``regex`` reads ``\\p{L}`` alike)
    cuts text into the words FTS5's ``unicode61`` makes: the fake models it by FTS5."""
    analysis = chunk_index_body()["settings"]["analysis"]
    analyzer = analysis["analyzer"][ANALYZER]
    tokenizer = analysis["tokenizer"][analyzer["tokenizer"]]
    assert tokenizer["type"] == "pattern"
    assert analyzer["filter"] == ["lowercase", "asciifolding", "porter_stem"]
    samples = [
        "Orvane's CLX-220 rose 4.82% to $1,204m; net_income (U.S.) 7,342",
        "Zürich café naïve co-op Q3/2025 東京市場 x\u00adY",
    ]
    fts5 = Fts5Tokenizer("unicode61 remove_diacritics 2")
    try:
        expected = fts5.tokens(samples)
    finally:
        fts5.close()
    for sample, words in zip(samples, expected, strict=True):
        # lowercase + asciifolding, for these letters: drop the accents.
        plain = regex.sub(r"\p{Mn}", "", unicodedata.normalize("NFD", sample))
        split = [word.lower() for word in regex.split(tokenizer["pattern"], plain) if word]
        assert split == words
