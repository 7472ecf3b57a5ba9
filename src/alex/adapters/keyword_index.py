"""BM25 keyword search from an in-memory inverted index: FTS5's ``bm25()`` ranking, faster.

FTS5 answers ``ORDER BY bm25(...) LIMIT k`` by scoring, one row at a time, every chunk that
contains any query term (128 ms at 100k chunks, where common words are in 20-40% of chunks).
This index holds every token occurrence as numpy arrays (token -> chunk rows and positions)
and scores a query with a few vector operations over its tokens' occurrences (~3 ms).

It reproduces FTS5 exactly rather than approximately:
- **Tokens come from FTS5 itself.** Text is cut at whitespace (which the ``unicode61``
  tokenizer always treats as a separator, so no token spans it) and each distinct piece is
  tokenized by an in-memory FTS5 table with the store's tokenizer (``Fts5Tokenizer``): no
  second implementation of Porter stemming or Unicode folding to drift apart.
- **Phrases are FTS5's.** Each query word is an FTS5 phrase; one such as ``4.82`` is two
  tokens that must be adjacent, which positions decide.
- **The score is FTS5's formula** (``fts5_aux.c``): for each query phrase,
  ``idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * D / avgdl))`` with k1 = 1.2, b = 0.75,
  ``idf = log((N - n + 0.5) / (n + 0.5))`` (1e-6 when not positive), N the number of chunks,
  n the chunks containing the phrase, D the chunk's token count; summed over the phrases in
  query order, in float64, so scores agree with ``-bm25()`` to the last bit. Only the order
  of equal scores may differ (here by chunk id; FTS5 does not specify it).
- Statistics (N, n, avgdl) are over the whole table, not the filtered subset, as in FTS5.

SQLite's FTS5 table stays the source of truth: the store builds this index from the chunks
table, keeps it in step with its own commits and rebuilds it when another process has
written (``PRAGMA data_version``), as it does for the vector matrix.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
import sqlean

IdArray = npt.NDArray[np.int64]
RowArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]

TOKENIZE = "porter unicode61 remove_diacritics 2"
K1 = 1.2
B = 0.75
# Deleted rows and postings added since the last compaction are dead weight in every scan;
# past this share of the index, it is compacted (in memory, no SQL).
COMPACT_SHARE = 0.25
# Chunks split into words per step of an index build.
BUILD_BATCH = 10_000
# Query words already tokenized (a query costs an FTS5 call only for words not seen lately).
PHRASE_CACHE = 10_000


class Fts5Tokenizer:
    """Tokens exactly as the store's FTS5 table makes them, from a private in-memory table."""

    def __init__(self, tokenize: str = TOKENIZE) -> None:
        self._db = sqlean.connect(":memory:", check_same_thread=False, isolation_level=None)
        self._db.execute(f"CREATE VIRTUAL TABLE t USING fts5(text, tokenize='{tokenize}')")
        self._db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")

    def tokens(self, texts: Sequence[str]) -> list[list[str]]:
        """Each text's tokens in order (stemmed, folded), as FTS5 indexes or queries them."""
        result: list[list[str]] = [[] for _ in texts]
        self._db.execute("BEGIN")
        try:
            self._db.executemany("INSERT INTO t(rowid, text) VALUES (?, ?)", enumerate(texts))
            for row, term in self._db.execute("SELECT doc, term FROM v ORDER BY doc, offset"):
                result[row].append(term)
        finally:
            self._db.execute("ROLLBACK")  # a scratch table: leave it empty for the next call
        return result

    def close(self) -> None:
        self._db.close()


