"""``OpenSearchStore``: the VectorStore port as versions of documents (package docstring).

Every write is a new version; readers check each hit against the newest record of its
document, so versions are never mixed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from alex.adapters.opensearch.bulk import PartialWrite
from alex.adapters.opensearch.client import build_client
from alex.adapters.opensearch.integrity import IntegrityChecks
from alex.adapters.opensearch.mappings import Json
from alex.adapters.opensearch.terms import filter_clauses, float32, meta_terms, score_to_cosine
from alex.domain.errors import StoreUnavailableError
from alex.domain.keywords import keyword_terms
from alex.domain.models import (
    ChunkHit,
    Document,
    DocumentSummary,
    Filters,
    Fingerprint,
    Metadata,
    StoredChunk,
)
from alex.domain.validation import canonical_json
from alex.ports import Vector, Vectors

logger = logging.getLogger(__name__)

MAX_SEARCH_SIZE = 10_000
TERMS_PER_QUERY = 1000
PREVIEW_CHARS = 160
_NOTHING = "Nothing else from this request was stored."


@dataclass(frozen=True, slots=True)
class _Version:
    """One version to write: a document with chunks and vectors, or a tombstone."""

    document: Document
    chunks: Sequence[StoredChunk]
    vectors: Sequence[list[float]]
    revision: str
    created_at: str
    deleted: bool = False


class OpenSearchStore(IntegrityChecks):
    """Documents, chunks, vectors and BM25 text in an OpenSearch Serverless collection."""

    @classmethod
    def connect(
        cls, endpoint: str, region: str, *, credentials: Any = None, **options: Any
    ) -> OpenSearchStore:
        """A store on a collection endpoint (``OPENSEARCH_ENDPOINT``) in ``region``."""
        client = build_client(endpoint, region, credentials=credentials)
        return cls(client, endpoint=endpoint, region=region, **options)

    # Versions ------------------------------------------------------------------------------
    def _newest(self, document_ids: Iterable[str], fields: Sequence[str]) -> dict[str, Json]:
        """The newest visible record (tombstones included) of each document."""
        wanted = sorted(set(document_ids))
        newest: dict[str, Json] = {}
        include = sorted({"document_id", "revision", "deleted", *fields})
        for start in range(0, len(wanted), TERMS_PER_QUERY):
            query = {
                "bool": {
                    "filter": [{"terms": {"document_id": wanted[start : start + TERMS_PER_QUERY]}}]
                }
            }
            for hit in self._scan(self.documents_index, query, include, "read document records"):
                source = hit["_source"]
                current = newest.get(source["document_id"])
                if current is None or source["revision"] > current["revision"]:
                    newest[source["document_id"]] = source
        return newest

    def _current(self, document_id: str, fields: Sequence[str]) -> Json | None:
        if not self._ensure(create=False):
            return None
        record = self._newest([document_id], fields).get(document_id)
        return None if record is None or record.get("deleted") else record

    def _write(self, versions: list[_Version]) -> None:
        chunk_sources: list[Json] = []
        record_sources: list[Json] = []
        for version in versions:
            document = version.document
            terms = meta_terms(document.metadata)
            for chunk, vector in zip(version.chunks, version.vectors, strict=True):
                chunk_sources.append(
                    {
                        "document_id": document.id,
                        "revision": version.revision,
                        "uid": self._new_uid(),
                        "ordinal": chunk.ordinal,
                        "start": chunk.start,
                        "end": chunk.end,
                        "text": chunk.text,
                        "meta_terms": terms,
                        "metadata": document.metadata,
                        "embedding": vector,
                    }
                )
            record_sources.append(self._record(version, terms))
        try:
            chunk_ids = self._index_all(self.chunks_index, chunk_sources, "chunks")
        except PartialWrite as failure:
            _, note = self._remove_written(self.chunks_index, failure.stored, "chunks")
            raise StoreUnavailableError(f"{failure.message} {note} {_NOTHING}".strip()) from None
        try:
            self._index_all(self.documents_index, record_sources, "document records")
        except PartialWrite as failure:
            removed, note = self._remove_written(self.documents_index, failure.stored, "records")
            if removed:
                # No record refers to this write's chunks any more: remove them too.
                _, chunk_note = self._remove_written(self.chunks_index, chunk_ids, "chunks")
                note = f"{note} {chunk_note} {_NOTHING}"
            else:
                note += " Their chunks were kept, so each stored record is a whole document."
            raise StoreUnavailableError(f"{failure.message} {note}".strip()) from None
        self._remove_superseded([(v.document.id, v.revision) for v in versions])

    def _record(self, version: _Version, terms: list[str]) -> Json:
        document = version.document
        now = self._clock().isoformat(timespec="seconds")
        if version.deleted:
            return {
                "document_id": document.id,
                "revision": version.revision,
                "uid": self._new_uid(),
                "deleted": True,
                "created_at": version.created_at,
                "updated_at": now,
            }
        return {
            "document_id": document.id,
            "revision": version.revision,
            "uid": self._new_uid(),
            "deleted": False,
            "source_id": document.source_id,
            "text": document.text,
            "text_sha256": document.text_sha256,
            "meta_terms": terms,
            "metadata": document.metadata,
            "chunk_count": len(version.chunks),
            "chars": len(document.text),
            "preview": document.text[:PREVIEW_CHARS],
            "created_at": version.created_at,
            "updated_at": now,
        }

    def _remove_superseded(self, written: list[tuple[str, str]]) -> None:
        """Delete visible records and chunks older than the versions just written.

        Best effort: anything missed (not visible yet, or a failed request) stays hidden
        from readers and is reported by check_integrity().
        """
        if not written:
            return
        query = {
            "bool": {
                "should": [
                    {
                        "bool": {
                            "filter": [
                                {"term": {"document_id": document_id}},
                                {"range": {"revision": {"lt": revision}}},
                            ]
                        }
                    }
                    for document_id, revision in written
                ],
                "minimum_should_match": 1,
            }
        }
        try:
            for index in (self.documents_index, self.chunks_index):
                ids = [
                    hit["_id"] for hit in self._scan(index, query, (), "find superseded versions")
                ]
                self._delete_ids(index, ids)
        except StoreUnavailableError as error:
            logger.warning("superseded versions left for later removal: %s", error.message)

    # Writes ----------------------------------------------------------------------------------
    def get_fingerprint(self, document_id: str) -> Fingerprint | None:
        record = self._current(document_id, ("text_sha256", "metadata", "chunk_count"))
        if record is None:
            return None
        return Fingerprint(
            record["text_sha256"],
            canonical_json(record.get("metadata") or {}),
            record["chunk_count"],
        )

    def upsert(self, document: Document, chunks: Sequence[StoredChunk], vectors: Vectors) -> None:
        self.upsert_many([(document, chunks, vectors)])

    def upsert_many(self, items: Sequence[tuple[Document, Sequence[StoredChunk], Vectors]]) -> None:
        """Write new versions: each document whole or not at all (see module docstring)."""
        if not items:
            return
        matrices = []
        for _, chunks, vectors in items:
            matrix = [float32(vector) for vector in vectors]
            if len(chunks) != len(matrix) or any(len(row) != self.dimension for row in matrix):
                raise ValueError(f"one vector of {self.dimension} values per chunk is required")
            matrices.append(matrix)
        self._ensure(create=True)
        previous = self._newest([document.id for document, _, _ in items], ("created_at",))
        now = self._clock().isoformat(timespec="seconds")
        versions = []
        for (document, chunks, _), matrix in zip(items, matrices, strict=True):
            before = previous.get(document.id)
            created = before["created_at"] if before and not before.get("deleted") else now
            versions.append(_Version(document, chunks, matrix, self._new_revision(), created))
        self._write(versions)

    def update_metadata(self, document_id: str, metadata: Metadata) -> None:
        """A new version with the same text and chunks (vectors read back) and new metadata."""
        fields = ("text", "text_sha256", "source_id", "metadata", "chunk_count", "created_at")
        record = self._current(document_id, fields)
        if record is None:
            return  # deleted meanwhile: nothing to update, as the local store
        query = {
            "bool": {
                "filter": [
                    {"term": {"document_id": document_id}},
                    {"term": {"revision": record["revision"]}},
                ]
            }
        }
        fields_wanted = ("ordinal", "text", "start", "end", "embedding")
        by_ordinal: dict[int, Json] = {}
        for hit in self._scan(self.chunks_index, query, fields_wanted, "read chunks"):
            by_ordinal.setdefault(hit["_source"]["ordinal"], hit["_source"])
        if sorted(by_ordinal) != list(range(record["chunk_count"])):
            raise StoreUnavailableError(
                f"Document {document_id} was written moments ago and OpenSearch Serverless "
                "does not show all its chunks yet (writes become searchable after a short "
                "delay): send the request again in a minute."
            )
        sources = [by_ordinal[ordinal] for ordinal in sorted(by_ordinal)]
        chunks = [StoredChunk(s["ordinal"], s["text"], s["start"], s["end"]) for s in sources]
        vectors = [float32(s["embedding"]) for s in sources]
        document = Document(
            id=document_id,
            text=record["text"],
            metadata=metadata,
            text_sha256=record["text_sha256"],
            source_id=record.get("source_id"),
        )
        self._write(
            [_Version(document, chunks, vectors, self._new_revision(), record["created_at"])]
        )

    def delete(self, document_id: str) -> bool:
        """Write a tombstone (so an unseen newer version cannot resurface), then clean up."""
        record = self._current(document_id, ("created_at",))
        if record is None:
            return False
        tombstone = Document(id=document_id, text="", metadata={}, text_sha256="")
        revision = self._new_revision()
        self._write([_Version(tombstone, [], [], revision, record["created_at"], deleted=True)])
        return True

    # Searches -------------------------------------------------------------------------------
    def _current_hits(
        self, hits: list[Json], k: int, score: Callable[[float], float]
    ) -> list[ChunkHit]:
        """Hits of current versions only, each chunk once, with the record's metadata."""
        records = self._newest({hit["_source"]["document_id"] for hit in hits}, ("metadata",))
        results: list[ChunkHit] = []
        seen: set[tuple[str, int]] = set()
        for hit in hits:
            source = hit["_source"]
            record = records.get(source["document_id"])
            if record is None or record.get("deleted") or record["revision"] != source["revision"]:
                continue
            key = (source["document_id"], source["ordinal"])
            if key in seen:
                continue
            seen.add(key)
            results.append(
                ChunkHit(
                    document_id=source["document_id"],
                    chunk_ordinal=source["ordinal"],
                    text=source["text"],
                    score=score(float(hit["_score"])),
                    metadata=record.get("metadata") or {},
                )
            )
            if len(results) == k:
                break
        return results

    @staticmethod
    def _candidates(k: int) -> int:
        """Ask for more than ``k``: stale versions and duplicates are dropped afterwards."""
        return min(max(2 * k, k + 10), MAX_SEARCH_SIZE)

    def semantic(self, vector: Vector, k: int, filters: Filters) -> list[ChunkHit]:
        """Approximate k-NN (HNSW) with the filters applied during the graph search."""
        if not self._ensure(create=False):
            return []
        size = self._candidates(k)
        knn: Json = {
            "vector": float32(vector),
            "k": size,
        }
        clauses = filter_clauses(filters)
        if clauses:
            knn["filter"] = {"bool": {"filter": clauses}}
        body = {
            "size": size,
            "_source": {"includes": ["document_id", "revision", "ordinal", "text"]},
            "query": {"knn": {"embedding": knn}},
        }
        hits = self._search(self.chunks_index, body, "run a vector search")
        return self._current_hits(hits, k, score_to_cosine)

    def keyword(self, query: str, k: int, filters: Filters) -> list[ChunkHit]:
        """BM25 over chunk text: the local store's query, each term a phrase, OR-ed.

        As in ``sqlite_store.fts_query``, a term that is several words ("LUMEN-7", "4.82")
        must occur as those words in a row; one ``match`` of all terms would match every
        chunk holding a "7". Scores add up over the terms, repeated ones included, as FTS5's.
        """
        terms = keyword_terms(query)
        if not terms or not self._ensure(create=False):
            return []
        size = self._candidates(k)
        phrases = [{"match_phrase": {"text": term}} for term in terms]
        body: Json = {
            "size": size,
            "_source": {"includes": ["document_id", "revision", "ordinal", "text"]},
            "query": {"bool": {"should": phrases, "minimum_should_match": 1}},
        }
        clauses = filter_clauses(filters)
        if clauses:
            body["query"]["bool"]["filter"] = clauses
        hits = self._search(self.chunks_index, body, "run a keyword search")
        return self._current_hits(hits, k, float)

    # Reads -----------------------------------------------------------------------------------
    def get(self, document_id: str) -> Document | None:
        fields = (
            "text",
            "metadata",
            "text_sha256",
            "source_id",
            "chunk_count",
            "created_at",
            "updated_at",
        )
        record = self._current(document_id, fields)
        if record is None:
            return None
        return Document(
            id=document_id,
            text=record["text"],
            metadata=record.get("metadata") or {},
            text_sha256=record["text_sha256"],
            source_id=record.get("source_id"),
            chunk_count=record["chunk_count"],
            created_at=record["created_at"],
            updated_at=record["updated_at"],
        )

    def _live(self, filters: Filters, fields: Sequence[str]) -> list[Json]:
        """Current, not deleted records matching ``filters`` (superseded ones dropped)."""
        if not self._ensure(create=False):
            return []
        query = {"bool": {"filter": [{"term": {"deleted": False}}, *filter_clauses(filters)]}}
        include = sorted({"document_id", "revision", *fields})
        candidates: dict[str, Json] = {}
        for hit in self._scan(self.documents_index, query, include, "list documents"):
            source = hit["_source"]
            known = candidates.get(source["document_id"])
            if known is None or source["revision"] > known["revision"]:
                candidates[source["document_id"]] = source
        newest = self._newest(candidates, ())
        return [
            source
            for document_id, source in candidates.items()
            if newest.get(document_id, source)["revision"] == source["revision"]
            and not newest.get(document_id, source).get("deleted")
        ]

    def list_documents(self, limit: int, offset: int, filters: Filters) -> list[DocumentSummary]:
        fields = ("metadata", "chunk_count", "chars", "preview", "created_at", "updated_at")
        records = sorted(self._live(filters, fields), key=lambda r: r["document_id"])
        records.sort(key=lambda r: r["updated_at"], reverse=True)
        return [
            DocumentSummary(
                id=r["document_id"],
                metadata=r.get("metadata") or {},
                chunk_count=r["chunk_count"],
                chars=r["chars"],
                preview=" ".join(r.get("preview", "").split()),
                created_at=r["created_at"],
                updated_at=r["updated_at"],
            )
            for r in records[offset : offset + limit]
        ]

    def count(self, filters: Filters) -> tuple[int, int]:
        records = self._live(filters, ("chunk_count",))
        return len(records), sum(int(r["chunk_count"]) for r in records)

    # Maintenance -----------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Open the connection, check access and the index layout (AOSS has no warmup API)."""
        self._ensure(create=False)

    def close(self) -> None:
        self._client.close()
