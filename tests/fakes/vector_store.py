"""A ``VectorStore`` in a dict: the port's whole contract, none of the I/O.

Same semantics as ``SqliteStore`` where the contract suite pins them
(``tests/unit/test_vector_store_contract.py``): atomic whole-document writes, metadata
filters (equality; a list matches when it contains the value; booleans, numbers and
strings never match each other), cosine for semantic search, BM25 on the query's
``keyword_terms`` for keyword search, newest-first listings.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from alex.domain.errors import StoreUnavailableError
from alex.domain.keywords import keyword_terms
from alex.domain.models import (
    EMBEDDING_DIMENSION,
    ChunkHit,
    Document,
    DocumentSummary,
    Filters,
    Fingerprint,
    Metadata,
    MetadataValue,
    Scalar,
    StoredChunk,
)
from alex.domain.validation import canonical_json
from alex.ports import Vector, Vectors
from tests.fakes.text import bm25, tokens

PREVIEW_CHARS = 160


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _equal(item: Scalar, wanted: Scalar) -> bool:
    """One metadata value against one filter value: same kind and equal (2025 == 2025.0)."""
    if item is None or wanted is None:
        return False
    if isinstance(item, bool) or isinstance(wanted, bool):
        return isinstance(item, bool) and isinstance(wanted, bool) and item == wanted
    if isinstance(wanted, int | float):
        return isinstance(item, int | float) and item == wanted
    return isinstance(item, str) and item == wanted


def _holds(value: MetadataValue, wanted: Scalar) -> bool:
    items = value if isinstance(value, list) else [value]
    return any(_equal(item, wanted) for item in items)


def matches(metadata: Metadata, filters: Filters) -> bool:
    """Every filter holds: the key is present and its value (or one list item) equals it."""
    return all(key in metadata and _holds(metadata[key], want) for key, want in filters.items())


@dataclass(frozen=True, slots=True)
class _Entry:
    document: Document  # chunk_count, created_at and updated_at filled in
    chunks: tuple[StoredChunk, ...]
    vectors: tuple[tuple[float, ...], ...]


class InMemoryVectorStore:
    """The ``VectorStore`` port in memory; thread-safe; ``close()`` ends it like a real store."""

    def __init__(self, dimension: int = EMBEDDING_DIMENSION) -> None:
        self.dimension = dimension
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.RLock()
        self._closed = False

    def _open(self) -> dict[str, _Entry]:
        if self._closed:
            raise StoreUnavailableError("The in-memory store was closed.")
        return self._entries

    # Writes ---------------------------------------------------------------------------
    def get_fingerprint(self, document_id: str) -> Fingerprint | None:
        with self._lock:
            entry = self._open().get(document_id)
        if entry is None:
            return None
        document = entry.document
        return Fingerprint(
            document.text_sha256, canonical_json(document.metadata), len(entry.chunks)
        )

    def upsert(self, document: Document, chunks: Sequence[StoredChunk], vectors: Vectors) -> None:
        self.upsert_many([(document, chunks, vectors)])

    def upsert_many(self, items: Sequence[tuple[Document, Sequence[StoredChunk], Vectors]]) -> None:
        """Every item is checked before the first is stored: all of them or none."""
        checked = [self._checked(chunks, vectors) for _, chunks, vectors in items]
        now = _now()
        with self._lock:
            entries = self._open()
            for (document, chunks, _), rows in zip(items, checked, strict=True):
                before = entries.get(document.id)
                created = before.document.created_at if before else now
                stored = replace(
                    document,
                    metadata=_copied(document.metadata),
                    chunk_count=len(chunks),
                    created_at=created,
                    updated_at=now,
                )
                entries[document.id] = _Entry(stored, tuple(chunks), rows)

    def _checked(
        self, chunks: Sequence[StoredChunk], vectors: Vectors
    ) -> tuple[tuple[float, ...], ...]:
        rows = tuple(tuple(float(value) for value in vector) for vector in vectors)
        if len(rows) != len(chunks) or any(len(row) != self.dimension for row in rows):
            raise ValueError(f"one vector of {self.dimension} values per chunk is required")
        return rows

    def update_metadata(self, document_id: str, metadata: Metadata) -> None:
        with self._lock:
            entries = self._open()
            entry = entries.get(document_id)
            if entry is None:
                return  # deleted meanwhile: nothing to update, as the real stores
            document = replace(entry.document, metadata=_copied(metadata), updated_at=_now())
            entries[document_id] = replace(entry, document=document)

    def delete(self, document_id: str) -> bool:
        with self._lock:
            return self._open().pop(document_id, None) is not None

    # Searches -------------------------------------------------------------------------
    def _chunks(self, filters: Filters) -> list[tuple[_Entry, int]]:
        with self._lock:
            entries = list(self._open().values())
        return [
            (entry, position)
            for entry in entries
            if matches(entry.document.metadata, filters)
            for position in range(len(entry.chunks))
        ]

    @staticmethod
    def _best(scored: list[tuple[float, _Entry, int]], k: int) -> list[ChunkHit]:
        scored.sort(key=lambda s: (-s[0], s[1].document.id, s[1].chunks[s[2]].ordinal))
        return [
            ChunkHit(
                document_id=entry.document.id,
                chunk_ordinal=entry.chunks[position].ordinal,
                text=entry.chunks[position].text,
                score=score,
                metadata=_copied(entry.document.metadata),
            )
            for score, entry, position in scored[:k]
        ]

    def semantic(self, vector: Vector, k: int, filters: Filters) -> list[ChunkHit]:
        """Exact cosine over every chunk that passes the filters."""
        query = [float(value) for value in vector]
        scored = [
            (_cosine(query, entry.vectors[position]), entry, position)
            for entry, position in self._chunks(filters)
        ]
        return self._best(scored, k)

    def keyword(self, query: str, k: int, filters: Filters) -> list[ChunkHit]:
        """BM25 over the chunks that pass the filters; chunks with no query term are left out."""
        terms = [token for term in keyword_terms(query) for token in tokens(term)]
        if not terms:
            return []
        candidates = self._chunks(filters)
        texts = [tokens(entry.chunks[position].text) for entry, position in candidates]
        scores = bm25(terms, texts)
        scored = [
            (score, entry, position)
            for score, (entry, position) in zip(scores, candidates, strict=True)
            if score > 0
        ]
        return self._best(scored, k)

    # Reads ----------------------------------------------------------------------------
    def get(self, document_id: str) -> Document | None:
        with self._lock:
            entry = self._open().get(document_id)
        return (
            None
            if entry is None
            else replace(entry.document, metadata=_copied(entry.document.metadata))
        )

    def _listed(self, filters: Filters) -> list[Document]:
        with self._lock:
            documents = [entry.document for entry in self._open().values()]
        chosen = [document for document in documents if matches(document.metadata, filters)]
        chosen.sort(key=lambda document: document.id)
        chosen.sort(key=lambda document: document.updated_at or "", reverse=True)
        return chosen

    def list_documents(self, limit: int, offset: int, filters: Filters) -> list[DocumentSummary]:
        return [
            DocumentSummary(
                id=document.id,
                metadata=_copied(document.metadata),
                chunk_count=document.chunk_count,
                chars=len(document.text),
                preview=" ".join(document.text[:PREVIEW_CHARS].split()),
                created_at=document.created_at or "",
                updated_at=document.updated_at or "",
            )
            for document in self._listed(filters)[offset : offset + limit]
        ]

    def count(self, filters: Filters) -> tuple[int, int]:
        documents = self._listed(filters)
        return len(documents), sum(document.chunk_count for document in documents)

    # Maintenance ----------------------------------------------------------------------
    def warm_up(self) -> None:
        self._open()

    def check_integrity(self) -> list[str]:
        with self._lock:
            entries = list(self._open().values())
        problems = []
        for entry in entries:
            ordinals = [chunk.ordinal for chunk in entry.chunks]
            if ordinals != list(range(entry.document.chunk_count)):
                problems.append(f"{entry.document.id}: chunk ordinals {ordinals}")
            if len(entry.vectors) != len(entry.chunks):
                problems.append(f"{entry.document.id}: {len(entry.vectors)} vectors")
        return problems

    def close(self) -> None:
        self._closed = True


def _cosine(query: list[float], row: tuple[float, ...]) -> float:
    norms = math.sqrt(sum(v * v for v in query)) * math.sqrt(sum(v * v for v in row))
    return sum(a * b for a, b in zip(query, row, strict=True)) / norms if norms else 0.0


def _copied(metadata: Metadata) -> Metadata:
    """A copy through canonical JSON: keys sorted as a real store returns them, and nothing
    shared, so a caller mutating what it passed or got back cannot change the store."""
    copied: Metadata = json.loads(canonical_json(metadata))
    return copied
