"""The local vector store: one SQLite file with sqlite-vec (vectors) and FTS5 (BM25).

A document, its chunks, their vectors and their full-text rows are written in one
transaction, in WAL mode with full sync: a crash loses nothing committed and never
leaves half a document. ``sqlean`` is used instead of the standard ``sqlite3`` because
some Python builds cannot load extensions; it ships SQLite with FTS5 on every OS.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import sqlean

from alex.adapters.keyword_index import KeywordIndex, StoreKeywords
from alex.adapters.sqlite_file import (
    SCHEMA_VERSION,
    FileIdentity,
    immediate_transaction,
    open_database,
)
from alex.adapters.vector_matrix import VectorMatrix
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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _filter_sql(filters: Filters, alias: str = "d") -> tuple[str, list[Any]]:
    """SQL for metadata equality filters; a list value matches when it contains the value.

    JSON true/false read as 1/0 in SQLite, so the type is checked both ways: a boolean
    filter matches only booleans, a number only numbers (as in the OpenSearch store).
    """
    clauses: list[str] = []
    params: list[Any] = []
    for key, value in filters.items():
        booleans = "IN" if isinstance(value, bool) else "NOT IN"
        clauses.append(
            f"EXISTS (SELECT 1 FROM json_each({alias}.metadata, ?) AS m "
            "WHERE m.type NOT IN ('array', 'object') AND m.value = ?"
            f" AND m.type {booleans} ('true', 'false'))"
        )
        params.extend([f'$."{key}"', int(value) if isinstance(value, bool) else value])
    return (" AND ".join(clauses) or "1"), params


def fts_query(text: str) -> str:
    """Each term of the query as a quoted FTS5 phrase, OR-ed: no syntax errors; BM25 ranks."""
    terms = [term.replace('"', '""') for term in keyword_terms(text)]
    return " OR ".join(f'"{term}"' for term in terms)


class SqliteStore:
    def __init__(self, path: Path, dimension: int, model_name: str) -> None:
        self.path = path
        self.dimension = dimension
        self._lock = threading.RLock()
        self._matrix: VectorMatrix | None = None
        self._data_version: int | None = None
        self._keywords = StoreKeywords()
        try:
            self._db = open_database(path, dimension)
            self._file = FileIdentity(path)
            with self._transaction() as db:
                self._check_meta(db, model_name)
        except (OSError, sqlean.Error) as error:
            raise StoreUnavailableError(
                f"Cannot open the store at {path}: {error}. Check that ALEX_DATA_DIR "
                "points to a writable folder with free space."
            ) from error

    def _check_meta(self, db: Any, model_name: str) -> None:
        rows = dict(db.execute("SELECT key, value FROM meta").fetchall())
        wanted = {
            "schema_version": SCHEMA_VERSION,
            "model": model_name,
            "dimension": str(self.dimension),
        }
        if not rows:
            db.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", wanted.items())
            return
        for key, value in wanted.items():
            if rows.get(key) != value:
                raise StoreUnavailableError(
                    f"The store at {self.path} was built with {key}={rows.get(key)!r}, "
                    f"not {value!r}: use another ALEX_DATA_DIR or re-ingest into a new store."
                )

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        """BEGIN IMMEDIATE ... COMMIT under the lock; ROLLBACK on any error."""
        with immediate_transaction(self._db, self._lock) as db:
            yield db

    def check_available(self) -> None:
        """Raise StoreUnavailableError if the file opened is no longer the one at ``path``
        (``sqlite_file.FileIdentity``): writes to a deleted file would be lost at restart."""
        self._file.check()

    @contextmanager
    def _writing(self) -> Iterator[Any]:
        try:
            with self._transaction() as db:
                yield db
                # Checked last, holding the write lock: a file deleted during the write is
                # caught too, and the ROLLBACK means nothing was acknowledged.
                self.check_available()
        except sqlean.Error as error:
            raise StoreUnavailableError(
                f"Could not write to the store at {self.path}: {error}. "
                "Nothing from this request was stored."
            ) from error

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return list(self._db.execute(sql, params).fetchall())
            except sqlean.OperationalError as error:
                raise StoreUnavailableError(
                    f"Could not read the store at {self.path}: {error}"
                ) from error

    # Writes -------------------------------------------------------------------------
    def get_fingerprint(self, document_id: str) -> Fingerprint | None:
        # Ingest plans with this: an "unchanged" answer from a deleted file would be a lie.
        self.check_available()
        rows = self._read(
            "SELECT text_sha256, metadata, chunk_count FROM documents WHERE id = ?",
            (document_id,),
        )
        return Fingerprint(rows[0][0], rows[0][1], rows[0][2]) if rows else None

    def upsert(self, document: Document, chunks: Sequence[StoredChunk], vectors: Vectors) -> None:
        self.upsert_many([(document, chunks, vectors)])

    def upsert_many(self, items: Sequence[tuple[Document, Sequence[StoredChunk], Vectors]]) -> None:
        """Store documents with their chunks and vectors in one transaction (one fsync)."""
        now = _now()
        removed: list[int] = []
        added: list[int] = []
        added_vectors: list[npt.NDArray[np.float32]] = []
        with self._writing() as db:
            for document, chunks, vectors in items:
                if len(chunks) != len(vectors):
                    raise ValueError("one vector per chunk is required")
                # The port's plain rows become one float32 matrix here, at the boundary.
                matrix = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(chunks), -1)
                removed += self._replace_document(db, document, chunks, matrix, now, added)
                added_vectors.append(matrix)
            # Committed when this block ends; the matrix follows only what was committed.
        texts = [chunk.text for _, chunks, _ in items for chunk in chunks]
        self._after_commit(removed, added, np.concatenate(added_vectors) if added else None, texts)

    def _replace_document(
        self,
        db: Any,
        document: Document,
        chunks: Sequence[StoredChunk],
        vectors: npt.NDArray[np.float32],
        now: str,
        added: list[int],
    ) -> list[int]:
        """Write one document in the open transaction; returns the chunk ids it replaced."""
        created = db.execute(
            "SELECT created_at FROM documents WHERE id = ?", (document.id,)
        ).fetchone()
        old_ids = self._delete_chunks(db, document.id)
        db.execute(
            "INSERT OR REPLACE INTO documents(id, source_id, text, text_sha256, metadata,"
            " chunk_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                document.id,
                document.source_id,
                document.text,
                document.text_sha256,
                canonical_json(document.metadata),
                len(chunks),
                created[0] if created else now,
                now,
            ),
        )
        for chunk, vector in zip(chunks, vectors, strict=True):
            cursor = db.execute(
                "INSERT INTO chunks(document_id, ordinal, text, start_char, end_char)"
                " VALUES (?, ?, ?, ?, ?)",
                (document.id, chunk.ordinal, chunk.text, chunk.start, chunk.end),
            )
            added.append(int(cursor.lastrowid))
            db.execute(
                "INSERT INTO chunk_vec(rowid, embedding) VALUES (?, ?)",
                (cursor.lastrowid, vector.tobytes()),
            )
        return old_ids

    def update_metadata(self, document_id: str, metadata: Metadata) -> None:
        with self._writing() as db:
            db.execute(
                "UPDATE documents SET metadata = ?, updated_at = ? WHERE id = ?",
                (canonical_json(metadata), _now(), document_id),
            )

    @staticmethod
    def _delete_chunks(db: Any, document_id: str) -> list[int]:
        old_ids = [
            int(row[0])
            for row in db.execute("SELECT id FROM chunks WHERE document_id = ?", (document_id,))
        ]
        db.execute("DELETE FROM chunks WHERE document_id = ?", (document_id,))
        return old_ids

    def delete(self, document_id: str) -> bool:
        with self._writing() as db:
            old_ids = self._delete_chunks(db, document_id)
            deleted = bool(
                db.execute("DELETE FROM documents WHERE id = ?", (document_id,)).rowcount
            )
        self._after_commit(old_ids, [], None)
        return deleted

    # The in-memory matrix ---------------------------------------------------------
    def _after_commit(
        self, old_ids: list[int], new_ids: list[int], vectors: Any, texts: Sequence[str] = ()
    ) -> None:
        with self._lock:
            self._keywords.after_commit(old_ids, new_ids, texts)
            if self._matrix is None:
                return
            self._matrix.remove(old_ids)
            if new_ids:
                self._matrix.add(new_ids, vectors)

    def warm_up(self) -> None:
        """Load every vector and the keyword index into memory now, not at the first search."""
        with self._lock:
            self._current_matrix()
        self.warm_up_keywords()

    def _current_matrix(self) -> VectorMatrix:
        """The matrix, (re)loaded if absent or if another process has committed since."""
        version = int(self._db.execute("PRAGMA data_version").fetchone()[0])
        if self._matrix is None or version != self._data_version:
            rows = self._db.execute("SELECT rowid, embedding FROM chunk_vec").fetchall()
            matrix = VectorMatrix(self.dimension)
            ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
            vectors = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.float32)
            matrix.replace_all(ids, vectors.reshape(len(rows), self.dimension))
            self._matrix, self._data_version = matrix, version
        return self._matrix

    @property
    def matrix_bytes(self) -> int:
        return self._matrix.nbytes if self._matrix is not None else 0

    # The in-memory keyword index (``keyword_index.StoreKeywords``) -------------------
    def warm_up_keywords(self) -> None:
        with self._lock:
            self._keywords.wanted = True
            self._current_keywords()

    def _current_keywords(self) -> KeywordIndex:
        version = int(self._db.execute("PRAGMA data_version").fetchone()[0])
        return self._keywords.current(
            version, lambda: self._db.execute("SELECT id, text FROM chunks").fetchall()
        )

    @property
    def keyword_index_bytes(self) -> int:
        return self._keywords.nbytes

    # Searches -----------------------------------------------------------------------
    def _hits(self, scored: list[tuple[int, float]]) -> list[ChunkHit]:
        if not scored:
            return []
        ids = [chunk_id for chunk_id, _ in scored]
        rows = self._read(
            "SELECT c.id, c.document_id, c.ordinal, c.text, d.metadata FROM chunks c"
            f" JOIN documents d ON d.id = c.document_id WHERE c.id IN ({','.join('?' * len(ids))})",
            ids,
        )
        by_id = {row[0]: row for row in rows}
        return [
            ChunkHit(
                document_id=by_id[chunk_id][1],
                chunk_ordinal=by_id[chunk_id][2],
                text=by_id[chunk_id][3],
                score=score,
                metadata=json.loads(by_id[chunk_id][4]),
            )
            for chunk_id, score in scored
            if chunk_id in by_id
        ]

    def _allowed_ids(self, filters: Filters) -> list[int] | None:
        """The chunk ids that pass the filters, or None when there are no filters."""
        if not filters:
            return None
        where, params = _filter_sql(filters)
        return [
            int(row[0])
            for row in self._read(
                f"SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE {where}",
                params,
            )
        ]

    def semantic(self, vector: Vector, k: int, filters: Filters) -> list[ChunkHit]:
        """Exact cosine scan over the in-memory matrix (vectors are unit length)."""
        allowed = self._allowed_ids(filters)
        query = np.asarray(vector, dtype=np.float32)  # the port's plain floats, for the scan
        with self._lock:
            try:
                scored = self._current_matrix().top_k(query, k, allowed)
            except sqlean.OperationalError as error:
                message = f"Could not read the store at {self.path}: {error}"
                raise StoreUnavailableError(message) from error
        return self._hits(scored)

    def keyword(self, query: str, k: int, filters: Filters) -> list[ChunkHit]:
        """BM25 from the in-memory index: FTS5's hits and scores (``keyword_index.py``)."""
        terms = keyword_terms(query)
        if not terms or not self._keywords.wanted:
            return self.keyword_fts(query, k, filters)
        allowed = self._allowed_ids(filters)
        with self._lock:
            try:
                index = self._current_keywords()
                scored = index.top_k(index.query_phrases(terms), k, allowed)
            except sqlean.Error as error:
                message = f"Could not read the store at {self.path}: {error}"
                raise StoreUnavailableError(message) from error
        return self._hits(scored)

    def keyword_fts(self, query: str, k: int, filters: Filters) -> list[ChunkHit]:
        """The same search answered by FTS5 (before warm-up, and as the tests' reference)."""
        match = fts_query(query)
        if not match:
            return []
        where, params = _filter_sql(filters)
        rows = self._read(
            "SELECT f.rowid, -bm25(chunk_fts) AS score FROM chunk_fts f"
            " JOIN chunks c ON c.id = f.rowid JOIN documents d ON d.id = c.document_id"
            f" WHERE chunk_fts MATCH ? AND {where} ORDER BY bm25(chunk_fts) LIMIT ?",
            [match, *params, k],
        )
        return self._hits([(int(row[0]), float(row[1])) for row in rows])

    # Reads --------------------------------------------------------------------------
    def get(self, document_id: str) -> Document | None:
        rows = self._read(
            "SELECT id, text, metadata, text_sha256, source_id, chunk_count, created_at, updated_at"
            " FROM documents WHERE id = ?",
            (document_id,),
        )
        if not rows:
            return None
        row = rows[0]
        return Document(
            id=row[0],
            text=row[1],
            metadata=json.loads(row[2]),
            text_sha256=row[3],
            source_id=row[4],
            chunk_count=row[5],
            created_at=row[6],
            updated_at=row[7],
        )

    def list_documents(self, limit: int, offset: int, filters: Filters) -> list[DocumentSummary]:
        where, params = _filter_sql(filters)
        rows = self._read(
            "SELECT d.id, d.metadata, d.chunk_count, length(d.text), substr(d.text, 1, 160),"
            f" d.created_at, d.updated_at FROM documents d WHERE {where}"
            " ORDER BY d.updated_at DESC, d.id LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [
            DocumentSummary(
                id=row[0],
                metadata=json.loads(row[1]),
                chunk_count=row[2],
                chars=row[3],
                preview=" ".join(row[4].split()),
                created_at=row[5],
                updated_at=row[6],
            )
            for row in rows
        ]

    def count(self, filters: Filters) -> tuple[int, int]:
        where, params = _filter_sql(filters)
        row = self._read(
            f"SELECT count(*), coalesce(sum(d.chunk_count), 0) FROM documents d WHERE {where}",
            params,
        )[0]
        return int(row[0]), int(row[1])

    def check_integrity(self) -> list[str]:
        """Problems found, or an empty list: SQLite's own check, FTS, and whole documents."""
        self.check_available()
        problems: list[str] = []
        result = self._read("PRAGMA integrity_check")
        if [row[0] for row in result] != ["ok"]:
            problems.extend(str(row[0]) for row in result)
        try:
            with self._lock:
                self._db.execute("INSERT INTO chunk_fts(chunk_fts) VALUES ('integrity-check')")
        except sqlean.Error as error:
            problems.append(f"full-text index: {error}")
        checks = {
            "documents whose chunk count disagrees with their chunks": (
                "SELECT count(*) FROM documents d WHERE d.chunk_count !="
                " (SELECT count(*) FROM chunks c WHERE c.document_id = d.id)"
            ),
            "chunks without a document": (
                "SELECT count(*) FROM chunks c WHERE NOT EXISTS"
                " (SELECT 1 FROM documents d WHERE d.id = c.document_id)"
            ),
            "chunks without a vector": (
                "SELECT count(*) FROM chunks c WHERE NOT EXISTS"
                " (SELECT 1 FROM chunk_vec v WHERE v.rowid = c.id)"
            ),
            "vectors without a chunk": (
                "SELECT count(*) FROM chunk_vec v WHERE NOT EXISTS"
                " (SELECT 1 FROM chunks c WHERE c.id = v.rowid)"
            ),
        }
        for label, sql in checks.items():
            bad = cast(int, self._read(sql)[0][0])
            if bad:
                problems.append(f"{bad} {label}")
        return problems

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self._keywords.close()
