"""Hybrid ranking: the one fusion of semantic and keyword hits that every store's results go
through (it runs in the search use case, so both stores rank alike).

A chunk's hybrid score is a convex mix of what each list says about it::

    score = w * cosine + (1 - w) * (bm25 / best bm25) * coverage

* ``cosine`` is the semantic score as it is: it already lies on one fixed scale for every
  query, so an unconvincing semantic list stays unconvincing (min-max scaling would make its
  best hit look perfect);
* BM25 has no fixed scale (it grows with the query's length and differs between SQLite's
  FTS5 and OpenSearch), so it is divided by the list's best score;
* ``coverage`` is the share of the query's content words the chunk contains. It keeps a
  chunk that matched one common word from counting as a strong keyword hit: exactly what
  buries paraphrases under rank fusion, while identifiers and numbers, which a good hit
  contains, keep their full weight.

Worked example, ``w = 0.6``, query "Northwind gross margin" (content words: northwind, gross,
margin). Chunk A: cosine 0.52, BM25 8.0 (the best), contains all three words: 0.6 * 0.52 +
0.4 * 1.0 * 1.0 = 0.712. Chunk B: cosine 0.61, BM25 2.0, contains "margin" only: 0.6 * 0.61 +
0.4 * 0.25 * (1/3) = 0.399. Chunk C: semantic only, cosine 0.66: 0.396. A ranks first. The
weight and the method were chosen on half of bench/eval's queries and checked on the other
half (docs/performance.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from alex.domain.keywords import keyword_terms
from alex.domain.models import ChunkHit

SEMANTIC_WEIGHT = 0.6

_WORD = re.compile(r"\w+")


def content_words(text: str) -> frozenset[str]:
    """The case-folded words of ``text`` that keyword search matches on (stopwords dropped)."""
    return frozenset(
        word.casefold() for term in keyword_terms(text) for word in _WORD.findall(term)
    )


def coverage(query_words: frozenset[str], text: str) -> float:
    """The share of ``query_words`` that occur in ``text`` (0.0 when there are none)."""
    if not query_words:
        return 0.0
    found = {word.casefold() for word in _WORD.findall(text)} & query_words
    return len(found) / len(query_words)


def hybrid_fusion(
    query: str,
    semantic: Sequence[ChunkHit],
    keyword: Sequence[ChunkHit],
    k: int,
    semantic_weight: float = SEMANTIC_WEIGHT,
) -> list[ChunkHit]:
    """The best ``k`` chunks of both lists by the module's hybrid score, best first."""
    scores: dict[tuple[str, int], float] = {}
    first_seen: dict[tuple[str, int], ChunkHit] = {}
    for hit in semantic:
        key = (hit.document_id, hit.chunk_ordinal)
        scores[key] = semantic_weight * hit.score
        first_seen[key] = hit
    best = max((hit.score for hit in keyword), default=0.0)
    if best > 0:
        words = content_words(query)
        for hit in keyword:
            key = (hit.document_id, hit.chunk_ordinal)
            share = (1 - semantic_weight) * hit.score / best * coverage(words, hit.text)
            scores[key] = scores.get(key, 0.0) + share
            first_seen.setdefault(key, hit)
    ordered = sorted(scores, key=lambda key: (-scores[key], key))
    return [replace(first_seen[key], score=scores[key]) for key in ordered[:k]]
