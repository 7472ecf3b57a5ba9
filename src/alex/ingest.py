"""The ingest use case: validate, chunk, embed in batches, store idempotently."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from alex.domain.chunking import CHUNK_OVERLAP, Chunker, ChunkingPolicy
from alex.domain.errors import InvalidInputError, PayloadTooLargeError
from alex.domain.models import Document, Fingerprint, IngestResult, IngestStatus, StoredChunk
from alex.domain.validation import (
    Limits,
    canonical_json,
    document_id_for,
    sha256_hex,
    validate_metadata,
    validate_source_id,
    validate_text,
)
from alex.ports import Embedder, VectorStore

ProgressCallback = Callable[[int, int], None]

# Chunks of several documents are embedded together: small documents alone would
# leave the model running at batch size 1.
EMBED_POOL_CHUNKS = 128


@dataclass(frozen=True, slots=True)
class IngestRequest:
    """What a caller asks to store: the course contract's text and metadata, plus an optional id."""

    text: object
    metadata: object = field(default_factory=dict)
    id: object = None


@dataclass(slots=True)
class _Pending:
    position: int
    document: Document
    chunks: list[StoredChunk]
    created: bool


class IngestService:
    def __init__(
        self,
        embedder: Embedder,
        store: VectorStore,
        limits: Limits | None = None,
        overlap_pieces: int = CHUNK_OVERLAP,
        *,
        max_request_chunks: int | None = None,
    ) -> None:
        self._embedder = embedder
        self.max_request_chunks = max_request_chunks
        self._store = store
        self.limits = limits or Limits()
        self.chunker = Chunker(
            embedder.tokenizer,
            ChunkingPolicy(max_pieces=embedder.max_pieces, overlap_pieces=overlap_pieces),
        )

    def ingest(
        self, text: object, metadata: object = None, source_id: object = None
    ) -> IngestResult:
        return self.ingest_many([IngestRequest(text, metadata, source_id)])[0]

    def ingest_many(
        self, requests: Sequence[IngestRequest], progress: ProgressCallback | None = None
    ) -> list[IngestResult]:
        """Validate every request first (one bad request rejects the batch), then store.

        Documents commit in groups of whole documents (one embedding pool each), so an
        interrupted batch keeps the groups already committed, and retrying the batch is
        safe because ids are stable.
        """
        if not requests:
            raise InvalidInputError("no documents to ingest")
        if len(requests) > self.limits.max_batch_documents:
            raise PayloadTooLargeError(
                f"{len(requests)} documents in one batch; the limit is "
                f"{self.limits.max_batch_documents}"
            )
        documents = [
            self.validate(request, f"document {index}: " if len(requests) > 1 else "")
            for index, request in enumerate(requests)
        ]
        # Plan every document before writing anything (metadata refreshes included), so a
        # bad one still stores nothing.
        results: list[IngestResult | None] = [None] * len(documents)
        pending: list[_Pending] = []
        refreshes: list[Document] = []
        for position, document in enumerate(documents):
            stored = self._store.get_fingerprint(document.id)
            if stored is not None and stored.text_sha256 == document.text_sha256:
                results[position] = self._same_text(document, stored, refreshes)
                continue
            chunks = self.chunker.split(document.text)
            if not chunks:
                where = f"document {position}: " if len(documents) > 1 else ""
                raise InvalidInputError(f"{where}'text' has no words the model can read")
            pending.append(_Pending(position, document, chunks, stored is None))
        self._check_chunk_budget(sum(len(item.chunks) for item in pending))
        for document in refreshes:
            self._store.update_metadata(document.id, document.metadata)
        done = len(documents) - len(pending)

        def report() -> None:
            if progress and done:
                progress(done, len(documents))

        report()
        batch: list[_Pending] = []
        batch_chunks = 0
        for index, item in enumerate(pending):
            batch.append(item)
            batch_chunks += len(item.chunks)
            if batch_chunks >= EMBED_POOL_CHUNKS or index == len(pending) - 1:
                done += self._embed_and_store(batch, results)
                batch, batch_chunks = [], 0
                report()
        return [result for result in results if result is not None]

    def validate(self, request: IngestRequest, where: str = "") -> Document:
        """The document a request would store; InvalidInputError says what is wrong."""
        try:
            text = validate_text(request.text, self.limits)
            metadata = validate_metadata(request.metadata, self.limits)
            source_id = validate_source_id(request.id, self.limits)
        except InvalidInputError as error:
            raise type(error)(where + error.message) from None
        return Document(
            id=document_id_for(text, source_id),
            text=text,
            metadata=metadata,
            text_sha256=sha256_hex(text),
            source_id=source_id,
        )

    def _check_chunk_budget(self, chunks: int) -> None:
        """Refuse, before anything is embedded or written, more chunks than may be embedded."""
        limit = self.max_request_chunks
        if limit is not None and chunks > limit:
            raise PayloadTooLargeError(
                f"The text makes {chunks} chunks to embed; this service embeds at most {limit} "
                "per request (ALEX_MAX_REQUEST_CHUNKS), to answer in time. Split it into "
                "smaller documents, or ingest it where no request time limit applies "
                "(docs/deploy.md, 'Large documents')."
            )

    @staticmethod
    def _same_text(
        document: Document, stored: Fingerprint, refreshes: list[Document]
    ) -> IngestResult:
        """Same text as stored: nothing to embed; queue a metadata update if it changed."""
        if stored.metadata_json == canonical_json(document.metadata):
            return IngestResult(document.id, "unchanged", stored.chunk_count)
        refreshes.append(document)
        return IngestResult(document.id, "updated", stored.chunk_count)

    def _embed_and_store(self, batch: list[_Pending], results: list[IngestResult | None]) -> int:
        """Embed the chunks of several documents in one call and commit them in one write."""
        vectors = self._embedder.embed([chunk.text for item in batch for chunk in item.chunks])
        writes = []
        offset = 0
        for item in batch:
            count = len(item.chunks)
            writes.append((item.document, item.chunks, vectors[offset : offset + count]))
            offset += count
        self._store.upsert_many(writes)
        for item in batch:
            status: IngestStatus = "created" if item.created else "updated"
            results[item.position] = IngestResult(item.document.id, status, len(item.chunks))
        return len(batch)