class KeywordIndex:
    def __init__(self, tokenizer: Fts5Tokenizer | None = None) -> None:
        self._tokenizer = tokenizer or Fts5Tokenizer()
        self._vocabulary: dict[str, int] = {}
        # Every token occurrence, grouped by token (CSR): rows[offsets[t]:offsets[t + 1]] and
        # the positions beside them, sorted by row, then position. Positions make phrases
        # (``4.82`` is the two tokens 4 and 82, adjacent) exact; frequencies are run lengths.
        self._offsets: IdArray = np.zeros(1, dtype=np.int64)
        self._rows: RowArray = np.empty(0, dtype=np.int32)
        self._positions: RowArray = np.empty(0, dtype=np.int32)
        # Occurrences in chunks added since the last compaction: token id -> (rows, positions).
        self._extra: dict[int, tuple[list[int], list[int]]] = {}
        self._extra_count = 0
        # Per row: chunk id, token count, and whether it is still stored.
        self._ids: IdArray = np.empty(0, dtype=np.int64)
        self._lengths: FloatArray = np.empty(0, dtype=np.float64)
        self._alive: npt.NDArray[np.bool_] = np.empty(0, dtype=np.bool_)
        self._size = 0
        self._row_of: dict[int, int] = {}
        self._total_tokens = 0
        self._phrase_cache: dict[str, tuple[str, ...]] = {}

    def __len__(self) -> int:
        return len(self._row_of)

    @property
    def nbytes(self) -> int:
        arrays = (
            self._offsets,
            self._rows,
            self._positions,
            self._ids,
            self._lengths,
            self._alive,
        )
        return int(sum(array.nbytes for array in arrays))

    # Building ---------------------------------------------------------------------
    def replace_all(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        """Index these chunks from scratch. Texts are cut at whitespace and each distinct
        piece is tokenized once (one FTS5 call for the corpus, not one per word)."""
        with _no_gc():
            self._replace_all(ids, texts)

    def _replace_all(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        self._vocabulary = {}
        piece_number: dict[str, int] = {}
        piece_tokens: list[list[int]] = []  # by piece number: its token ids
        token_parts: list[IdArray] = []
        length_parts: list[IdArray] = []
        # In batches, so only one batch's words are Python strings at a time (peak memory).
        for start in range(0, len(texts), BUILD_BATCH):
            split = [text.split() for text in texts[start : start + BUILD_BATCH]]
            pieces = list(chain.from_iterable(split))
            new = [piece for piece in dict.fromkeys(pieces) if piece not in piece_number]
            numbers = range(len(piece_number), len(piece_number) + len(new))
            piece_number.update(zip(new, numbers, strict=True))
            piece_tokens += [list(map(self._token_id, t)) for t in self._tokenizer.tokens(new)]
            occurrences = np.fromiter(map(piece_number.__getitem__, pieces), np.int64)
            token, per_piece = _expand(occurrences, piece_tokens)
            piece_doc = np.repeat(np.arange(len(split), dtype=np.int64), list(map(len, split)))
            token_parts.append(token)
            length_parts.append(
                np.bincount(piece_doc, weights=per_piece, minlength=len(split)).astype(np.int64)
            )
        token = np.concatenate(token_parts) if token_parts else np.empty(0, dtype=np.int64)
        lengths = np.concatenate(length_parts) if length_parts else np.empty(0, dtype=np.int64)
        doc = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        position = np.arange(len(doc), dtype=np.int64) - (np.cumsum(lengths) - lengths)[doc]
        self._set_rows(np.asarray(ids, dtype=np.int64), lengths)
        order = _stable_order(token)
        self._set_occurrences(token[order], doc[order], position[order])

    def _set_rows(self, ids: IdArray, lengths: npt.NDArray[Any]) -> None:
        self._ids = ids.copy()
        self._lengths = lengths.astype(np.float64)
        self._alive = np.ones(len(ids), dtype=np.bool_)
        self._size = len(ids)
        self._row_of = {int(chunk_id): row for row, chunk_id in enumerate(ids)}
        self._total_tokens = int(lengths.sum())

    def _set_occurrences(self, tokens: IdArray, rows: IdArray, positions: IdArray) -> None:
        """Occurrences sorted by token, then row, then position."""
        self._rows = rows.astype(np.int32)
        self._positions = positions.astype(np.int32)
        per_token = np.bincount(tokens, minlength=len(self._vocabulary))
        self._offsets = np.concatenate([[0], np.cumsum(per_token)]).astype(np.int64)
        self._extra, self._extra_count = {}, 0

    def _token_id(self, token: str) -> int:
        return self._vocabulary.setdefault(token, len(self._vocabulary))

    # Keeping in step with writes --------------------------------------------------------
    def add(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        tokenized = self._tokenizer.tokens(texts)
        needed = self._size + len(ids)
        if needed > len(self._ids):
            capacity = max(needed, 2 * len(self._ids), 1024)
            self._ids = _grown(self._ids, capacity, self._size)
            self._lengths = _grown(self._lengths, capacity, self._size)
            self._alive = _grown(self._alive, capacity, self._size)
        for chunk_id, tokens in zip(ids, tokenized, strict=True):
            row = self._size
            self._ids[row], self._lengths[row], self._alive[row] = chunk_id, len(tokens), True
            self._row_of[int(chunk_id)] = row
            self._size += 1
            self._total_tokens += len(tokens)
            for position, token in enumerate(tokens):
                rows, positions = self._extra.setdefault(self._token_id(token), ([], []))
                rows.append(row)
                positions.append(position)
            self._extra_count += len(tokens)
        self._compact_if_worth_it()

    def remove(self, ids: Iterable[int]) -> None:
        for chunk_id in ids:
            row = self._row_of.pop(int(chunk_id), None)
            if row is not None:
                self._alive[row] = False
                self._total_tokens -= int(self._lengths[row])
        self._compact_if_worth_it()

    def _compact_if_worth_it(self) -> None:
        dead = self._size - len(self._row_of)
        share = COMPACT_SHARE * max(len(self._rows), 1)
        if dead > COMPACT_SHARE * max(self._size, 1024) or self._extra_count > max(share, 4096):
            self._compact()

    def _compact(self) -> None:
        """Fold the added occurrences into the arrays and drop deleted rows."""
        token_parts = [
            np.repeat(np.arange(len(self._offsets) - 1, dtype=np.int64), np.diff(self._offsets))
        ]
        row_parts = [self._rows.astype(np.int64)]
        position_parts = [self._positions.astype(np.int64)]
        for token_id, (extra_rows, extra_positions) in self._extra.items():
            token_parts.append(np.full(len(extra_rows), token_id, dtype=np.int64))
            row_parts.append(np.asarray(extra_rows, dtype=np.int64))
            position_parts.append(np.asarray(extra_positions, dtype=np.int64))
        tokens, rows = np.concatenate(token_parts), np.concatenate(row_parts)
        positions = np.concatenate(position_parts)
        alive = self._alive[: self._size]
        keep = alive[rows]
        new_row = np.cumsum(alive) - 1
        tokens, rows, positions = tokens[keep], new_row[rows[keep]], positions[keep]
        self._set_rows(self._ids[: self._size][alive], self._lengths[: self._size][alive])
        # Added rows come after the old ones, so a stable sort by token keeps rows in order.
        order = _stable_order(tokens)
        self._set_occurrences(tokens[order], rows[order], positions[order])

    # Searching --------------------------------------------------------------------
    def query_phrases(self, phrases: Sequence[str]) -> list[tuple[str, ...]]:
        """Each query phrase's tokens (cached: a query costs an FTS5 call only for new words)."""
        missing = [phrase for phrase in phrases if phrase not in self._phrase_cache]
        if missing:
            if len(self._phrase_cache) > PHRASE_CACHE:
                self._phrase_cache.clear()
            for phrase, tokens in zip(missing, self._tokenizer.tokens(missing), strict=True):
                self._phrase_cache[phrase] = tuple(tokens)
        return [self._phrase_cache[phrase] for phrase in phrases]

    def top_k(
        self,
        phrases: Sequence[Sequence[str]],
        k: int,
        allowed_ids: Iterable[int] | None = None,
    ) -> list[tuple[int, float]]:
        """The ``k`` best chunks by FTS5's BM25 for these phrases (each a token sequence that
        must occur adjacent and in order, as in an FTS5 phrase query): (chunk id, score)."""
        chunks = len(self._row_of)
        if not chunks or k <= 0:
            return []
        average = self._total_tokens / chunks
        scores = np.zeros(self._size, dtype=np.float64)
        for phrase in phrases:
            rows, freqs = self._phrase_rows(phrase)
            if not len(rows):
                continue  # nothing to add; an empty phrase matches no chunk in FTS5 either
            hits = len(rows)
            idf = math.log((chunks - hits + 0.5) / (hits + 0.5))
            if idf <= 0.0:
                idf = 1e-6
            lengths = self._lengths[rows]
            # Evaluated in the order of fts5_aux.c, so the doubles come out the same.
            scores[rows] += idf * (
                (freqs * (K1 + 1.0)) / (freqs + K1 * (1 - B + B * lengths / average))
            )
        if allowed_ids is not None:
            permitted = np.zeros(self._size, dtype=np.bool_)
            rows_allowed = [self._row_of[i] for i in allowed_ids if i in self._row_of]
            permitted[np.asarray(rows_allowed, dtype=np.int64)] = True
            scores[~permitted] = 0.0
        candidates = np.flatnonzero(scores)
        if len(candidates) > k:
            candidates = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
        chosen_ids = self._ids[candidates]
        # Best first; equal scores by chunk id, so the order is stable.
        order = np.lexsort((chosen_ids, -scores[candidates]))
        return [(int(chosen_ids[i]), float(scores[candidates[i]])) for i in order]

    def _phrase_rows(self, phrase: Sequence[str]) -> tuple[IdArray, FloatArray]:
        """The live rows holding the phrase, and how many times each holds it."""
        if not phrase:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        rows, positions = self._occurrences(phrase[0])
        if len(phrase) > 1:
            # An occurrence of token i at position p + i continues a match starting at p.
            stride = np.int64(1) << 32
            keys = rows * stride + positions
            for offset, token in enumerate(phrase[1:], start=1):
                next_rows, next_positions = self._occurrences(token)
                keys = np.intersect1d(
                    keys, next_rows * stride + (next_positions - offset), assume_unique=True
                )
            rows = keys // stride
        rows = rows[self._alive[rows]]
        if not len(rows):
            return rows, np.empty(0, dtype=np.float64)
        starts = np.flatnonzero(np.concatenate([[True], rows[1:] != rows[:-1]]))
        freqs = np.diff(np.append(starts, len(rows))).astype(np.float64)
        return rows[starts], freqs

    def _occurrences(self, token: str) -> tuple[IdArray, IdArray]:
        token_id = self._vocabulary.get(token)
        if token_id is None:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        # Tokens first seen after the last compaction have no slice in the arrays yet.
        start, end = 0, 0
        if token_id + 1 < len(self._offsets):
            start, end = int(self._offsets[token_id]), int(self._offsets[token_id + 1])
        rows = self._rows[start:end].astype(np.int64)
        positions = self._positions[start:end].astype(np.int64)
        extra = self._extra.get(token_id)
        if extra is not None:
            rows = np.concatenate([rows, np.asarray(extra[0], dtype=np.int64)])
            positions = np.concatenate([positions, np.asarray(extra[1], dtype=np.int64)])
        return rows, positions

    def close(self) -> None:
        self._tokenizer.close()


class StoreKeywords:
    """The store's index, derived from its chunks like the vector matrix: built only once a
    warm-up asks for it (a one-shot search is cheaper through FTS5), kept in step with the
    store's commits, rebuilt when the database's ``PRAGMA data_version`` says another
    process has written. Called under the store's lock."""

    def __init__(self) -> None:
        self.wanted = False
        self._index: KeywordIndex | None = None
        self._version: int | None = None

    def after_commit(self, old_ids: list[int], new_ids: list[int], texts: Sequence[str]) -> None:
        if self._index is None:
            return
        try:
            self._index.remove(old_ids)
            if new_ids:
                self._index.add(new_ids, texts)
        except sqlean.Error:
            self._version = None  # the commit stands; the index is rebuilt at the next search

    def current(self, version: int, chunks: Callable[[], list[Any]]) -> KeywordIndex:
        """The index for this data version; ``chunks`` reads every (id, text) to rebuild it."""
        if self._index is None or version != self._version:
            self._version = None  # until the build below has finished
            rows = chunks()
            self._index = self._index or KeywordIndex()
            self._index.replace_all([row[0] for row in rows], [row[1] for row in rows])
            self._version = version
        return self._index

    @property
    def nbytes(self) -> int:
        return self._index.nbytes if self._index is not None else 0

    def close(self) -> None:
        if self._index is not None:
            self._index.close()


def _expand(occurrences: IdArray, piece_tokens: list[list[int]]) -> tuple[IdArray, IdArray]:
    """The token ids of a sequence of piece occurrences, in order, and each piece's count.
    Most pieces are one token, written straight in; the others (``4.82``, ``company's``)
    are spread over their tokens."""
    counts = np.fromiter(map(len, piece_tokens), np.int64, len(piece_tokens))
    flat = np.fromiter(chain.from_iterable(piece_tokens), np.int64, int(counts.sum()))
    starts = np.cumsum(counts) - counts
    per_piece = counts[occurrences]
    first = np.cumsum(per_piece) - per_piece
    token = np.empty(int(per_piece.sum()), dtype=np.int64)
    single = per_piece == 1
    token[first[single]] = flat[starts[occurrences[single]]]
    several = np.flatnonzero(per_piece > 1)
    spread = per_piece[several]
    within = np.arange(int(spread.sum())) - np.repeat(np.cumsum(spread) - spread, spread)
    source = np.repeat(starts[occurrences[several]], spread) + within
    token[np.repeat(first[several], spread) + within] = flat[source]
    return token, per_piece


def _stable_order(tokens: IdArray) -> IdArray:
    """A stable argsort of token ids (below 2**32): two 16-bit radix passes, several times
    faster than a general stable sort. Occurrences arrive in (row, position) order, so the
    result is sorted by token, then row, then position."""
    order: IdArray = np.argsort(tokens.astype(np.uint16), kind="stable")  # the low 16 bits
    high = tokens >> 16
    if high.any():
        order = order[np.argsort(high[order].astype(np.uint16), kind="stable")]
    return order


@contextmanager
def _no_gc() -> Iterator[None]:
    """Millions of short-lived strings and lists make the cyclic collector walk them over
    and over (half the build time at 100k chunks); none of them form cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _grown(array: npt.NDArray[Any], capacity: int, size: int) -> npt.NDArray[Any]:
    grown = np.empty(capacity, dtype=array.dtype)
    grown[:size] = array[:size]
    return grown
