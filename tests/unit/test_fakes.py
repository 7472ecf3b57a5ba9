"""The fake embedder behaves like an embedder: unit vectors, related texts near, real chunking.

The fake stores are held to the VectorStore contract in test_vector_store_contract.py.
"""

from __future__ import annotations

import math

from alex.adapters.wordpiece import MAX_SEQ_LENGTH
from alex.domain.models import EMBEDDING_DIMENSION, EMBEDDING_MODEL
from alex.ingest import IngestService
from alex.search import SearchService
from tests.fakes import FakeEmbedder, InMemoryVectorStore


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_vectors_are_unit_length_deterministic_and_shaped_like_the_model() -> None:
    embedder = FakeEmbedder()
    assert (embedder.model_name, embedder.dimension) == (EMBEDDING_MODEL, EMBEDDING_DIMENSION)
    assert embedder.max_pieces == MAX_SEQ_LENGTH - 2
    texts = ["Corvane raised guidance.", "", "the of and", "Ünïcödé tëxt 412.6"]
    vectors = [list(v) for v in embedder.embed(texts)]
    assert [len(v) for v in vectors] == [EMBEDDING_DIMENSION] * 4
    assert all(math.isclose(math.sqrt(cosine(v, v)), 1.0) for v in vectors)
    assert [list(v) for v in FakeEmbedder().embed(texts)] == vectors  # no per-process hashing
    assert embedder.texts_embedded == 4


def test_texts_sharing_words_are_nearer_than_unrelated_ones() -> None:
    embedder = FakeEmbedder()
    query, related, unrelated = (
        embedder.vector(text)
        for text in (
            "Corvane sensor margins",
            "Corvane reported higher margins on its sensors.",
            "Rates fell and banks rallied.",
        )
    )
    assert cosine(query, related) > 0.5 > abs(cosine(query, unrelated))


def test_semantic_search_on_the_fakes_ranks_the_obviously_related_text_first() -> None:
    embedder, store = FakeEmbedder(), InMemoryVectorStore()
    ingest = IngestService(embedder, store)
    texts = [
        "Northwind opened a new warehouse in Leeds.",
        "Corvane Instruments raised its revenue guidance after strong sensor sales.",
        "Central banks held interest rates steady.",
    ]
    ids = [ingest.ingest(text).document_id for text in texts]
    hits = SearchService(embedder, store).search("Corvane sensor revenue guidance", 3, "semantic")
    assert hits[0].document_id == ids[1]


def test_chunking_on_the_fake_is_production_chunking() -> None:
    """The fake carries Alex's WordPiece tokenizer: pieces, offsets and chunks are the real ones."""
    embedder = FakeEmbedder()
    text = " ".join(f"Sentence {n} on quarterly sensor margins and guidance." for n in range(200))
    chunks = IngestService(embedder, InMemoryVectorStore()).chunker.split(text)
    assert len(chunks) > 3
    for chunk in chunks:
        assert len(embedder.tokenizer.piece_offsets(chunk.text)) <= embedder.max_pieces
        assert text[chunk.start : chunk.end] == chunk.text
