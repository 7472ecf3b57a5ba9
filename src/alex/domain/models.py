"""Value objects of the knowledge base."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Scalar = str | int | float | bool | None
MetadataValue = Scalar | list[Scalar]
Metadata = dict[str, MetadataValue]
Filters = Mapping[str, Scalar]
SearchMode = Literal["semantic", "keyword", "hybrid"]
IngestStatus = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True, slots=True)
class Document:
    """One ingested text with its metadata, identified by ``id``."""

    id: str
    text: str
    metadata: Metadata
    text_sha256: str
    source_id: str | None = None
    chunk_count: int = 0
    created_at: str | None = None
    updated_at: str | None = None


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What the store knows of a document without reading its text."""

    text_sha256: str
    metadata_json: str
    chunk_count: int


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """A piece of a document small enough for the model, with its place in the text."""

    ordinal: int
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class ChunkHit:
    """A search result: one chunk, its score and the document it belongs to."""

    document_id: str
    chunk_ordinal: int
    text: str
    score: float
    metadata: Metadata = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DocumentSummary:
    """A document in a listing: everything but its full text."""

    id: str
    metadata: Metadata
    chunk_count: int
    chars: int
    preview: str
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class IngestResult:
    document_id: str
    status: IngestStatus
    chunks: int


# One vector space everywhere: the local model and the cloud endpoint serve this model.
EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDING_DIMENSION = 384
