"""An OpenSearch client in memory: the calls and query DSL ``OpenSearchStore`` uses, evaluated.

Unlike the scripted transport of ``tests/unit/test_opensearch_store.py`` (which pins the
exact requests), this one keeps state and answers every request from it, so the real
``OpenSearchStore`` can run the ``VectorStore`` contract suite. Writes are visible at once
(AOSS makes them visible after a refresh interval; the unit tests cover that window).

Covered: ``indices.exists/create/get_mapping``; ``bulk`` (``index`` with generated ids,
``delete`` by id); ``search`` with ``match_all``, ``bool`` (``filter``/``must``/``should``
+ ``minimum_should_match``), ``term``, ``terms``, ``range``, ``match_phrase`` (Lucene's
BM25, ``phrase_bm25``) and ``knn`` (Faiss ``innerproduct`` scores, with a filter), ``size``,
``sort`` by one field, ``search_after`` and ``_source`` includes. Scores are float32, as
Lucene's.

Text is analysed as the chunk index's ``alex_text`` analyzer does (pattern tokenizer on
letter-and-digit runs, lowercase, asciifolding, Porter), modelled by FTS5's ``porter
unicode61 remove_diacritics 2`` tokenizer: the same words (tests/unit/test_hybrid_agreement.py
checks the pattern against FTS5), the same Porter algorithm. ``create`` refuses any other
analyzer, so the fake cannot silently model a mapping the store no longer creates.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np
from opensearchpy.exceptions import NotFoundError, RequestError

from alex.adapters.keyword_index import Fts5Tokenizer
from alex.adapters.opensearch import OpenSearchStore  # the one import of the real store
from alex.adapters.opensearch.mappings import WORD_SEPARATORS
from tests.fakes.text import K1, B

Json = dict[str, Any]
_RANGE: dict[str, Callable[[Any, Any], bool]] = {
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
}


def _values(source: Json, field: str) -> list[Any]:
    value = source.get(field)
    return value if isinstance(value, list) else [] if value is None else [value]


def innerproduct_score(dot: float) -> float:
    """Faiss ``innerproduct`` as OpenSearch scores it: d = -x.y; 1/(1+d) if d >= 0, else 1-d."""
    distance = -dot
    return 1.0 / (1.0 + distance) if distance >= 0 else 1.0 - distance


# The analyzer this fake models (see the module docstring).
MODELLED_ANALYSIS: Json = {
    "tokenizer": {"alex_words": {"type": "pattern", "pattern": WORD_SEPARATORS}},
    "analyzer": {
        "alex_text": {
            "type": "custom",
            "tokenizer": "alex_words",
            "filter": ["lowercase", "asciifolding", "porter_stem"],
        }
    },
}
# Field lengths below this are kept exactly in Lucene's one-byte norms (SmallFloat).
_EXACT_LENGTHS = 24


def norm_length(length: int) -> int:
    """A field's length as Lucene's one-byte norm keeps it (``SmallFloat.intToByte4`` and back):
    exact below 24, above that only the 4 leading bits of ``length - 24``."""
    if length < _EXACT_LENGTHS:
        return length
    rest = length - _EXACT_LENGTHS
    shift = max(rest.bit_length() - 4, 0)
    return (rest >> shift << shift) + _EXACT_LENGTHS


def phrase_bm25(phrase: Sequence[str], documents: Sequence[Sequence[str]]) -> list[float]:
    """Lucene's BM25 (``BM25Similarity``, the OpenSearch default) of a phrase in each document.

    ``idf * tf / (tf + k1 * (1 - b + b * dl / avgdl))``: no ``(k1 + 1)`` factor since Lucene 8
    (LUCENE-8563); ``idf = ln(1 + (N - n + 0.5) / (n + 0.5))``, summed over the phrase's terms
    (https://lucene.apache.org/core/9_12_0/core/org/apache/lucene/search/similarities/BM25Similarity.html);
    tf the phrase's occurrences; dl as the norm keeps it, avgdl exact. N, n and avgdl are over
    the whole index (deleted-but-unmerged documents aside, which this fake never has).
    FTS5's idf is ``ln((N - n + 0.5) / (n + 0.5))``, floored at 1e-6, with ``(k1 + 1)``.
    """
    if not documents or not phrase:
        return [0.0] * len(documents)
    average = sum(map(len, documents)) / len(documents)
    counts = [Counter(document) for document in documents]
    idf = 0.0
    for term in phrase:
        df = sum(1 for count in counts if term in count)
        idf += math.log(1.0 + (len(documents) - df + 0.5) / (df + 0.5))
    scores = []
    for document in documents:
        tf = sum(
            1
            for start in range(len(document) - len(phrase) + 1)
            if list(document[start : start + len(phrase)]) == list(phrase)
        )
        norm = K1 * (1 - B + B * norm_length(len(document)) / average) if average else K1
        scores.append(idf * tf / (tf + norm) if tf else 0.0)
    return scores


def float32(score: float) -> float:
    return float(np.float32(score))


class _Index:
    def __init__(self, body: Json) -> None:
        self.mappings: Json = body.get("mappings", {})
        self.sources: dict[str, Json] = {}


class FakeOpenSearch:
    """``opensearchpy.OpenSearch`` for one collection, in memory."""

    def __init__(self) -> None:
        self.indices = self  # client.indices.exists(...) and friends live here too
        self._indexes: dict[str, _Index] = {}
        self._analyzer = Fts5Tokenizer()
        self._analysed: dict[str, list[str]] = {}
        self._ids = (f"fake{n}" for n in itertools.count(1))
        self.requests: list[tuple[str, Any]] = []

    # Indexes ------------------------------------------------------------------------------
    def exists(self, index: str) -> bool:
        return index in self._indexes

    def create(self, index: str, body: Json) -> Json:
        if index in self._indexes:
            raise RequestError(400, "resource_already_exists_exception", {"error": {}})
        analysis = body.get("settings", {}).get("analysis")
        if analysis is not None and analysis != MODELLED_ANALYSIS:
            raise AssertionError(f"the fake models only {MODELLED_ANALYSIS}, not {analysis}")
        self._indexes[index] = _Index(body)
        return {"acknowledged": True, "index": index}

    def get_mapping(self, index: str) -> Json:
        return {index: {"mappings": json.loads(json.dumps(self._index(index).mappings))}}

    def _index(self, name: str) -> _Index:
        if name not in self._indexes:
            info = {
                "error": {"type": "index_not_found_exception", "reason": f"no such index [{name}]"}
            }
            raise NotFoundError(404, "index_not_found_exception", info)
        return self._indexes[name]

    # Documents ----------------------------------------------------------------------------
    def bulk(self, body: str) -> Json:
        self.requests.append(("bulk", body))
        lines = [json.loads(line) for line in body.splitlines() if line]
        items: list[Json] = []
        position = 0
        while position < len(lines):
            ((action, meta),) = lines[position].items()
            index = self._index(meta["_index"])
            if action == "index":
                doc_id = next(self._ids)
                index.sources[doc_id] = lines[position + 1]
                items.append({"index": {"_id": doc_id, "status": 201, "result": "created"}})
                position += 2
            elif action == "delete":
                found = index.sources.pop(meta["_id"], None) is not None
                result = "deleted" if found else "not_found"
                items.append(
                    {
                        "delete": {
                            "_id": meta["_id"],
                            "status": 200 if found else 404,
                            "result": result,
                        }
                    }
                )
                position += 1
            else:
                raise AssertionError(f"bulk action {action} is not used by the store")
        errors = any(next(iter(item.values()))["status"] >= 300 for item in items)
        return {"took": 1, "errors": errors, "items": items}

    def search(self, index: str, body: Json) -> Json:
        self.requests.append(("search", body))
        sources = self._index(index).sources
        scored = self._evaluate(body.get("query", {"match_all": {}}), sources)
        hits: list[Json] = [
            {"_id": doc_id, "_score": float32(score), "_source": sources[doc_id]}
            for doc_id, score in scored.items()
        ]
        sort = body.get("sort")
        if sort:
            ((field, order),) = sort[0].items()
            hits.sort(key=lambda hit: hit["_source"][field], reverse=order == "desc")
            for hit in hits:
                hit["sort"] = [hit["_source"][field]]
            after = body.get("search_after")
            if after is not None:
                hits = [hit for hit in hits if hit["sort"][0] > after[0]]
        else:
            hits.sort(key=lambda hit: -hit["_score"])
        hits = hits[: body.get("size", 10)]
        wanted = body.get("_source", True)
        for hit in hits:
            if wanted is False:
                del hit["_source"]
            elif isinstance(wanted, dict):
                hit["_source"] = {
                    k: v for k, v in hit["_source"].items() if k in wanted["includes"]
                }
        return {"hits": {"total": {"value": len(hits)}, "hits": hits}}

    def close(self) -> None:
        self._analyzer.close()

    def _tokens(self, text: str) -> list[str]:
        if text not in self._analysed:
            self._analysed[text] = self._analyzer.tokens([text])[0]
        return self._analysed[text]

    # Query DSL ----------------------------------------------------------------------------
    def _evaluate(self, query: Json, sources: dict[str, Json]) -> dict[str, float]:
        """Matching ids and their scores (1.0 for filters, as a constant-score query)."""
        ((kind, spec),) = query.items()
        if kind == "match_all":
            return dict.fromkeys(sources, 1.0)
        if kind == "bool":
            return self._bool(spec, sources)
        if kind == "match_phrase":
            ((field, phrase),) = spec.items()
            ids = list(sources)
            texts = [self._tokens(str(sources[doc_id].get(field, ""))) for doc_id in ids]
            scores = phrase_bm25(self._tokens(phrase), texts)
            return {doc_id: score for doc_id, score in zip(ids, scores, strict=True) if score > 0}
        if kind == "knn":
            return self._knn(spec, sources)
        return {
            doc_id: 1.0 for doc_id, source in sources.items() if self._holds(kind, spec, source)
        }

    @staticmethod
    def _holds(kind: str, spec: Json, source: Json) -> bool:
        ((field, wanted),) = spec.items()
        present = _values(source, field)
        if kind == "term":
            return wanted in present
        if kind == "terms":
            return any(value in wanted for value in present)
        if kind == "range":
            return any(
                all(_RANGE[op](value, bound) for op, bound in wanted.items()) for value in present
            )
        raise AssertionError(f"query {kind} is not used by the store")

    def _bool(self, spec: Json, sources: dict[str, Json]) -> dict[str, float]:
        scores = dict.fromkeys(sources, 0.0)
        for clause in spec.get("filter", []):
            matched = self._evaluate(clause, sources)
            scores = {doc_id: score for doc_id, score in scores.items() if doc_id in matched}
        for clause in spec.get("must", []):
            matched = self._evaluate(clause, sources)
            scores = {
                doc_id: score + matched[doc_id]
                for doc_id, score in scores.items()
                if doc_id in matched
            }
        should = spec.get("should", [])
        if should:
            needed = spec.get("minimum_should_match", 1)
            results = [self._evaluate(clause, sources) for clause in should]
            scores = {
                doc_id: score + sum(result.get(doc_id, 0.0) for result in results)
                for doc_id, score in scores.items()
                if sum(doc_id in result for result in results) >= needed
            }
        if not spec.get("must") and not should:
            scores = dict.fromkeys(scores, 0.0)
        return scores

    def _knn(self, spec: Json, sources: dict[str, Json]) -> dict[str, float]:
        ((field, knn),) = spec.items()
        allowed = self._evaluate(knn["filter"], sources) if "filter" in knn else sources
        vector = knn["vector"]
        scored = {
            doc_id: innerproduct_score(
                sum(a * b for a, b in zip(vector, sources[doc_id][field], strict=True))
            )
            for doc_id in allowed
        }
        best = sorted(scored, key=lambda doc_id: -scored[doc_id])[: knn["k"]]
        return {doc_id: scored[doc_id] for doc_id in best}


def fake_opensearch_store(dimension: int, **options: Any) -> OpenSearchStore:
    """The real ``OpenSearchStore`` on a ``FakeOpenSearch``; integrity checks see every version."""
    defaults: Json = {
        "settle_seconds": 0.0,
        "sleep": lambda seconds: None,
        "index_prefix": "contract",
    }
    return OpenSearchStore(
        cast(Any, FakeOpenSearch()), dimension=dimension, **{**defaults, **options}
    )
