"""Listing, reading, counting and deleting stored documents."""

from __future__ import annotations

from alex.domain.errors import InvalidInputError, NotFoundError
from alex.domain.models import Document, DocumentSummary
from alex.domain.validation import INT64, validate_filters
from alex.ports import VectorStore

MAX_PAGE = 500


class DocumentService:
    def __init__(self, store: VectorStore) -> None:
        self._store = store

    def list_documents(
        self, limit: int = 50, offset: int = 0, filters: object = None
    ) -> tuple[list[DocumentSummary], int]:
        """One page of documents, newest first, and how many match in all."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInputError(f"'limit' must be from 1 to {MAX_PAGE}")
        if offset not in INT64 or offset < 0:
            raise InvalidInputError(f"'offset' must be from 0 to {INT64.stop - 1}")
        clean = validate_filters(filters)
        return self._store.list_documents(limit, offset, clean), self._store.count(clean)[0]

    def get(self, document_id: str) -> Document:
        document = self._store.get(document_id)
        if document is None:
            raise NotFoundError(f"No document with id {document_id!r}")
        return document

    def delete(self, document_id: str) -> None:
        if not self._store.delete(document_id):
            raise NotFoundError(f"No document with id {document_id!r}")

    def count(self) -> tuple[int, int]:
        """(documents, chunks) in the store."""
        return self._store.count({})

    def check_integrity(self) -> list[str]:
        return self._store.check_integrity()
