"""Words and BM25 for the fake embedder and the in-memory store (``FakeOpenSearch`` analyses
text as its mapping says instead: ``tests/fakes/opensearch.py``).

Close enough to SQLite FTS5 (``unicode61 remove_diacritics``) and OpenSearch's ``standard``
analyzer for tests: lowercase, accents dropped, split on anything not a letter or digit,
plural ``s`` stripped (a crude stand-in for Porter stemming). Not a phrase matcher: a query
term such as ``10-K`` matches chunks holding ``10`` or ``k`` anywhere.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

from alex.domain.keywords import STOPWORDS

_TOKEN = re.compile(r"[^\W_]+")
# BM25's usual constants (FTS5 and OpenSearch use these too).
K1 = 1.2
B = 0.75


def _stem(token: str) -> str:
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


def tokens(text: str) -> list[str]:
    """The indexed terms of ``text``, in order."""
    folded = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    return [_stem(token) for token in _TOKEN.findall(plain)]


def content_words(text: str) -> list[str]:
    """The terms of ``text`` without stopwords (what a bag-of-words vector is made of)."""
    return [token for token in tokens(text) if token not in STOPWORDS]


def bm25(query: Sequence[str], documents: Sequence[Sequence[str]]) -> list[float]:
    """BM25 of each tokenised document for the query terms; 0.0 where none occurs."""
    if not documents:
        return []
    average = sum(len(document) for document in documents) / len(documents) or 1.0
    counts = [Counter(document) for document in documents]
    wanted = set(query)
    frequency = {term: sum(1 for count in counts if term in count) for term in wanted}
    scores = []
    for document, count in zip(documents, counts, strict=True):
        score = 0.0
        for term in wanted:
            tf = count.get(term, 0)
            if not tf:
                continue
            df = frequency[term]
            idf = math.log((len(documents) - df + 0.5) / (df + 0.5) + 1.0)
            norm = tf + K1 * (1 - B + B * len(document) / average)
            score += idf * tf * (K1 + 1) / norm
        scores.append(score)
    return scores
