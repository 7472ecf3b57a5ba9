"""The in-memory BM25 index answers keyword search exactly as FTS5's ``bm25()`` does: the same
hits with the same scores, after updates, deletes, other processes' writes and with filters."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import sqlean

from alex.adapters.keyword_index import Fts5Tokenizer, KeywordIndex
from alex.adapters.sqlite_store import SqliteStore
from alex.domain.models import ChunkHit, Document, StoredChunk
from alex.domain.validation import sha256_hex
from tests.support.text import paragraph

DIM = 4
FIXED_QUERIES = [
    "gross margin guidance next quarter",
    "cut cut outlook",  # a repeated word counts twice in FTS5 too
    "cuts cut cutting",  # different words, one stem
    "Café résumé NAÏVE",  # folded like unicode61 remove_diacritics 2
    "the of and",  # only stopwords: all of them are searched
    "zzzunknownword",
    "4.82",  # one piece, two tokens: a phrase, its tokens adjacent and in order
    "Q3-2024 revenue",
    "company's revenue rose 4.2% while margin",
    "2.14 billion 14.2",
    '"quoted" (brackets) it\'s',
    "-- & ?",
    "EBITDA",
]


def _document(n: int, text: str, group: str) -> tuple[Document, list[StoredChunk]]:
    half = len(text) // 2
    parts = [text[:half], text[half:]]
    chunks = [StoredChunk(i, part, 0, len(part)) for i, part in enumerate(parts)]
    return Document(f"d{n}", text, {"group": group, "n": n}, sha256_hex(text)), chunks


def _put(store: SqliteStore, items: list[tuple[Document, list[StoredChunk]]]) -> None:
    rng = np.random.default_rng(0)
    store.upsert_many(
        [
            (document, chunks, rng.normal(size=(len(chunks), DIM)).tolist())
            for document, chunks in items
        ]
    )


def _queries(texts: list[str], count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    words = " ".join(texts).split()
    return FIXED_QUERIES + [" ".join(rng.sample(words, rng.randint(1, 6))) for _ in range(count)]


def _same_ranking(fast: list[ChunkHit], fts: list[ChunkHit]) -> None:
    """The same scores, to the bit, and the same hits; FTS5 orders equal scores arbitrarily,
    so hits tied with the last one may differ in which of them made the cut."""
    assert [hit.score for hit in fast] == [hit.score for hit in fts]
    last = fts[-1].score if fts else 0.0
    key = lambda hit: (hit.document_id, hit.chunk_ordinal, hit.score)  # noqa: E731
    assert {key(h) for h in fast if h.score > last} == {key(h) for h in fts if h.score > last}
    assert all(hit.text and hit.metadata for hit in fast)


def _check_all(store: SqliteStore, queries: list[str], filters: dict[str, object]) -> int:
    """Compare every query at k = 10 and 40; returns how many hits were compared."""
    compared = 0
    for query in queries:
        for k in (10, 40):
            fts = store.keyword_fts(query, k, filters)  # type: ignore[arg-type]
            _same_ranking(store.keyword(query, k, filters), fts)  # type: ignore[arg-type]
            compared += len(fts)
    return compared


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    rng = random.Random(3)
    return [paragraph(rng, 60) for _ in range(1_000)]


@pytest.fixture
def store(tmp_path: Path, corpus: list[str]) -> SqliteStore:
    store = SqliteStore(tmp_path / "k.sqlite3", DIM, "test-model")
    _put(store, [_document(n, text, "ab"[n % 2]) for n, text in enumerate(corpus)])
    store.warm_up_keywords()
    return store


def test_same_hits_and_scores_as_fts5_on_2000_chunks(store: SqliteStore, corpus: list[str]) -> None:
    assert store.count({}) == (1_000, 2_000)
    assert _check_all(store, _queries(corpus, 150), {}) > 5_000


def test_same_hits_with_filters(store: SqliteStore, corpus: list[str]) -> None:
    queries = _queries(corpus, 40, seed=2)
    assert _check_all(store, queries, {"group": "a"}) > 1_000
    assert _check_all(store, queries, {"group": "nobody"}) == 0
    hits = store.keyword("revenue margin", 40, {"group": "b"})
    assert hits and {hit.metadata["group"] for hit in hits} == {"b"}


def test_same_hits_after_updates_deletes_and_additions(
    store: SqliteStore, corpus: list[str]
) -> None:
    rng = random.Random(4)
    replaced = [_document(n, paragraph(rng, 80), "c") for n in range(0, 300, 3)]
    _put(store, replaced)
    for n in range(1, 300, 3):
        assert store.delete(f"d{n}")
    added = [_document(n, paragraph(rng, 40), "a") for n in range(1_000, 1_200)]
    _put(store, added)
    # The largest ids are deleted and then reused by SQLite for the next insert.
    assert store.delete("d1199")
    _put(store, [_document(1_199, "a brand new zebra chunk about zebra bonds", "a")])
    texts = corpus + [document.text for document, _ in replaced + added]
    assert _check_all(store, [*_queries(texts, 80, seed=5), "zebra bonds"], {}) > 2_000
    assert store.keyword("zebra", 5, {})[0].document_id == "d1199"


def test_many_deletes_compact_the_index_and_keep_it_exact(
    store: SqliteStore, corpus: list[str]
) -> None:
    for n in range(0, 1_000, 2):
        store.delete(f"d{n}")
    assert store.count({}) == (500, 1_000)
    assert _check_all(store, _queries(corpus, 60, seed=6), {}) > 1_000


def test_another_process_writes_are_seen(
    store: SqliteStore, corpus: list[str], tmp_path: Path
) -> None:
    other = SqliteStore(tmp_path / "k.sqlite3", DIM, "test-model")
    _put(other, [_document(5_000, "walrus walrus quarterly walrus", "a")])
    other.delete("d7")
    other.close()
    assert store.keyword("walrus", 3, {})[0].document_id == "d5000"
    assert _check_all(store, _queries(corpus, 40, seed=7), {}) > 1_000


def test_the_index_is_built_at_warm_up_and_fts5_answers_before(
    tmp_path: Path, corpus: list[str]
) -> None:
    store = SqliteStore(tmp_path / "cold.sqlite3", DIM, "test-model")
    _put(store, [_document(n, text, "a") for n, text in enumerate(corpus[:50])])
    cold = store.keyword("revenue margin", 10, {})
    assert cold and store.keyword_index_bytes == 0
    store.warm_up()
    assert store.keyword_index_bytes > 0
    _same_ranking(store.keyword("revenue margin", 10, {}), cold)
    store.close()


def test_a_failed_update_rebuilds_the_index_from_sqlite(
    store: SqliteStore, corpus: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Fts5Tokenizer, texts: list[str]) -> list[list[str]]:
        raise sqlean.OperationalError("no memory")

    with monkeypatch.context() as patch:
        patch.setattr(Fts5Tokenizer, "tokens", broken)
        _put(store, [_document(7_000, "okapi okapi dividend", "a")])  # committed all the same
    assert store.keyword("okapi", 3, {})[0].document_id == "d7000"
    assert _check_all(store, _queries(corpus, 20, seed=8), {}) > 500


def test_tokens_are_fts5_tokens() -> None:
    tokenizer = Fts5Tokenizer()
    assert tokenizer.tokens(["Running CAFÉS", "4.82", "--", "it's"]) == [
        ["run", "cafe"],
        ["4", "82"],
        [],
        ["it", "s"],
    ]
    index = KeywordIndex(tokenizer)
    assert index.query_phrases(["Running", "4.82", "&"]) == [("run",), ("4", "82"), ()]
    index.close()


def test_an_empty_index_finds_nothing() -> None:
    index = KeywordIndex()
    index.replace_all([], [])
    assert index.top_k([("cut",)], 10) == []
    index.add([7], ["cut costs"])
    assert [chunk_id for chunk_id, _ in index.top_k([("cut",)], 10)] == [7]
    index.remove([7])
    assert index.top_k([("cut",)], 10) == []
    index.close()
