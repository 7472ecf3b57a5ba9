"""The in-memory matrix agrees with brute force through adds, removes and filters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from alex.adapters.sqlite_store import SqliteStore
from alex.adapters.vector_matrix import VectorMatrix
from alex.domain.models import Document, StoredChunk

DIM = 16


def unit_rows(rng: np.random.Generator, count: int) -> np.ndarray:
    rows = rng.normal(size=(count, DIM)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def brute_force(vectors: dict[int, np.ndarray], query: np.ndarray, k: int) -> list[int]:
    ids = sorted(vectors)
    scores = np.array([float(np.dot(vectors[i].astype(np.float64), query)) for i in ids])
    return [ids[j] for j in np.argsort(-scores, kind="stable")[:k]]


def test_top_k_matches_brute_force_through_adds_and_removes() -> None:
    rng = np.random.default_rng(0)
    matrix = VectorMatrix(DIM)
    reference: dict[int, np.ndarray] = {}
    next_id = 1
    for step in range(30):
        count = int(rng.integers(1, 200))
        rows = unit_rows(rng, count)
        ids = list(range(next_id, next_id + count))
        next_id += count
        matrix.add(ids, rows)
        reference.update(zip(ids, rows, strict=True))
        doomed = list(rng.choice(sorted(reference), size=min(len(reference), 50), replace=False))
        matrix.remove([*doomed, 10**9])  # an unknown id is ignored
        for chunk_id in doomed:
            reference.pop(int(chunk_id))
        query = unit_rows(rng, 1)[0]
        assert len(matrix) == len(reference)
        got = [chunk_id for chunk_id, _ in matrix.top_k(query, 10)]
        assert got == brute_force(reference, query, 10), step
        allowed = sorted(reference)[::3]
        got = [chunk_id for chunk_id, _ in matrix.top_k(query, 5, allowed)]
        subset = {i: reference[i] for i in allowed}
        assert got == brute_force(subset, query, 5)


def embedding_like(rng: np.random.Generator, count: int, dim: int = 384) -> np.ndarray:
    """Unit vectors concentrated in a few directions, as sentence embeddings are."""
    topics = rng.normal(size=(12, dim))
    rows = topics[rng.integers(0, 12, count)] + 0.6 * rng.normal(size=(count, dim))
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows.astype(np.float32)


def test_pruned_scan_is_exactly_brute_force_with_a_fitted_basis() -> None:
    from alex.adapters.vector_matrix import MIN_VECTORS_FOR_BASIS

    rng = np.random.default_rng(3)
    vectors = embedding_like(rng, 9000)
    matrix = VectorMatrix(384)
    ids = list(range(1, 4001))
    matrix.add(ids, vectors[:4000])  # below the threshold: plain scan, no basis yet
    assert matrix._basis is None
    matrix.add(range(4001, 9001), vectors[4000:])  # crossing it fits the principal axes
    assert matrix._basis is not None and len(matrix) == 9000 > MIN_VECTORS_FOR_BASIS
    reference = dict(zip(range(1, 9001), vectors, strict=True))
    matrix.remove(range(1, 9001, 7))
    for chunk_id in range(1, 9001, 7):
        reference.pop(chunk_id)
    more = embedding_like(rng, 300)
    matrix.add(range(20_001, 20_301), more)  # added after the fit: rotated with the same axes
    reference.update(zip(range(20_001, 20_301), more, strict=True))
    for query in embedding_like(rng, 40):
        assert [i for i, _ in matrix.top_k(query, 10)] == brute_force(reference, query, 10)
        allowed = sorted(reference)[::5]
        subset = {i: reference[i] for i in allowed}
        assert [i for i, _ in matrix.top_k(query, 7, allowed)] == brute_force(subset, query, 7)
    scores = [s for _, s in matrix.top_k(more[0], 3)]
    assert scores[0] == pytest.approx(1.0, abs=1e-5)


def test_empty_and_small() -> None:
    matrix = VectorMatrix(DIM)
    query = np.ones(DIM, dtype=np.float32)
    assert matrix.top_k(query, 5) == []
    matrix.add([7], query[None, :] / 4)
    assert matrix.top_k(query, 5) == [(7, pytest.approx(DIM / 4))]
    assert matrix.top_k(query, 5, allowed_ids=[8]) == []


def _put(store: SqliteStore, doc_id: str, vectors: np.ndarray) -> None:
    chunks = [StoredChunk(i, f"chunk {i} of {doc_id}", 0, 1) for i in range(len(vectors))]
    store.upsert(Document(doc_id, doc_id, {}, doc_id), chunks, vectors)


def test_store_sees_writes_of_another_process_connection(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    server = SqliteStore(tmp_path / "s.sqlite3", DIM, "m")
    other = SqliteStore(tmp_path / "s.sqlite3", DIM, "m")  # e.g. `alex ingest` while serving
    first = unit_rows(rng, 3)
    _put(server, "a", first)
    server.warm_up()
    assert server.semantic(first[0], 1, {})[0].document_id == "a"
    second = unit_rows(rng, 2)
    _put(other, "b", second)
    assert server.semantic(second[1], 1, {})[0].document_id == "b"
    other.delete("b")
    assert {h.document_id for h in server.semantic(second[1], 10, {})} == {"a"}
    _put(server, "a", second)  # replaced by this connection: old rows leave the matrix
    hits = server.semantic(second[0], 10, {})
    assert [h.document_id for h in hits] == ["a", "a"]
    assert server.matrix_bytes > 0
