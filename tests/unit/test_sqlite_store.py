"""The SQLite store with synthetic vectors: atomic upserts, filters, keyword escaping, integrity."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from alex.adapters.sqlite_store import SqliteStore
from alex.domain.errors import StoreUnavailableError
from alex.domain.models import Document, StoredChunk
from alex.domain.validation import sha256_hex

DIM = 8


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def doc(doc_id: str, texts: list[str], **metadata: object) -> tuple[Document, list[StoredChunk]]:
    text = " ".join(texts)
    chunks = []
    position = 0
    for ordinal, part in enumerate(texts):
        chunks.append(StoredChunk(ordinal, part, position, position + len(part)))
        position += len(part) + 1
    return Document(doc_id, text, dict(metadata), sha256_hex(text)), chunks  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "s.sqlite3", DIM, "test-model")


def put(
    store: SqliteStore, doc_id: str, texts: list[str], seed: int = 0, **metadata: object
) -> None:
    document, chunks = doc(doc_id, texts, **metadata)
    store.upsert(document, chunks, np.stack([unit(seed + i) for i in range(len(chunks))]))


def test_upsert_replaces_all_chunks_of_a_document(store: SqliteStore) -> None:
    put(store, "d1", ["alpha one", "alpha two", "alpha three"])
    put(store, "d1", ["beta only"], seed=10)
    assert store.count({}) == (1, 1)
    assert [h.text for h in store.keyword("alpha", 10, {})] == []
    assert [h.text for h in store.keyword("beta", 10, {})] == ["beta only"]
    assert store.check_integrity() == []


def test_failed_upsert_leaves_the_old_version_whole(store: SqliteStore) -> None:
    put(store, "d1", ["old text here", "more old text"])
    document, chunks = doc("d1", ["new text", "newer text"])
    bad_vectors = np.ones((2, DIM * 2), dtype=np.float32)  # wrong dimension: vec0 refuses
    with pytest.raises(StoreUnavailableError, match="Nothing from this request was stored"):
        store.upsert(document, chunks, bad_vectors)
    stored = store.get("d1")
    assert stored is not None and stored.text == "old text here more old text"
    assert store.count({}) == (1, 2)
    assert store.check_integrity() == []


def test_semantic_returns_nearest_first_with_cosine_scores(store: SqliteStore) -> None:
    put(store, "d1", ["first"], seed=1)
    put(store, "d2", ["second"], seed=2)
    hits = store.semantic(unit(2), 2, {})
    assert [h.document_id for h in hits] == ["d2", "d1"]
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)


def test_filters_match_scalars_and_list_members(store: SqliteStore) -> None:
    put(
        store,
        "d1",
        ["apple results"],
        seed=1,
        ticker="AAPL",
        tickers=["AAPL", "MSFT"],
        year=2026,
        reviewed=True,
    )
    put(store, "d2", ["microsoft results"], seed=2, ticker="MSFT", year=2025, reviewed=False)
    assert [h.document_id for h in store.semantic(unit(2), 5, {"ticker": "AAPL"})] == ["d1"]
    assert [h.document_id for h in store.keyword("results", 5, {"tickers": "MSFT"})] == ["d1"]
    assert [s.id for s in store.list_documents(10, 0, {"year": 2025})] == ["d2"]
    assert [s.id for s in store.list_documents(10, 0, {"reviewed": True})] == ["d1"]
    assert store.count({"ticker": "NONE"}) == (0, 0)
    assert store.count({"year": "2026"}) == (0, 0), "types must match: '2026' is not 2026"


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "AND OR NOT",
        "col:umn",
        "a* (b",
        "NEAR(x y)",
        "'; DROP TABLE chunks;--",
        "^caret",
        "-minus",
        "   ",
    ],
)
def test_keyword_queries_with_fts_syntax_never_error(store: SqliteStore, query: str) -> None:
    put(store, "d1", ["the AND operator and a column: name"])
    store.keyword(query, 5, {})
    assert store.count({}) == (1, 1)


def test_keyword_finds_exact_tickers_and_numbers(store: SqliteStore) -> None:
    put(store, "d1", ["NWSC reported revenue of $4.82 billion"], seed=1)
    put(store, "d2", ["Revenue grew at the other firm"], seed=2)
    assert [h.document_id for h in store.keyword("nwsc", 5, {})] == ["d1"]
    assert [h.document_id for h in store.keyword("4.82", 5, {})] == ["d1"]


def test_delete_removes_text_vectors_and_fts_rows(store: SqliteStore) -> None:
    put(store, "d1", ["gamma text", "gamma more"], seed=1)
    assert store.delete("d1") is True
    assert store.delete("d1") is False
    assert store.keyword("gamma", 5, {}) == []
    assert store.semantic(unit(1), 5, {}) == []
    assert store.check_integrity() == []


def test_data_persists_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    first = SqliteStore(path, DIM, "test-model")
    put(first, "d1", ["persisted words"], seed=3)
    first.close()
    second = SqliteStore(path, DIM, "test-model")
    assert [h.document_id for h in second.keyword("persisted", 5, {})] == ["d1"]


def test_a_store_built_for_another_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    SqliteStore(path, DIM, "test-model").close()
    with pytest.raises(StoreUnavailableError, match="model"):
        SqliteStore(path, DIM, "another-model")


def test_unwritable_location_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreUnavailableError, match="ALEX_DATA_DIR"):
        SqliteStore(blocker / "s.sqlite3", DIM, "test-model")


owner_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@owner_only
def test_a_new_store_its_side_files_and_its_folder_are_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    previous = os.umask(0)  # the widest umask: the modes must not depend on it
    try:
        store = SqliteStore(folder / "s.sqlite3", DIM, "test-model")
        put(store, "d1", ["words"])
    finally:
        os.umask(previous)
    try:
        files = sorted(folder.iterdir())
        assert [path.name for path in files] == ["s.sqlite3", "s.sqlite3-shm", "s.sqlite3-wal"]
        assert [mode(path) for path in files] == [0o600] * 3
        assert mode(folder) == 0o700
    finally:
        store.close()


@owner_only
def test_a_world_readable_store_is_tightened_when_opened(tmp_path: Path) -> None:
    """As an older version left it: store, WAL and SHM 0644, in a folder the user made."""
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o755)
    path = folder / "s.sqlite3"
    older = SqliteStore(path, DIM, "test-model")  # still open: its WAL and SHM exist
    put(older, "d1", ["words"])
    files = sorted(folder.iterdir())
    assert len(files) == 3
    for file in files:
        file.chmod(0o644)
    newer = SqliteStore(path, DIM, "test-model")
    try:
        assert [mode(file) for file in files] == [0o600] * 3
        assert mode(folder) == 0o755  # a folder Alex did not create keeps its mode
    finally:
        newer.close()
        older.close()


def test_integrity_check_reports_a_half_document(store: SqliteStore) -> None:
    put(store, "d1", ["one", "two"])
    store._db.execute("DELETE FROM chunk_vec WHERE rowid = (SELECT min(rowid) FROM chunk_vec)")
    assert any("without a vector" in p for p in store.check_integrity())
