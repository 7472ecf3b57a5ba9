"""The local store's SQLite file: its schema, opening it safely, and knowing it is still there.

The file and its folder are owner-only (SQLite gives the WAL and SHM files the store's
mode). SQLite keeps writing to an open file after it is unlinked, so a data folder deleted
under a running Alex would take every later write with it at the next start:
:class:`FileIdentity` tells, in one ``stat``, whether the file opened is still the one at
its path.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlean
import sqlite_vec

from alex.domain.errors import StoreUnavailableError
from alex.private_files import create_private_dir, create_private_file, restrict

SCHEMA_VERSION = "1"

_META = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    source_id TEXT,
    text TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    metadata TEXT NOT NULL,
    chunk_count INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    document_id TEXT NOT NULL REFERENCES documents(id),
    ordinal INTEGER NOT NULL,
    text TEXT NOT NULL,
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL,
    UNIQUE (document_id, ordinal)
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_fts USING fts5(
    text, content='chunks', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_vec USING vec0(
    embedding float[{dimension}] distance_metric=cosine
);
CREATE TRIGGER IF NOT EXISTS chunks_after_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO chunk_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_after_delete AFTER DELETE ON chunks BEGIN
    INSERT INTO chunk_fts(chunk_fts, rowid, text) VALUES ('delete', old.id, old.text);
    DELETE FROM chunk_vec WHERE rowid = old.id;
END;
"""


def open_database(path: Path, dimension: int | None, schema: str = "") -> Any:
    """A connection to the store at ``path`` (created owner-only if missing), schema in place.

    The documents' tables are created when ``dimension`` is given (it fixes the vector
    table's width, which only the document store knows); ``schema`` adds another store's
    tables to the same file (``portfolio_sqlite``). Raises OSError or sqlean.Error; the
    store turns them into a clear StoreUnavailableError.
    """
    # Owner-only: created so before SQLite opens it, or tightened if an older version left
    # it readable.
    create_private_dir(path.parent)
    create_private_file(path)
    for side_file in (f"{path}-wal", f"{path}-shm"):
        restrict(Path(side_file))
    db = sqlean.connect(str(path), check_same_thread=False, isolation_level=None)
    db.enable_load_extension(True)
    sqlite_vec.load(db)
    db.enable_load_extension(False)
    db.execute("PRAGMA busy_timeout = 10000")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA foreign_keys = ON")
    # executescript commits whatever is open, so the schema carries its own transaction.
    documents = "" if dimension is None else _SCHEMA.replace("{dimension}", str(dimension))
    db.executescript(f"BEGIN IMMEDIATE;\n{_META}\n{documents}\n{schema}\nCOMMIT;")
    return db


@contextmanager
def immediate_transaction(db: Any, lock: threading.RLock) -> Iterator[Any]:
    """BEGIN IMMEDIATE ... COMMIT under ``lock``; ROLLBACK on any error: all or nothing."""
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


class FileIdentity:
    """The (device, inode) of the file at ``path`` when opened, checked against it now.

    One ``stat``: 3-4 µs (docs/performance.md). On Windows ``st_ino`` is the file index, and
    an open SQLite file cannot be deleted there, so the check matters on POSIX.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._opened = self._now()

    def _now(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        except OSError as error:
            message = f"Cannot reach the store at {self.path}: {error}"
            raise StoreUnavailableError(message) from error
        return stat.st_dev, stat.st_ino

    def check(self) -> None:
        """Raise StoreUnavailableError if the file opened is no longer the one at ``path``."""
        if self._now() != self._opened:
            raise StoreUnavailableError(
                f"The store file at {self.path} was deleted or replaced while Alex had it "
                "open, so nothing more can be stored in it: restart Alex to open the store "
                "at that path again (a new, empty one if it is gone)."
            )


class SqliteTables:
    """A store of some tables in Alex's SQLite file (``schema`` creates them), with the
    discipline every store there keeps: each write one ``BEGIN IMMEDIATE`` transaction under
    one lock, the file's identity checked last inside it (a file deleted during the write
    rolls it back instead of losing it at restart), every SQLite error a
    StoreUnavailableError that says what was (not) stored. ``name`` ("the portfolio store")
    names it in those errors. The documents' store, which also checks the model that built
    the file, keeps its own."""

    def __init__(self, path: Path, schema: str, name: str) -> None:
        self.path = path
        self._name = name
        self._lock = threading.RLock()
        try:
            # No dimension: the documents' tables are the document store's to create.
            self._db = open_database(path, None, schema)
            self._file = FileIdentity(path)
        except (OSError, sqlean.Error) as error:
            raise StoreUnavailableError(
                f"Cannot open {name} at {path}: {error}. Check that "
                "ALEX_DATA_DIR points to a writable folder with free space."
            ) from error

    @contextmanager
    def _writing(self) -> Iterator[Any]:
        try:
            with immediate_transaction(self._db, self._lock) as db:
                yield db
                self._file.check()
        except sqlean.Error as error:
            raise StoreUnavailableError(
                f"Could not write to {self._name} at {self.path}: {error}. "
                "Nothing from this request was stored."
            ) from error

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return list(self._db.execute(sql, params).fetchall())
            except sqlean.Error as error:
                message = f"Could not read {self._name} at {self.path}: {error}"
                raise StoreUnavailableError(message) from error

    def close(self) -> None:
        with self._lock:
            self._db.close()
